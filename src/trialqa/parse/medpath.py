"""MedPath trial pages, scraped to text -> Trial.

Title, phase and status lines, then headed blocks ("Registration Number", "Brief Summary",
"Inclusion Criteria", ...). Tables lost their cell separators in scraping
("NameTimeMethod"), so rows are split where a word runs into a capital.
"""

from __future__ import annotations

import re
from pathlib import Path

from trialqa.parse.build import Draft, find_nct
from trialqa.parse.common import (
    ages_from_criteria,
    format_items,
    humanize,
    is_phase,
    is_status,
    norm_phase,
    norm_sex,
    norm_status,
    norm_study_type,
    parse_int,
    split_glued,
    split_header_cells,
    split_typed,
    unescape_markdown,
)
from trialqa.parse.pages import KeyValues, Segment, is_flag, join_heading, page_lines, segment, split_address
from trialqa.types import Arm, Intervention, Location, Trial

_SECTION = {
    "Conditions": "Conditions",
    "Interventions": "Interventions",
    "Registration Number": "Identifiers",
    "Lead Sponsor": "Sponsor",
    "Collaborators": "Sponsor",
    "Brief Summary": "Summary",
    "Detailed Description": "Description",
    "Status": "Status",
    "Phase": "Status",
    "Sex": "Eligibility",
    "Age": "Eligibility",
    "Ages": "Eligibility",
    "Healthy Volunteers": "Eligibility",
    "Target Recruitment": "Enrollment",
    "Inclusion Criteria": "Eligibility: Inclusion",
    "Exclusion Criteria": "Eligibility: Exclusion",
    "Study Type": "Design",
    "Study Design": "Design",
    "Arm && Interventions": "Arms",
    "Arms & Interventions": "Arms",
    "Primary Outcome Measures": "Outcomes: Primary",
    "Secondary Outcome Measures": "Outcomes: Secondary",
    "Trial Locations": "Locations",
}
_KEY_VALUE = {"Status", "Phase", "Sex", "Age", "Ages", "Healthy Volunteers", "Target Recruitment",
              "Study Type", "Study Design", "Registration Number", "Lead Sponsor"}
_GROUP_HEADINGS = {"Recruitment & Eligibility", "Study & Design"}
_LOCATIONS = re.compile(r"^Locations \(\d+\)$")
_CHROME = re.compile(r"^(MedPath|© ?Copyright.*MedPath.*)$", re.I)


def _is_heading(line: str) -> bool:
    return line in _SECTION or line in _GROUP_HEADINGS or bool(_LOCATIONS.match(line))


def _table(seg: Segment) -> tuple[list[str], list[list[str]]]:
    rows = seg.values
    if not rows:
        return [], []
    columns = split_header_cells(rows[0])
    return columns, [split_glued(row, len(columns)) for row in rows[1:]]


def _render(columns: list[str], rows: list[list[str]]) -> str:
    return "\n".join(" | ".join(r) for r in [columns, *rows])


def _locations(lines: list[str]) -> list[Location]:
    """Facility, flag, "City, Country" groups (the flag may be missing)."""
    lines = [line for line in lines if line]
    sites: list[Location] = []
    i = 0
    while i < len(lines):
        facility = lines[i]
        j = i + 1
        while j < len(lines) and is_flag(lines[j]):
            j += 1
        address = lines[j] if j < len(lines) else ""
        city, country = split_address(address)
        sites.append(Location(facility=facility, city=city, country=country))
        i = j + 1
    return sites


def parse_medpath(text: str, path: Path) -> Trial:
    lines = [unescape_markdown(line) for line in page_lines(text) if not _CHROME.match(line)]
    draft = Draft(path, "medpath-page")
    fields = draft.fields
    preamble, segments = segment(lines, _is_heading)
    head = [line for line in preamble if line]
    if head:
        draft.title = head[0]
        draft.add("Title", head[0])
        draft.add("Status", "\n".join(head[1:]))
        fields.phase = norm_phase([v for v in head[1:] if is_phase(v)])
        fields.status = next((norm_status(v) for v in head[1:] if is_status(v)), None)
    kv = KeyValues(draft)
    group = ""
    for seg in segments:
        name = _SECTION.get(seg.heading, "Locations")
        values = [v for v in seg.values if not is_flag(v)]
        value = values[0] if values else ""
        if seg.heading in _GROUP_HEADINGS or (seg.heading == "Trial Locations" and not values):
            kv.flush()
            group = seg.heading
            continue
        if seg.heading in _KEY_VALUE:
            kv.add(name, seg.heading, "; ".join(values), group)
        else:
            kv.flush()
        heading = join_heading(group, seg.heading)
        if values:
            group = ""
        if seg.heading == "Registration Number":
            draft.nct_id = find_nct(seg.text)
        elif seg.heading == "Lead Sponsor":
            fields.sponsor = value or None
        elif seg.heading == "Status":
            fields.status = norm_status(value) or fields.status
        elif seg.heading == "Phase":
            fields.phase = norm_phase(value) or fields.phase
        elif seg.heading == "Sex":
            fields.sex = norm_sex(value)  # type: ignore[assignment]
        elif seg.heading == "Target Recruitment":
            fields.enrollment = parse_int(value)
        elif seg.heading == "Study Type":
            fields.study_type = norm_study_type(value)
        elif seg.heading == "Study Design":
            fields.intervention_model = humanize(value) or None
        elif seg.heading == "Conditions":
            fields.conditions = values
        elif seg.heading == "Interventions":
            fields.interventions = [Intervention(type=t, name=n) for t, n in map(split_typed, values)]
        if seg.heading in _KEY_VALUE:
            continue
        if name.startswith("Eligibility:"):
            draft.add(name, format_items(seg.text), heading)
        elif name == "Arms":
            columns, rows = _table(seg)
            draft.add(name, _render(columns, rows), heading)
            for row in rows:
                label, interv, desc = (row + ["", "", ""])[:3]
                fields.arms.append(Arm(label=label or None, description=desc or None,
                                       interventions=[interv] if interv else []))
                if interv and all(i.name != interv for i in fields.interventions):
                    kind, bare = split_typed(interv)
                    fields.interventions.append(Intervention(type=kind, name=bare, description=desc or None))
        elif name.startswith("Outcomes:"):
            columns, rows = _table(seg)
            draft.add(name, _render(columns, rows), heading)
            target = fields.primary_outcomes if name.endswith("Primary") else fields.secondary_outcomes
            target.extend(row[0] for row in rows if row and row[0])
        elif name == "Locations":
            if _LOCATIONS.match(seg.heading):
                fields.locations = _locations(values)
                draft.add(name, "\n".join(
                    ", ".join(p for p in (loc.facility, loc.city, loc.country) if p) for loc in fields.locations
                ), heading)
            else:
                draft.add(name, "\n".join(values), heading)
        else:
            draft.add(name, seg.text, heading)
    kv.flush()
    if fields.min_age is None and fields.max_age is None:
        inclusion = "\n".join(s.text for s in draft.sections if s.name == "Eligibility: Inclusion")
        fields.min_age, fields.max_age = ages_from_criteria(inclusion)
    return draft.finish()
