"""ClinicalTrials.Veeva study pages, scraped to text -> Trial.

The page is a title, a sponsor, then short headings ("Status and phase", "Enrollment",
"Inclusion criteria", ...) each followed by its values, then the arm groups after
"N participants in K patient groups", then contacts and a site footer.
"""

from __future__ import annotations

import re
from pathlib import Path

from trialqa.parse.build import Draft, find_nct
from trialqa.parse.common import (
    format_items,
    is_phase,
    is_status,
    norm_bool,
    norm_enrollment_type,
    norm_phase,
    norm_sex,
    norm_status,
    norm_study_type,
    parse_age_range,
    parse_int,
    split_criteria,
    split_typed,
)
from trialqa.parse.pages import KeyValues, Segment, join_heading, page_lines, segment
from trialqa.types import Arm, Intervention, Trial

_SECTION = {
    "Status and phase": "Status",
    "Conditions": "Conditions",
    "Treatments": "Interventions",
    "Study type": "Design",
    "Funder types": "Sponsor",
    "Identifiers": "Identifiers",
    "About": "Summary",
    "Full description": "Description",
    "Enrollment": "Enrollment",
    "Sex": "Eligibility",
    "Ages": "Eligibility",
    "Volunteers": "Eligibility",
    "Inclusion criteria": "Eligibility: Inclusion",
    "Exclusion criteria": "Eligibility: Exclusion",
    "Inclusion and exclusion criteria": "Eligibility",
    "Primary purpose": "Design",
    "Allocation": "Design",
    "Interventional model": "Design",
    "Observational model": "Design",
    "Time perspective": "Design",
    "Masking": "Design",
    "Trial contacts and locations": "Locations",
    "Sites": "Locations",
    "Central trial contact": "Contacts",
}
_KEY_VALUE = {"Study type", "Funder types", "Sex", "Ages", "Volunteers", "Primary purpose", "Allocation",
              "Interventional model", "Observational model", "Time perspective", "Masking"}
_GROUP_HEADINGS = {"Details and patient eligibility", "Trial design"}
_DESIGN_FIELDS = {"Primary purpose": "primary_purpose", "Allocation": "allocation",
                  "Interventional model": "intervention_model", "Masking": "masking"}
_NOT_STATED = "not stated on the page"
_GROUP_COUNT = re.compile(r"(?im)^\s*(\d[\d,]*) participants in \d+ patient groups?\b")
_CHROME = {"ClinicalTrials.Veeva", "Menu", "Loading...", "Loading…", "Show more", "Show less"}
_FOOTER = re.compile(r"^(Data sourced from clinicaltrials\.gov|© ?Copyright .*Veeva.*)$", re.I)
_ARMS_INTRO = re.compile(r"^\d[\d,]* participants? in \d+ patient groups?\b", re.I)
_ARM_TYPE = re.compile(
    r"^(Experimental|Active Comparator|Placebo Comparator|Sham Comparator|No Intervention|Other) group$", re.I
)


def _is_heading(line: str) -> bool:
    return line in _SECTION or line in _GROUP_HEADINGS or bool(_ARMS_INTRO.match(line))


def _content_lines(text: str) -> list[str]:
    lines = []
    for line in page_lines(text):
        if _FOOTER.match(line):
            break
        if line not in _CHROME:
            lines.append(line)
    return lines


def _arms(seg: Segment) -> tuple[list[Arm], list[str]]:
    """Arm records and one text block per arm (the intro line leads the first)."""
    lines = seg.values
    starts = [i for i in range(len(lines) - 1) if _ARM_TYPE.match(lines[i + 1])]
    if not starts:
        return [], [seg.heading + "\n" + seg.text]
    arms, blocks = [], []
    for n, start in enumerate(starts):
        body = lines[start + 2 : starts[n + 1] if n + 1 < len(starts) else len(lines)]
        mode, desc, treat = "", [], []
        for line in body:
            if line in {"Description:", "Treatment:", "Treatments:"}:
                mode = line
            elif mode == "Description:":
                desc.append(line)
            elif mode:
                treat.append(line)
            else:
                desc.append(line)
        arm_type = _ARM_TYPE.match(lines[start + 1]).group(1)  # type: ignore[union-attr]
        arms.append(Arm(label=lines[start], type=arm_type, description=" ".join(desc) or None, interventions=treat))
        block = [lines[start], lines[start + 1]]
        block += [f"Description: {' '.join(desc)}"] if desc else []
        block += [f"Treatment: {'; '.join(treat)}"] if treat else []
        blocks.append("\n".join(block))
    blocks[0] = "\n".join([seg.heading, *lines[: starts[0]], blocks[0]])
    return arms, blocks


def _fields(draft: Draft, heading: str, values: list[str], text: str) -> None:
    """Structured fields from one headed block."""
    fields = draft.fields
    value = values[0] if values else ""
    if heading == "Status and phase":
        fields.status = next((norm_status(v) for v in values if is_status(v)), None)
        fields.phase = norm_phase([v for v in values if is_phase(v)])
    elif heading == "Conditions":
        fields.conditions = values
    elif heading == "Treatments":
        fields.interventions = [Intervention(type=t, name=n) for t, n in map(split_typed, values)]
    elif heading == "Study type":
        fields.study_type = norm_study_type(value)
    elif heading == "Identifiers":
        draft.nct_id = find_nct(text)
    elif heading == "Enrollment":
        fields.enrollment = parse_int(value)
        fields.enrollment_type = norm_enrollment_type(value) if re.search(r"(?i)estimat|actual", value) else None
    elif heading == "Sex":
        fields.sex = norm_sex(value)  # type: ignore[assignment]
    elif heading == "Ages":
        fields.min_age, fields.max_age = parse_age_range(value)
    elif heading == "Volunteers":
        fields.healthy_volunteers = norm_bool(value)
    elif heading in _DESIGN_FIELDS:
        setattr(fields, _DESIGN_FIELDS[heading], value or None)


def parse_veeva(text: str, path: Path) -> Trial:
    """Parse a ClinicalTrials.Veeva page; a heading whose value the page lost is kept as
    "not stated", so the record shows what the page shows without guessing."""
    draft = Draft(path, "veeva-page")
    preamble, segments = segment(_content_lines(text), _is_heading)
    head = [line for line in preamble if line]
    if head:
        draft.title = head[0]
        draft.add("Title", head[0])
        rest = [line for line in head[1:] if not re.fullmatch(r"[A-Z0-9]", line)]
        if rest:
            draft.fields.sponsor = rest[0]
            draft.add("Sponsor", "\n".join(rest))
    kv = KeyValues(draft)
    group = ""
    for seg in segments:
        if seg.heading in _GROUP_HEADINGS:
            kv.flush()
            group = seg.heading
            continue
        name, values = _SECTION.get(seg.heading, "Arms"), seg.values
        _fields(draft, seg.heading, values, seg.text)
        if seg.heading in _KEY_VALUE:
            kv.add(name, seg.heading, "; ".join(values) or _NOT_STATED, group)
            group = ""
            continue
        kv.flush()
        heading = join_heading(group, seg.heading)
        group = ""
        if _ARMS_INTRO.match(seg.heading):
            draft.fields.arms, blocks = _arms(seg)
            for block in blocks:
                draft.add("Arms", block)
        elif not values:
            draft.add(name, _NOT_STATED, heading)
        elif seg.heading == "Inclusion and exclusion criteria":
            for sub, sub_heading, items in split_criteria(seg.text):
                draft.add(f"Eligibility: {sub}", items, join_heading(heading, sub_heading))
        elif name.startswith("Eligibility:"):
            draft.add(name, format_items(seg.text), heading)
        elif name == "Locations" and all(v.isdigit() for v in values):
            draft.add(name, f"{seg.heading}: {'; '.join(values)}", heading)
        else:
            draft.add(name, seg.text, heading)
    kv.flush()
    if draft.fields.enrollment is None:  # the value is lost, but the arms line still states it
        m = _GROUP_COUNT.search(text)
        if m:
            draft.fields.enrollment = parse_int(m.group(1))
    return draft.finish()
