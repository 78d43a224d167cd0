"""Decide what a file is from its content: checks for unusable bytes, then sniffs the format.

Kinds: "xml", "json", "html", or a page format ("veeva-page", "medpath-page", "ctgov-page").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from lxml import etree, html

from trialqa.errors import BadInput

Kind = Literal["xml", "json", "html", "veeva-page", "medpath-page", "ctgov-page"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_VEEVA_HEADINGS = {
    "Status and phase", "Funder types", "Treatments", "Study type", "Identifiers", "Full description",
    "Volunteers", "Interventional model", "Central trial contact", "Trial contacts and locations",
}
_MEDPATH_HEADINGS = {
    "Registration Number", "Lead Sponsor", "Recruitment & Eligibility", "Target Recruitment",
    "Study & Design", "Arm && Interventions", "Brief Summary", "Trial Locations",
}
_CTGOV_MARKERS = (
    re.compile(r"^ClinicalTrials\.gov Identifier\s*:", re.M),
    re.compile(r"^Recruitment Status\s*:", re.M),
    re.compile(r"^Study Type\s*:\s*\|", re.M),
    re.compile(r"^Ages Eligible for Study\s*:", re.M),
    re.compile(r"^First Posted\s*:", re.M),
)


def decode(data: bytes, path: Path) -> str:
    """The file's text; empty, binary or non-UTF-8 content is `BadInput`."""
    if not data.strip():
        raise BadInput(f"{path}: empty file")
    if b"\x00" in data[:8192]:
        raise BadInput(f"{path}: binary content (NUL bytes), not a trial record")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise BadInput(f"{path}: not valid UTF-8 (byte 0x{bad} at offset {exc.start}); save it as UTF-8") from None
    sample = text[:8192]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise BadInput(f"{path}: binary content (control characters), not a trial record")
    return text


def page_kind(text: str) -> Kind | None:
    """Which registry site a scraped text page comes from, or None."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    head = set(lines[:200])
    if "ClinicalTrials.Veeva" in head or len(head & _VEEVA_HEADINGS) >= 3:
        return "veeva-page"
    if (lines and lines[0] == "MedPath") or any(line.endswith("by MedPath") for line in lines[-5:]) \
            or len(head & _MEDPATH_HEADINGS) >= 3:
        return "medpath-page"
    if sum(1 for marker in _CTGOV_MARKERS if marker.search(text)) >= 2:
        return "ctgov-page"
    return None


def sniff(text: str) -> Kind | None:
    """The kind of a decoded document, or None when no parser recognises it."""
    start = text.lstrip()[:512].lower()
    if start.startswith("<!doctype html") or start.startswith("<html") or re.match(r"<(head|body)\b", start):
        return "html"
    if start.startswith("<"):
        return "xml"
    if start.startswith("{") or start.startswith("["):
        return "json"
    return page_kind(text)


_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "h1", "h2", "h3", "h4",
    "h5", "h6", "ul", "ol", "li", "table", "thead", "tbody", "tr", "br", "dl", "dt", "dd", "blockquote",
    "pre", "form", "figure", "figcaption", "hr", "title",
}
_SKIP = {"script", "style", "noscript", "template", "svg", "head"}


def html_to_text(source: str, path: Path) -> str:
    """Visible text of an HTML page, one block per line; table cells end with ` | `."""
    try:
        root = html.document_fromstring(source.encode("utf-8"))
    except (etree.ParserError, ValueError) as exc:
        raise BadInput(f"{path}: unreadable HTML ({exc})") from None
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag not in _SKIP:
            if tag in _BLOCK:
                parts.append("\n")
            if tag == "li":
                parts.append("- ")
            if el.text:
                parts.append(" ".join(el.text.split(" ")).replace("\n", " "))
            for child in el:
                walk(child)
            if tag in {"td", "th"}:
                parts.append(" | ")
            if tag in _BLOCK:
                parts.append("\n")
        if el.tail:
            parts.append(el.tail.replace("\n", " "))

    body = root.find("body")
    walk(body if body is not None else root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
