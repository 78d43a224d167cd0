"""Citations are the system's job: the model sees short keys (S1, S2 ...), code maps
them back to (trial, section, quote) and drops any key that was not in the context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from trialqa.evidence import Sentence
from trialqa.types import Citation, Trial

KEY_GROUP_RE = re.compile(r"[\[(【]\s*((?:source\s*)?S\d+(?:\s*(?:[,;]|and)\s*(?:source\s*)?S?\d+)*)\s*[\])】]", re.IGNORECASE)
KEY_RE = re.compile(r"S?(\d+)", re.IGNORECASE)
BARE_KEY_RE = re.compile(r"\b(?:source\s+)?S(\d+)\b")


def label(trial: Trial, section: str) -> str:
    """The inline citation shown to users, e.g. '[NCT04232592 · Eligibility]'."""
    return f"[{trial.nct_id or trial.doc_id} · {section}]"


def citation(trial: Trial, sent: Sentence) -> Citation:
    return Citation(
        trial_id=trial.trial_id, nct_id=trial.nct_id, doc_id=trial.doc_id,
        section=sent.section, quote=sent.text, title=trial.title,
    )


@dataclass
class SourceBook:
    """The numbered evidence put in a prompt, and the citations the answer actually used."""

    trials: dict[str, Trial]
    sources: list[Sentence] = field(default_factory=list)
    used: list[int] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def add(self, sent: Sentence) -> str:
        for i, s in enumerate(self.sources):
            if s.trial_id == sent.trial_id and s.text == sent.text:
                return f"S{i + 1}"
        self.sources.append(sent)
        return f"S{len(self.sources)}"

    def _label_for(self, n: int) -> str:
        if 1 <= n <= len(self.sources):
            if n not in self.used:
                self.used.append(n)
            s = self.sources[n - 1]
            return label(self.trials[s.trial_id], s.section)
        self.dropped.append(f"S{n}")
        return ""

    def render(self, text: str) -> str:
        """Replace key groups like [S1, S3] by trial labels; unknown keys vanish."""
        return tidy(self.render_fragment(text))

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        """Map keys while streaming: text inside a bracket is held back until it closes."""
        pending = ""
        for piece in pieces:
            pending += piece
            cut = _safe_prefix(pending)
            if cut:
                yield self.render_fragment(pending[:cut])
                pending = pending[cut:]
        if pending:
            yield self.render_fragment(pending)

    def render_fragment(self, text: str) -> str:
        """Drop label-shaped text the model wrote itself (only code writes labels), then map keys."""
        from trialqa.guards import LABEL_RE

        text = LABEL_RE.sub("", text)

        def group(m: re.Match[str]) -> str:
            labels = (self._label_for(int(k)) for k in KEY_RE.findall(m.group(1)))
            return "".join(dict.fromkeys(x for x in labels if x))

        text = KEY_GROUP_RE.sub(group, text)
        return BARE_KEY_RE.sub(lambda m: self._label_for(int(m.group(1))), text)

    def citations(self) -> list[Citation]:
        return [citation(self.trials[self.sources[n - 1].trial_id], self.sources[n - 1]) for n in self.used]


#: the same label again right after itself ("[X · Arms], [X · Arms]": two sentences of one section)
_REPEATED_LABEL_RE = re.compile(r"(\[[^\[\]\n]+ \u00b7 [^\[\]\n]+\])(?:[ \t]*(?:,|;|and)?[ \t]*\1)+")


def tidy(text: str) -> str:
    """Collapse the spaces that removed keys leave behind, and a label repeated next to itself."""
    text = _REPEATED_LABEL_RE.sub(r"\1", text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def _safe_prefix(text: str) -> int:
    """Length of the prefix that cannot be part of a citation key still being typed."""
    for opener in ("[", "(", "【"):
        i = text.rfind(opener)
        if i != -1 and not any(c in text[i:] for c in "])】"):
            return i
    m = re.search(r"\b(?:source\s*)?S\d*$", text, re.IGNORECASE)
    return m.start() if m else len(text)
