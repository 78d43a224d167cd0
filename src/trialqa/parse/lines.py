"""One line of parsed text: its spaces, its list-item marker, an inclusion/exclusion heading.

`format_items` renders criteria text as one item a line; `common.reflow` and
`common.split_criteria` build on these.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200b\ufeff]+")
_BULLET = re.compile(
    r"^(?P<indent>\s*)(?:[-*\u2022\u00b7\u25aa\u25cf\u2013o]|\d{1,2}[.)]|[a-zA-Z][.)]|\(\w{1,3}\)|[ivx]{1,4}[.)])"
    r"(?=\s|$)\s*(?P<text>.*)$"
)
_DIGIT_ITEM = re.compile(r"^(?P<indent>\s*)\d{1,2}[.)\u3001](?=\S)(?P<text>\D.*)$")
_CRITERIA_COLON = re.compile(
    r"^\s*(?:[-*\u2022]\s*)?(?P<head>(?:[a-z]+\s+)?(?P<kind>inclusion|exclusion)"
    r"(?:\s+criteri(?:a|on)(?:\s+[a-z/-]+){0,3})?(?:\s*\([^)]{0,40}\))?)\s*:\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_CRITERIA_LINE = re.compile(
    r"^\s*(?:[-*\u2022]\s*)?(?P<head>(?:[a-z]+\s+)?(?P<kind>inclusion|exclusion)\s+criteri(?:a|on)"
    r"(?:\s*\([^)]{0,40}\))?)\s*(?P<rest>)$",
    re.IGNORECASE,
)


def criteria_heading(line: str) -> re.Match[str] | None:
    """"Inclusion Criteria:", "- EXCLUSION CRITERIA", "Inclusion: adults" -> match with kind/head/rest."""
    if "clusion" not in line and "CLUSION" not in line:
        return None
    return _CRITERIA_COLON.match(line) or _CRITERIA_LINE.match(line)


def clean_line(line: str) -> str:
    """Normalise the spaces inside one line and strip it."""
    return _SPACES.sub(" ", line).strip()


def is_item(line: str) -> bool:
    return bool(_BULLET.match(line) or _DIGIT_ITEM.match(line))


def split_inline_enumeration(line: str) -> list[str]:
    """Split `1.foo; 2.bar; 3. baz` written on one line into its numbered items."""
    if not re.match(r"^\s*1\s*[.)\u3001]", line):
        return [line]
    starts = [0]
    pos = 0
    for k in range(2, 100):
        match = re.compile(rf"(?<=[;.:,])\s*{k}\s*[.)\u3001]").search(line, pos)
        if not match:
            break
        starts.append(match.start())
        pos = match.end()
    if len(starts) < 2:
        return [line]
    ends = starts[1:] + [len(line)]
    return [line[a:b].strip(" ;") for a, b in zip(starts, ends) if line[a:b].strip(" ;")]


def format_items(text: str, wrapped: bool = False) -> str:
    """Render criteria as one item per line with `- ` bullets, nesting shown by two spaces.

    Continuation lines join their item; plain paragraphs stay lines. With `wrapped`
    (registry XML) an item can only start after a blank line, so a wrapped line that
    happens to begin "(AZT)" or "2." stays in its sentence.
    """
    rows: list[tuple[int | None, str]] = []  # (indent or None for plain text, text)
    blank_before = True
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n"):
        if not raw.strip():
            blank_before = True
            continue
        pieces = split_inline_enumeration(raw)
        for piece in pieces:
            match = _BULLET.match(piece) or _DIGIT_ITEM.match(piece)
            if wrapped and rows and not blank_before:
                indent, prev = rows[-1]
                rows[-1] = (indent, f"{prev} {clean_line(piece)}".strip())
            elif len(pieces) > 1:
                indent = len(raw) - len(raw.lstrip())
                rows.append((indent, clean_line(re.sub(r"^\s*\d{1,2}\s*[.)\u3001]\s*", "", piece))))
            elif match:
                rows.append((len(match.group("indent")), clean_line(match.group("text"))))
            elif rows and not blank_before:
                indent, prev = rows[-1]
                rows[-1] = (indent, f"{prev} {clean_line(piece)}".strip())
            else:
                rows.append((None, clean_line(piece)))
            blank_before = False
    out: list[str] = []
    stack: list[int] = []
    for indent, body in rows:
        if not body or body in {"-", "*"}:
            continue
        if indent is None:
            stack = []
            out.append(body)
            continue
        while stack and stack[-1] > indent:
            stack.pop()
        if not stack or indent > stack[-1]:
            stack.append(indent)
        out.append("  " * (len(stack) - 1) + "- " + body)
    return "\n".join(out)
