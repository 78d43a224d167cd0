"""Classic ClinicalTrials.gov study pages (`ct2/show`), scraped to text -> Trial.

Scraping keeps the `|`-separated table rows ("Study Type : | Interventional |") but may
lose the section headings, so lines are classified by their labels and shapes: label
rows, the conditions table, the arms table, `[ Time Frame: ]` outcome bullets, criteria
lists, contact and site rows. Headings, when present, are honoured as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from trialqa.parse.build import Draft, find_nct
from trialqa.parse.common import (
    format_items,
    norm_bool,
    norm_enrollment_type,
    norm_phase,
    norm_sex,
    norm_status,
    norm_study_type,
    parse_age_range,
    parse_int,
    segment_by_phrases,
    split_typed,
    split_typed_names,
)
from trialqa.parse.pages import page_lines, split_address
from trialqa.types import Arm, Intervention, Location, Trial

_CHROME = re.compile(
    r"^(!\[[^\]]*\]\([^)]*\)\s*\|?|\|+"
    r"|The safety and scientific validity of this study is the responsibility.*"
    r"|- (Study Details|Tabular View|No Results Posted|Results Posted|Study Results|Disclaimer"
    r"|How to Read a Study Record)"
    r"|Go to Top of Page.*|Layman's Terms.*|Hide Glossary|Glossary)$"
)
_HEADINGS = {
    "brief summary": "Summary", "detailed description": "Description", "study description": "Summary",
    "study design": "Design", "arms and interventions": "Arms", "outcome measures": "Outcomes",
    "primary outcome measures": "Outcomes: Primary", "secondary outcome measures": "Outcomes: Secondary",
    "other outcome measures": "Outcomes: Other", "eligibility criteria": "Eligibility",
    "contacts and locations": "Contacts", "locations": "Locations", "more information": "Identifiers",
    "sponsors and collaborators": "Sponsor", "investigators": "Contacts", "publications": "Description",
    "additional relevant mesh terms": "Keywords",
}
_LABELS = {
    "clinicaltrials.gov identifier": "Identifiers", "other study id numbers": "Identifiers",
    "recruitment status": "Status", "recruitment status was": "Status",
    "first posted": "Dates", "last update posted": "Dates", "results first posted": "Dates",
    "last verified": "Dates", "study start date": "Dates", "primary completion date": "Dates",
    "study completion date": "Dates",
    "study type": "Design", "allocation": "Design", "intervention model": "Design",
    "intervention model description": "Design", "masking": "Design", "masking description": "Design",
    "primary purpose": "Design", "observational model": "Design", "time perspective": "Design",
    "biospecimen retention": "Design", "biospecimen description": "Design",
    "target follow-up duration": "Design", "phase": "Design", "enrollment": "Enrollment",
    "official title": "Title", "brief title": "Title", "acronym": "Title",
    "ages eligible for study": "Eligibility", "sexes eligible for study": "Eligibility",
    "accepts healthy volunteers": "Eligibility", "sampling method": "Eligibility",
    "study population": "Eligibility", "gender based": "Eligibility",
    "study chair": "Contacts", "principal investigator": "Contacts", "study director": "Contacts",
    "contact": "Contacts", "responsible party": "Sponsor", "sponsor": "Sponsor",
    "collaborator": "Sponsor", "collaborators": "Sponsor", "information provided by (responsible party)": "Sponsor",
    "keywords provided by": "Keywords", "additional relevant mesh terms": "Keywords",
}
_CONTACT_NOTE = re.compile(
    r"^(Choosing to participate in a study|To learn more about this study, you or your doctor"
    r"|Please refer to this study by its ClinicalTrials\.gov identifier)"
)
_KV = re.compile(r"^(?P<label>[A-Za-z][A-Za-z .()/'-]{1,70}?)\s*:\s*(?P<value>.*)$")
_COND_TABLE = re.compile(r"^Condition or disease\s*\|", re.I)
_ARMS_TABLE = re.compile(r"^(Arm|Group/Cohort)\s*\|\s*Intervention/treatment\s*\|?$", re.I)
_RULE = re.compile(r"^[-|: ]+$")
_OUTCOME = re.compile(r"^- (?P<measure>.+?)\s*\[\s*Time Frame:\s*(?P<time>.*?)\s*\]\s*$")
_CRITERIA = re.compile(r"^(?P<kind>Inclusion|Exclusion) Criteria\s*:?$", re.I)
_SITE_STATUS = re.compile(
    r"^(?P<facility>[^|]+?)\s*\|\s*(?P<status>Recruiting|Not yet recruiting|Active, not recruiting|Completed"
    r"|Enrolling by invitation|Terminated|Withdrawn|Suspended)\s*\|?$", re.I,
)
_ARM_TYPE = re.compile(r"^(Experimental|Active Comparator|Placebo Comparator|Sham Comparator|No Intervention|Other)"
                       r":\s*(.*)$")


@dataclass
class _Block:
    name: str
    heading: str = ""
    lines: list[str] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _label_key(label: str) -> str:
    key = " ".join(label.lower().split())
    key = re.sub(r"^(estimated|actual|anticipated)\s+", "", key)
    return "keywords provided by" if key.startswith("keywords provided by") else key


class _Reader:
    """Walks the page once, filling blocks (future sections) and fields."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.fields = draft.fields
        self.blocks: list[_Block] = []
        self.mode = "top"
        self.pending: str | None = None
        self.cell: list[str] = []
        self.cells: list[list[str]] = []
        self.conditions_cell = ""
        self.after_facility = False

    def block(self, name: str, heading: str = "") -> _Block:
        if not self.blocks or self.blocks[-1].name != name or heading:
            self.blocks.append(_Block(name, heading))
        return self.blocks[-1]

    def feed(self, line: str) -> None:
        if self.mode == "arms" and not _OUTCOME.match(line) and not self._is_kv(line):
            self._arms_line(line)
            return
        if self.mode == "arms":
            self.finish_arms()
        if not line:
            if self.mode == "criteria":
                self.mode = "text"
            if self.blocks and self.blocks[-1].lines and self.blocks[-1].lines[-1]:
                self.blocks[-1].lines.append("")
            return
        if _CHROME.match(line):
            return
        heading = _HEADINGS.get(line.rstrip(": ").lower())
        if heading:
            self.mode = "text"
            self.block(heading, line.rstrip(": "))
            return
        if _COND_TABLE.match(line):
            self.mode = "conditions"
            return
        if _ARMS_TABLE.match(line):
            self.mode, self.cell, self.cells = "arms", [], []
            return
        if _RULE.match(line):
            return
        if self.mode == "conditions":
            self._conditions_row(_cells(line))
            self.mode = "text"
            return
        if self.pending and not self._is_kv(line):
            self._value(self.pending, line.strip(" |"))
            self.pending = None
            return
        self.pending = None
        if _CONTACT_NOTE.match(line):
            self.mode = "text"
            self.block("Contacts").lines.append(line)
            return
        if self._outcome(line) or self._criteria(line) or self._site(line) or self._kv(line):
            return
        if line.startswith("Verified ") and " by " in line:
            self.block("Status").lines.append(line)
            return
        if self.mode == "top":
            self.block("Summary").lines.append(line)
        elif self.mode == "more":
            self.block("Keywords").lines.append(line.strip(" |"))
        else:
            target = self.blocks[-1] if self.blocks else self.block("Description")
            target.lines.append(line.strip(" |") if line.endswith("|") else line)

    # -- shapes ------------------------------------------------------------------------

    def _is_kv(self, line: str) -> bool:
        match = _KV.match(line)
        return bool(match and _label_key(match.group("label")) in _LABELS)

    def _kv(self, line: str) -> bool:
        match = _KV.match(line)
        if not match:
            return False
        label = match.group("label").strip()
        if _label_key(label) not in _LABELS:
            return False
        value = " | ".join(c for c in _cells(match.group("value")) if c)
        value = re.sub(r"\s*Key Record Dates$", "", value)
        if not value:
            self.pending = label
            return True
        self._value(label, value)
        return True

    def _value(self, label: str, value: str) -> None:
        key = _label_key(label)
        name = _LABELS.get(key, "Identifiers")
        f = self.fields
        if key == "contact" and self.after_facility:
            self.block("Locations").lines.append(f"Contact: {value.replace(' | ', ', ')}")
            return
        self.block(name).lines.append(f"{label}: {value.replace(' | ', ', ')}")
        if key == "clinicaltrials.gov identifier":
            self.draft.nct_id = self.draft.nct_id or find_nct(value)
        elif key == "recruitment status":
            f.status = norm_status(value)
        elif key == "study type":
            f.study_type = norm_study_type(value)
        elif key == "enrollment":
            f.enrollment = parse_int(value)
            f.enrollment_type = norm_enrollment_type(label.split()[0]) if " " in label.strip() else None
        elif key in {"allocation", "masking", "primary purpose", "intervention model"}:
            setattr(f, {"intervention model": "intervention_model", "primary purpose": "primary_purpose"}.get(key, key),
                    value)
        elif key == "study start date":
            f.start_date = value
        elif key == "study completion date":
            f.completion_date = value
        elif key == "ages eligible for study":
            f.min_age, f.max_age = parse_age_range(value)
        elif key == "sexes eligible for study":
            f.sex = norm_sex(value)  # type: ignore[assignment]
        elif key == "accepts healthy volunteers":
            f.healthy_volunteers = norm_bool(value)
        elif key == "sponsor":
            f.sponsor = value
        elif key in {"collaborator", "collaborators"}:
            f.collaborators = [c.strip() for c in value.split(" | ") if c.strip()]
        elif key == "phase":
            f.phase = norm_phase(value)
        if key == "last verified":
            self.mode = "more"

    def _conditions_row(self, cells: list[str]) -> None:
        cells = (cells + ["", "", ""])[:3]
        self.conditions_cell = cells[0]
        names = split_typed_names(cells[1])
        self.fields.interventions = [Intervention(type=t, name=n) for t, n in map(split_typed, names)]
        self.block("Interventions", "Intervention/treatment").lines.extend(names)
        if cells[2]:
            self.fields.phase = norm_phase(cells[2])
            self.block("Design", "Phase").lines.append(f"Phase: {cells[2]}")
        self.mode = "text"

    def _arms_line(self, line: str) -> None:
        if line and _RULE.match(line) and line.strip() != "|":
            return
        if line.endswith("|"):
            body = line[:-1].strip()
            if body:
                self.cell.append(body)
            self.cells.append(self.cell)
            self.cell = []
        elif line:
            self.cell.append(line)

    def finish_arms(self) -> None:
        """Turn the collected arms-table cells into arms, interventions and sections."""
        if self.cell:
            self.cells.append(self.cell)
        self.mode = "text"
        for arm_cell, interv_cell in zip(self.cells[::2], self.cells[1::2] + [[]] * len(self.cells)):
            if not arm_cell:
                continue
            match = _ARM_TYPE.match(arm_cell[0])
            arm_type, label = (match.group(1), match.group(2)) if match else (None, arm_cell[0])
            names, descs = self._interventions(interv_cell)
            self.fields.arms.append(Arm(label=label, type=arm_type, description=" ".join(arm_cell[1:]) or None,
                                        interventions=names))
            text = [arm_cell[0], *arm_cell[1:]] + [f"Intervention: {n}\n{d}".strip() for n, d in zip(names, descs)]
            self.blocks.append(_Block("Arms", "Arm | Intervention/treatment", text))

    def _interventions(self, lines: list[str]) -> tuple[list[str], list[str]]:
        names: list[str] = []
        descs: list[list[str]] = []
        for line in lines:
            if split_typed(line)[0]:
                names.append(line)
                descs.append([])
            elif descs:
                descs[-1].append(line)
        texts = [" ".join(d) for d in descs]
        for name, desc in zip(names, texts):
            kind, bare = split_typed(name)
            for item in self.fields.interventions:
                if item.name == bare and item.type == kind and desc:
                    item.description = desc
            if all(i.name != bare for i in self.fields.interventions):
                self.fields.interventions.append(Intervention(type=kind, name=bare, description=desc or None))
        return names, texts

    def _outcome(self, line: str) -> bool:
        match = _OUTCOME.match(line)
        if not match:
            return False
        current = self.blocks[-1].name if self.blocks else ""
        name = current if current.startswith("Outcomes") else "Outcomes"
        self.block(name).lines.append(line)
        if name == "Outcomes: Primary":
            self.fields.primary_outcomes.append(match.group("measure"))
        elif name == "Outcomes: Secondary":
            self.fields.secondary_outcomes.append(match.group("measure"))
        self.mode = "text"
        return True

    def _criteria(self, line: str) -> bool:
        match = _CRITERIA.match(line)
        if match:
            self.mode = "criteria"
            self.blocks.append(_Block(f"Eligibility: {match.group('kind').title()}", line.rstrip(":")))
            return True
        if self.mode == "criteria" and not self._is_kv(line):
            self.blocks[-1].lines.append(line)
            return True
        return False

    def _site(self, line: str) -> bool:
        match = _SITE_STATUS.match(line)
        if match:
            self.after_facility = True
            self.fields.locations.append(Location(facility=match.group("facility")))
            self.block("Locations").lines.append(f"{match.group('facility')} ({match.group('status')})")
            return True
        in_sites = self.mode != "more" and self.blocks and self.blocks[-1].name in {"Contacts", "Locations"}
        if in_sites and re.match(r"^[^|:]+\|\s*\|?$", line):
            place = line.split("|")[0].strip()
            locations = self.fields.locations
            if locations and locations[-1].city is None and locations[-1].country is None and self.after_facility:
                locations[-1].city, locations[-1].country = split_address(place)
            self.block("Locations").lines.append(place)
            return True
        return False


def parse_ctgov_page(text: str, path: Path) -> Trial:
    draft = Draft(path, "ctgov-page")
    lines = page_lines(text)
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is not None and not _KV.match(lines[first]):
        draft.title = lines[first].rstrip(" |")
        draft.add("Title", draft.title)
        lines = lines[first + 1 :]
    reader = _Reader(draft)
    for line in lines:
        reader.feed(line)
    if reader.mode == "arms":
        reader.finish_arms()
    draft.nct_id = draft.nct_id or find_nct(text)
    prose = "\n".join(
        "\n".join(b.lines) for b in reader.blocks
        if b.name.split(":")[0] in {"Summary", "Description", "Eligibility", "Arms", "Outcomes"}
    )
    if reader.conditions_cell:
        draft.fields.conditions = segment_by_phrases(reader.conditions_cell, f"{draft.title}\n{prose}")
        reader.blocks.insert(0, _Block("Conditions", "Condition or disease", draft.fields.conditions))
    for block in _merge(reader.blocks):
        body = "\n".join(block.lines)
        if block.name.startswith("Eligibility:"):
            body = format_items(body)
        draft.add(block.name, body, block.heading)
    return draft.finish()


def _merge(blocks: list[_Block]) -> list[_Block]:
    """Blocks of the same section that follow each other become one."""
    merged: list[_Block] = []
    for block in blocks:
        if merged and merged[-1].name == block.name and not block.heading and block.name != "Arms":
            merged[-1].lines.extend(block.lines)
        else:
            merged.append(block)
    return merged
