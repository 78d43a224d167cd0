"""The registry record shared by the XML and JSON parsers, and how it becomes a `Trial`.

Each ClinicalTrials.gov download format (legacy XML, API v2 JSON, classic JSON) is read
into a `Study`; `study_to_trial` renders the same canonical sections and fields from it,
so the three formats give the same record for the same trial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trialqa.parse.build import Draft
from trialqa.parse.common import (
    norm_enrollment_type,
    norm_phase,
    norm_sex,
    norm_status,
    norm_study_type,
    reflow,
    split_criteria,
    squash,
)
from trialqa.types import Arm, Intervention, Location, SourceFormat, Trial, TrialFields


@dataclass
class Outcome:
    measure: str
    time_frame: str = ""
    description: str = ""

    def render(self) -> str:
        text = f"- {self.measure}"
        if self.time_frame:
            text += f" [Time Frame: {self.time_frame}]"
        if self.description:
            text += f"\n  {squash(self.description)}"
        return text


@dataclass
class RegArm:
    label: str | None = None
    type: str | None = None
    description: str = ""
    interventions: list[str] = field(default_factory=list)


@dataclass
class RegIntervention:
    type: str | None = None
    name: str | None = None
    description: str = ""
    other_names: list[str] = field(default_factory=list)
    arm_labels: list[str] = field(default_factory=list)


@dataclass
class Site:
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: str | None = None
    contacts: list[str] = field(default_factory=list)

    def render(self) -> str:
        place = ", ".join(p for p in (self.facility, self.city, self.state, self.zip, self.country) if p)
        if self.status:
            place += f" ({self.status})"
        if self.contacts:
            place += "; contact: " + "; ".join(self.contacts)
        return place


@dataclass
class Study:
    """Everything a registry record says, already in display form (no enums)."""

    nct_id: str | None = None
    brief_title: str = ""
    official_title: str = ""
    acronym: str = ""
    ids: list[str] = field(default_factory=list)
    status: str | None = None
    status_lines: list[tuple[str, str | None]] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)
    start_date: str | None = None
    completion_date: str | None = None
    sponsor: str | None = None
    collaborators: list[str] = field(default_factory=list)
    sponsor_lines: list[tuple[str, str]] = field(default_factory=list)
    summary: str = ""
    description: str = ""
    conditions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    intervention_mesh_terms: list[str] = field(default_factory=list)
    study_type: str | None = None
    phase: str | None = None
    design: list[tuple[str, str]] = field(default_factory=list)
    enrollment: int | None = None
    enrollment_type: str | None = None
    arms: list[RegArm] = field(default_factory=list)
    interventions: list[RegIntervention] = field(default_factory=list)
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    criteria: str = ""
    sex: str | None = None
    min_age: str | None = None
    max_age: str | None = None
    healthy_volunteers: bool | None = None
    eligibility_lines: list[tuple[str, str]] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    results: list[tuple[str, str]] = field(default_factory=list)
    wrapped: bool = False  # free text is hard-wrapped (legacy XML)


def _kv(pairs: Sequence[tuple[str, str | None]]) -> str:
    return "\n".join(f"{k}: {squash(v)}" for k, v in pairs if v and squash(v))


def _arm_text(arm: RegArm, wrapped: bool) -> str:
    head = ": ".join(p for p in (arm.type, arm.label) if p)
    lines = [head]
    if arm.description:
        lines.append(reflow(arm.description, wrapped))
    if arm.interventions:
        lines.append("Interventions: " + "; ".join(arm.interventions))
    return "\n".join(lines)


def _intervention_text(item: RegIntervention, wrapped: bool) -> str:
    lines = [": ".join(p for p in (item.type, item.name) if p)]
    if item.description:
        lines.append(reflow(item.description, wrapped))
    if item.other_names:
        lines.append("Other names: " + "; ".join(item.other_names))
    if item.arm_labels:
        lines.append("Arms: " + "; ".join(item.arm_labels))
    return "\n".join(lines)


def _add_sections(draft: Draft, s: Study) -> None:
    title_lines = [("Brief title", s.brief_title), ("Official title", s.official_title), ("Acronym", s.acronym)]
    draft.add("Title", _kv(title_lines), "Title")
    draft.add("Summary", reflow(s.summary, s.wrapped), "Brief Summary")
    draft.add("Description", reflow(s.description, s.wrapped), "Detailed Description")
    draft.add("Conditions", "\n".join(s.conditions), "Conditions")
    for item in s.interventions:
        draft.add("Interventions", _intervention_text(item, s.wrapped), "Intervention")
    for arm in s.arms:
        draft.add("Arms", _arm_text(arm, s.wrapped), "Arm Group")
    ages = " to ".join(a for a in (s.min_age, s.max_age) if a)
    if s.min_age and not s.max_age:
        ages = f"{s.min_age} and older"
    elif s.max_age and not s.min_age:
        ages = f"up to {s.max_age}"
    volunteers = {True: "Accepts Healthy Volunteers", False: "No"}.get(s.healthy_volunteers)  # type: ignore[arg-type]
    basics = [("Sex", norm_sex(s.sex) or s.sex), ("Ages", ages), ("Healthy volunteers", volunteers),
              *s.eligibility_lines]
    draft.add("Eligibility", _kv(basics), "Eligibility")
    for sub, heading, items in split_criteria(s.criteria, s.wrapped):
        draft.add(f"Eligibility: {sub}", items, heading or "Eligibility Criteria")
    design = [("Study type", s.study_type), ("Phase", norm_phase(s.phase) or s.phase), *s.design]
    draft.add("Design", _kv(design), "Study Design")
    if s.enrollment is not None:
        kind = f" ({norm_enrollment_type(s.enrollment_type)})" if s.enrollment_type else ""
        draft.add("Enrollment", f"Enrollment: {s.enrollment} participants{kind}", "Enrollment")
    for kind, outcomes in s.outcomes.items():
        draft.add(f"Outcomes: {kind}", "\n".join(o.render() for o in outcomes), f"{kind} Outcome Measures")
    sponsor = [("Lead sponsor", s.sponsor), ("Collaborators", "; ".join(s.collaborators)), *s.sponsor_lines]
    draft.add("Sponsor", _kv(sponsor), "Sponsor")
    draft.add("Locations", "\n".join(site.render() for site in s.sites), "Locations")
    draft.add("Contacts", "\n".join(s.contacts), "Contacts")
    draft.add("Status", _kv([("Overall status", norm_status(s.status)), *s.status_lines]), "Status")
    draft.add("Identifiers", _kv([("NCT number", s.nct_id)]) + "\n" + "\n".join(s.ids), "Identifiers")
    draft.add("Dates", _kv(s.dates), "Dates")
    keywords = [("Keywords", "; ".join(s.keywords)),
                ("MeSH terms", "; ".join([*s.mesh_terms, *s.intervention_mesh_terms]))]
    draft.add("Keywords", _kv(keywords), "Keywords")
    for sub, text in s.results:
        draft.add(f"Results: {sub}" if sub else "Results", text, f"Results: {sub}" if sub else "Results")


def study_to_trial(study: Study, path: Path, fmt: SourceFormat) -> Trial:
    """Render a `Study` into the canonical `Trial` record."""
    draft = Draft(path, fmt)
    draft.nct_id = study.nct_id
    draft.title = squash(study.brief_title or study.official_title)
    _add_sections(draft, study)
    draft.fields = TrialFields(
        phase=norm_phase(study.phase),
        status=norm_status(study.status),
        study_type=norm_study_type(study.study_type),
        conditions=[squash(c) for c in study.conditions if squash(c)],
        interventions=[
            Intervention(type=i.type, name=i.name, description=reflow(i.description, study.wrapped) or None)
            for i in study.interventions
        ],
        arms=[
            Arm(label=a.label, type=a.type, description=reflow(a.description, study.wrapped) or None,
                interventions=a.interventions)
            for a in study.arms
        ],
        enrollment=study.enrollment,
        enrollment_type=norm_enrollment_type(study.enrollment_type),
        sex=norm_sex(study.sex),  # type: ignore[arg-type]
        min_age=study.min_age,
        max_age=study.max_age,
        healthy_volunteers=study.healthy_volunteers,
        allocation=dict(study.design).get("Allocation"),
        intervention_model=dict(study.design).get("Intervention model"),
        masking=dict(study.design).get("Masking"),
        primary_purpose=dict(study.design).get("Primary purpose"),
        sponsor=study.sponsor,
        collaborators=study.collaborators,
        locations=[Location(facility=s.facility, city=s.city, country=s.country) for s in study.sites],
        start_date=study.start_date,
        completion_date=study.completion_date,
        primary_outcomes=[squash(o.measure) for o in study.outcomes.get("Primary", [])],
        secondary_outcomes=[squash(o.measure) for o in study.outcomes.get("Secondary", [])],
        keywords=study.keywords,
        acronym=squash(study.acronym) or None,
        official_title=squash(study.official_title) or None,
        condition_mesh=[squash(m) for m in study.mesh_terms if squash(m)],
        intervention_mesh=[squash(m) for m in study.intervention_mesh_terms if squash(m)],
        has_results=bool(study.results),
    )
    return draft.finish()
