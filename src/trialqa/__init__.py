"""trialqa: local, offline, cited question answering over clinical-trial records.

Heavy libraries (torch, faiss, llama_cpp, gradio) are imported lazily by the
functions that need them, so importing trialqa is instant.
"""

from trialqa.settings import set_offline

set_offline()

__version__ = "0.1.0"

__all__ = ["__version__"]
