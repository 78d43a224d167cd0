"""The trialqa browser chat: `python app.py`, the same page as `trialqa chat`.

GRADIO_SERVER_NAME and GRADIO_SERVER_PORT choose where it listens (127.0.0.1:7860 by default).
"""

import os

from trialqa.cli.common import fail, handle_errors
from trialqa.ui import run


def main() -> None:
    port = os.environ.get("GRADIO_SERVER_PORT", "7860")
    if not port.isdigit():
        fail(f"GRADIO_SERVER_PORT={port!r} is not a port number", 2)
    run(host=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), port=int(port))


if __name__ == "__main__":
    handle_errors(main)()
