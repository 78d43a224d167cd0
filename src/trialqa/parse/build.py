"""`Draft`: the mutable record a parser fills in before it becomes a `Trial`."""

from __future__ import annotations

import re
from pathlib import Path

from trialqa.types import CANONICAL_SECTIONS, Section, Source, SourceFormat, Trial, TrialFields

_NCT = re.compile(r"\bNCT\d{8}\b")


def find_nct(text: str) -> str | None:
    match = _NCT.search(text)
    return match.group(0) if match else None


class Draft:
    """Sections in document order plus the structured fields, keyed to one source file."""

    def __init__(self, path: Path, fmt: SourceFormat) -> None:
        self.path = path
        self.format: SourceFormat = fmt
        self.title = ""
        self.nct_id: str | None = None
        self.fields = TrialFields()
        self.sections: list[Section] = []

    def add(self, name: str, text: str, heading: str = "") -> None:
        """Append a section; empty text is skipped, the name must be canonical."""
        text = "\n".join(line.rstrip() for line in text.strip().split("\n"))
        text = re.sub(r"\n{3,}", "\n\n", text)
        if not text:
            return
        if name.split(":")[0] not in CANONICAL_SECTIONS:
            raise ValueError(f"not a canonical section name: {name!r}")
        self.sections.append(Section(name=name, heading=heading.strip(), text=text))

    def finish(self) -> Trial:
        doc_id = self.path.stem
        return Trial(
            trial_id=self.nct_id or doc_id,
            nct_id=self.nct_id,
            doc_id=doc_id,
            title=self.title,
            source=Source(path=str(self.path), format=self.format),
            sections=self.sections,
            fields=self.fields,
        )
