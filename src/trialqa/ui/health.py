"""GET /healthz for the chat server: is the index loaded, can the backend answer?

    health(assistant) -> (status, body)   200 when both are ready, else 503
    route(assistant)                      the Starlette route serving it (no login needed)

The body names no question, user or file path, so a load balancer or a proxy may poll it
without a login:

    {"ready": true, "index": {"ready": true, "name": "seeds", "trials": 40},
     "backend": {"ready": true, "kind": "openai", "slots": 4}}
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

PROBE_TIMEOUT_S = 2.0


def _index(assistant: Any) -> dict[str, Any]:
    try:
        index = assistant.index
        manifest = getattr(index, "manifest", None)
        trials = int(manifest.counts.get("trials", 0)) if manifest is not None else len(index.trials)
        return {"ready": trials > 0, "name": Path(getattr(index, "path", "") or "").name or None,
                "trials": trials}
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return {"ready": False, "error": type(exc).__name__}


def _backend(assistant: Any, slots: int) -> dict[str, Any]:
    settings = assistant.settings
    if settings.backend != "openai":
        loaded = getattr(assistant, "_generator", None) is not None
        return {"ready": loaded, "kind": "in-process", "slots": 1}
    import httpx

    url = f"{(settings.base_url or '').rstrip('/')}/models"
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    try:
        response = httpx.get(url, headers=headers, timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return {"ready": False, "kind": "openai", "slots": slots, "error": type(exc).__name__}
    out: dict[str, Any] = {"ready": response.status_code == 200, "kind": "openai", "slots": slots}
    if response.status_code != 200:
        out["error"] = f"HTTP {response.status_code}"
    return out


def health(assistant: Any, slots: int = 1) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for /healthz; `slots` is the chat's concurrency."""
    index, backend = _index(assistant), _backend(assistant, slots)
    ready = bool(index["ready"] and backend["ready"])
    return (200 if ready else 503), {"ready": ready, "index": index, "backend": backend}


def route(assistant: Any, slots: int = 1):
    """`/healthz` as a Starlette route, for FastAPI(routes=...); probes run off the event loop."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def healthz(request):  # noqa: ARG001 - Starlette passes the request
        status, body = await asyncio.to_thread(health, assistant, slots)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    return Route("/healthz", healthz, methods=["GET"])
