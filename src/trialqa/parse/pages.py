"""Helpers for scraped text pages: split into heading-led segments, group key-value lines."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from trialqa.parse.build import Draft
from trialqa.parse.common import clean_line

_FLAG = re.compile(r"^[\U0001F1E6-\U0001F1FF\s]+$")


@dataclass
class Segment:
    heading: str
    lines: list[str] = field(default_factory=list)

    @property
    def values(self) -> list[str]:
        """Non-empty lines."""
        return [line for line in self.lines if line]

    @property
    def text(self) -> str:
        """Lines with paragraph breaks kept (one blank line at most)."""
        return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines)).strip()


def page_lines(text: str) -> list[str]:
    """Cleaned lines of a page; blank lines kept as "" (they separate paragraphs)."""
    return [clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def is_flag(line: str) -> bool:
    return bool(_FLAG.match(line))


def segment(lines: list[str], is_heading: Callable[[str], bool]) -> tuple[list[str], list[Segment]]:
    """(lines before the first heading, segments each led by a heading)."""
    preamble: list[str] = []
    segments: list[Segment] = []
    for line in lines:
        if line and is_heading(line):
            segments.append(Segment(line))
        elif segments:
            segments[-1].lines.append(line)
        else:
            preamble.append(line)
    return preamble, segments


class KeyValues:
    """Consecutive `heading: value` segments that share one canonical section."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.name = ""
        self.group = ""
        self.headings: list[str] = []
        self.lines: list[str] = []

    def add(self, name: str, heading: str, value: str, group: str = "") -> None:
        """Add `heading: value` to section `name`; `group` is the enclosing page heading."""
        if name != self.name:
            self.flush()
            self.name, self.group = name, group
        if value:
            self.headings.append(heading)
            self.lines.append(f"{heading}: {value}")

    def flush(self) -> None:
        if self.name and self.lines:
            self.draft.add(self.name, "\n".join(self.lines), join_heading(self.group, " / ".join(self.headings)))
        self.name, self.group, self.headings, self.lines = "", "", [], []


def join_heading(group: str, heading: str) -> str:
    """"Trial design" + "Masking" -> "Trial design > Masking"."""
    return f"{group} > {heading}" if group and heading else group or heading


def split_address(address: str) -> tuple[str | None, str | None]:
    """"Haikou, China" -> ("Haikou", "China"); postcodes are left out."""
    parts = [p.strip() for p in address.split(",") if p.strip() and not re.fullmatch(r"[\d -]+", p.strip())]
    if not parts:
        return None, None
    if len(parts) == 1:
        return None, parts[0]
    return parts[0], parts[-1]
