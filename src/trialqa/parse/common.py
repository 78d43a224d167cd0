"""Cleaning and normalisation shared by every parser.

Text: whitespace, markdown escapes, wrapped prose, criteria parts (line by line: `lines`).
Values: status, phase, study type, sex, ages, enrollment, registry enums.
"""

from __future__ import annotations

import re

from trialqa.parse.lines import clean_line, criteria_heading, format_items, is_item

_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>^~=])")


def squash(text: str | None) -> str:
    """Collapse all whitespace (newlines too) to single spaces."""
    return " ".join((text or "").split())


def unescape_markdown(text: str) -> str:
    """Drop markdown backslash escapes (`1\\*10\\^8` -> `1*10^8`)."""
    return _MD_ESCAPE.sub(r"\1", text)


def reflow(text: str | None, wrapped: bool = False) -> str:
    """Normalise a text block: unify line ends, unwrap hard-wrapped prose, keep list items.

    Paragraphs stay separated by one blank line; a list item starts its own line. With
    `wrapped` (registry XML, hard-wrapped at ~100 columns) every paragraph is one line.
    """
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    paragraphs: list[list[str]] = [[]]
    for raw in lines:
        line = clean_line(raw)
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        current = paragraphs[-1]
        if current and (wrapped or not (is_item(raw) or criteria_heading(raw))):
            current[-1] = f"{current[-1]} {line}"
        else:
            current.append(line)
    return "\n\n".join("\n".join(p) for p in paragraphs if p)


def split_criteria(text: str, wrapped: bool = False) -> list[tuple[str, str, str]]:
    """Split an eligibility criteria block into (sub-name, heading, items) parts.

    Sub-names are "Inclusion", "Exclusion", or "Criteria" for text outside those headings.
    """
    parts: list[tuple[str, str, list[str]]] = [("Criteria", "", [])]
    blank_before = True
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        match = criteria_heading(raw) if blank_before or not wrapped else None
        blank_before = not raw.strip()
        if match:
            rest = match.group("rest").strip()
            parts.append((match.group("kind").title(), squash(match.group("head")), [rest] if rest else []))
        else:
            parts[-1][2].append(raw)
    result = []
    for name, heading, lines in parts:
        body = format_items("\n".join(lines), wrapped)
        if name == "Criteria" and body.strip().rstrip(":").lower() in {"", "criteria", "eligibility criteria"}:
            continue
        if body:
            result.append((name, heading, body))
    return result


# ---------------------------------------------------------------- values

_STATUS = {
    "recruiting": "Recruiting",
    "not yet recruiting": "Not yet recruiting",
    "active, not recruiting": "Active, not recruiting",
    "active not recruiting": "Active, not recruiting",
    "enrolling by invitation": "Enrolling by invitation",
    "completed": "Completed",
    "terminated": "Terminated",
    "withdrawn": "Withdrawn",
    "suspended": "Suspended",
    "unknown": "Unknown",
    "unknown status": "Unknown",
    "available": "Available",
    "no longer available": "No longer available",
    "temporarily not available": "Temporarily not available",
    "approved for marketing": "Approved for marketing",
    "withheld": "Withheld",
}


def _key(value: str) -> str:
    return " ".join(value.replace("_", " ").lower().split())


def norm_status(value: str | None) -> str | None:
    """Registry status in the display form ("Recruiting", "Active, not recruiting", "Unknown")."""
    if not value or not value.strip():
        return None
    return _STATUS.get(_key(value), humanize(value))


def is_status(value: str) -> bool:
    return _key(value) in _STATUS


_PHASE_TOKEN = re.compile(r"\b(early\s*phase\s*1|phase\s*[1-4](?:\s*/\s*[1-4])?|n/?a|not\s+applicable)\b", re.I)


_PHASE_LINE = re.compile(
    r"\s*(?:(?:early\s*)?phase\s*[1-4](?:\s*/\s*(?:phase\s*)?[1-4])?\s*)+|\s*not applicable\s*|\s*n/a\s*", re.I
)


def norm_phase(value: str | list[str] | None) -> str | None:
    """Phase(s) in the legacy display form: "Phase 1/Phase 2", "Early Phase 1", "N/A"."""
    if not value:
        return None
    text = " ".join(value) if isinstance(value, list) else value
    text = text.replace("_", " ")
    text = re.sub(r"(?i)phase\s*(?=\d)", "Phase ", re.sub(r"(?i)phase(\d)", r"phase \1", text))
    phases: list[str] = []
    for token in _PHASE_TOKEN.findall(text):
        low = " ".join(token.lower().split())
        if low.startswith("early"):
            phases.append("Early Phase 1")
        elif low in {"na", "n/a", "not applicable"}:
            phases.append("N/A")
        else:
            for digit in re.findall(r"[1-4]", low):
                phases.append(f"Phase {digit}")
    phases = list(dict.fromkeys(phases))
    if not phases:
        return None
    if len(phases) > 1 and "N/A" in phases:
        phases.remove("N/A")
    return "/".join(phases)


def is_phase(value: str) -> bool:
    """True for a line that is only a phase ("Phase 2", "Early Phase 1", "Not Applicable")."""
    return bool(_PHASE_LINE.fullmatch(value))


def norm_study_type(value: str | None) -> str | None:
    """"Interventional", "Observational" or "Expanded Access" (qualifiers dropped)."""
    if not value or not value.strip():
        return None
    low = _key(value)
    for name in ("Interventional", "Observational", "Expanded Access"):
        if low.startswith(name.lower()):
            return name
    return humanize(value)


def norm_sex(value: str | None) -> str | None:
    low = _key(value or "")
    if low in {"all", "both", "male and female", "female and male", "all sexes"}:
        return "All"
    if low in {"female", "females", "women", "female only"}:
        return "Female"
    if low in {"male", "males", "men", "male only"}:
        return "Male"
    return None


def norm_bool(value: str | bool | None) -> bool | None:
    """Yes/No-like registry values ("Accepts Healthy Volunteers", "No Healthy Volunteers")."""
    if isinstance(value, bool) or value is None:
        return value
    low = _key(value)
    if low in {"yes", "true", "accepts healthy volunteers", "healthy volunteers"}:
        return True
    if low in {"no", "false", "no healthy volunteers"}:
        return False
    return None


_UNIT = {"year": "Years", "month": "Months", "week": "Weeks", "day": "Days", "hour": "Hours", "minute": "Minutes"}


def age_value(number: str, unit: str | None) -> str:
    """"18", "years" -> "18 Years"; singular registry forms kept as written ("1 Year")."""
    base = (unit or "year").lower().rstrip("s")
    word = _UNIT.get(base, "Years")
    if number == "1" and unit and not unit.lower().endswith("s"):
        word = word[:-1]
    return f"{number} {word}"


def norm_age(value: str | None) -> str | None:
    """A registry age ("18 Years", "N/A") as written; None when absent."""
    text = squash(value)
    if not text or _key(text) in {"n/a", "na", "none", "not applicable"}:
        return None
    return text


_AGE_RANGE = re.compile(
    r"(\d{1,3})\s*(years?|months?|weeks?|days?)?\s*(?:old\s*)?(?:to|-|\u2013|and)\s*(\d{1,3})\s*(years?|months?|weeks?|days?)?",
    re.I,
)
_AGE_MIN = re.compile(
    r"(\d{1,3})\s*(?:\+\s*)?(years?|months?|weeks?|days?)?\s*(?:\+|and (?:older|over|above)|or older|or over)", re.I
)
_AGE_MAX = re.compile(r"(?:up to|under|less than|<=?|\u2264)\s*(\d{1,3})\s*(years?|months?|weeks?|days?)?", re.I)


def parse_age_range(text: str) -> tuple[str | None, str | None]:
    """Ages written on a page ("18 to 65 years old", "18 Years and older") -> (min, max)."""
    match = _AGE_RANGE.search(text)
    if match:
        low_unit = match.group(2) or match.group(4)
        return age_value(match.group(1), low_unit), age_value(match.group(3), match.group(4) or low_unit)
    match = _AGE_MIN.search(text)
    if match:
        return age_value(match.group(1), match.group(2)), None
    match = _AGE_MAX.search(text)
    if match:
        return None, age_value(match.group(1), match.group(2))
    return None, None


_CRITERION_AGE = re.compile(
    r"^\s*(?:-\s*)?(?:patients?\s+|subjects?\s+|participants?\s+)?(?:aged?|age[ds]?\s+(?:is\s+)?)\b(?:\s*(?:between|from|of))?\s*(\d{1,3})\s*(years?)?\s*(?:old\s*)?(?:and|to|-|\u2013)\s*(\d{1,3})\s*(years?)?",
    re.I,
)


def ages_from_criteria(items: str) -> tuple[str | None, str | None]:
    """An age range stated by an inclusion item such as "Aged between 20 and 60"."""
    for line in items.split("\n"):
        match = _CRITERION_AGE.match(line)
        if match:
            return age_value(match.group(1), "years"), age_value(match.group(3), "years")
    return None, None


def parse_int(value: str | int | None) -> int | None:
    if isinstance(value, int):
        return value
    match = re.search(r"\d[\d,]*", value or "")
    return int(match.group(0).replace(",", "")) if match else None


def norm_enrollment_type(value: str | None) -> str | None:
    """"Actual" or "Estimated" (the registry's older "Anticipated" means estimated)."""
    low = _key(value or "")
    if not low:
        return None
    if "actual" in low:
        return "Actual"
    if any(w in low for w in ("estimat", "anticipat", "target", "expected")):
        return "Estimated"
    return humanize(value or "")


_ENUM = {
    "SINGLE_GROUP": "Single Group Assignment",
    "PARALLEL": "Parallel Assignment",
    "CROSSOVER": "Crossover Assignment",
    "FACTORIAL": "Factorial Assignment",
    "SEQUENTIAL": "Sequential Assignment",
    "NON_RANDOMIZED": "Non-Randomized",
    "NA": "N/A",
    "NONE": "None (Open Label)",
    "HEALTH_SERVICES_RESEARCH": "Health Services Research",
    "BASIC_SCIENCE": "Basic Science",
    "SUPPORTIVE_CARE": "Supportive Care",
    "DEVICE_FEASIBILITY": "Device Feasibility",
    "ECT": "ECT",
    "OTHER_GOV": "Other Government",
    "YES": "Yes",
    "NO": "No",
    "ALL": "All",
}


def humanize(value: str) -> str:
    """A registry enum ("ACTIVE_COMPARATOR") in display form ("Active Comparator")."""
    value = value.strip()
    if value in _ENUM:
        return _ENUM[value]
    if re.fullmatch(r"[A-Z0-9_]+", value) and ("_" in value or len(value) > 3):
        return " ".join(w.capitalize() for w in value.split("_"))
    return value


_GLUE = re.compile(r"(?<=[a-z0-9)\]%])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def split_glued(row: str, columns: int) -> list[str]:
    """Split a table row whose cells were scraped without separators ("NameTime").

    Cells meet where a lower-case letter runs into a capital; when there are more such
    places than cell breaks, the last ones are used.
    """
    cuts = [m.start() for m in _GLUE.finditer(row) if m.start() > 0 and row[m.start() - 1] != " "]
    if columns < 2 or not cuts:
        return [row.strip()]
    cuts = cuts[-(columns - 1) :]
    bounds = [0, *cuts, len(row)]
    return [row[a:b].strip() for a, b in zip(bounds, bounds[1:])]


def split_header_cells(header: str) -> list[str]:
    """Cell names of a glued header row ("GroupInterventionDescription")."""
    return [c for c in re.split(r"(?<=[a-z])(?=[A-Z])", header) if c]


_INTERVENTION_TYPES = (
    "Drug", "Device", "Biological", "Procedure", "Procedure/Surgery", "Radiation", "Behavioral",
    "Genetic", "Dietary Supplement", "Combination Product", "Diagnostic Test", "Other",
)
_TYPED = re.compile(r"(?=\b(?:" + "|".join(re.escape(t) for t in _INTERVENTION_TYPES) + r"): )")


def split_typed_names(text: str) -> list[str]:
    """Split "Other: A Other: B" into ["Other: A", "Other: B"]."""
    return [squash(p) for p in _TYPED.split(text) if squash(p)]


def split_typed(name: str) -> tuple[str | None, str]:
    """"Biological: Mesenchymal Stem Cells" -> ("Biological", "Mesenchymal Stem Cells")."""
    head, sep, rest = name.partition(": ")
    if sep and head in _INTERVENTION_TYPES:
        return head, rest.strip()
    return None, name.strip()


def segment_by_phrases(text: str, corpus: str) -> list[str]:
    """Split a run of names ("Liver Cirrhosis End Stage Liver Disease") into the fewest parts
    that each occur in `corpus` (the rest of the document); the whole run when none fits."""
    words = text.split()
    haystack = " " + " ".join(re.sub(r"[^\w'/-]+", " ", corpus.lower()).split()) + " "

    def found(ws: list[str]) -> bool:
        phrase = " ".join(re.sub(r"[^\w'/-]+", " ", " ".join(ws).lower()).split())
        return bool(phrase) and f" {phrase} " in haystack

    n = len(words)
    best: list[list[int] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(end):
            if best[start] is not None and found(words[start:end]):
                cand = [*best[start], end]  # type: ignore[misc]
                if best[end] is None or len(cand) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = cand
    if best[n] is None or len(best[n]) == 1:  # type: ignore[arg-type]
        return [text.strip()]
    bounds = [0, *best[n]]  # type: ignore[misc]
    return [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:])]
