"""The gold builder's own reading of ClinicalTrials.gov XML records (lxml, no trialqa code).

An independent oracle: the expected answers must not depend on the product's parser.
`load(directory) -> list[Rec]` sorted by NCT id; every list inside a Rec is in record order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from pathlib import Path

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=True)
_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), 1)}
_UNIT_YEARS = {"year": 1.0, "month": 1 / 12, "week": 7 / 365.25, "day": 1 / 365.25, "hour": 1 / 8766, "minute": 1 / 525960}


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def age_years(text: str | None) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; None for 'N/A' or absent."""
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\b", text or "", re.I)
    return float(m.group(1)) * _UNIT_YEARS[m.group(2).lower()] if m else None


def parse_date(text: str | None) -> date | None:
    """'November 3, 1999' or 'November 1999' -> a date (day 1 when the day is absent)."""
    m = re.match(r"\s*([A-Za-z]+)\s+(?:(\d{1,2}),\s*)?(\d{4})", text or "")
    if not m or m.group(1).lower() not in _MONTHS:
        return None
    return date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2) or 1))


@dataclass
class Rec:
    nct: str
    title: str
    official_title: str
    acronym: str
    sponsor: str
    sponsor_class: str
    collaborators: list[str]
    conditions: list[str]
    condition_mesh: list[str]
    keywords: list[str]
    interventions: list[tuple[str, str]]          # (type, name)
    other_names: list[str]
    intervention_mesh: list[str]
    arm_types: list[str]
    phase: str                                    # '' when absent
    status: str
    study_type: str
    allocation: str
    masking: str
    purpose: str
    sex: str                                      # All / Female / Male / ''
    min_age: float | None
    max_age: float | None
    min_age_text: str
    max_age_text: str
    healthy: bool | None
    enrollment: int | None
    enrollment_type: str
    start: date | None
    start_text: str
    completion: date | None
    completion_text: str
    site_countries: list[str]                     # from <location> addresses, distinct, record order
    listed_countries: list[str]                   # <location_countries>
    sites: int
    cities: list[str]
    has_results: bool
    criteria: str
    inclusion: str
    exclusion: str
    summary: str
    text: str = field(repr=False, default="")     # the whole file, lower-cased

    @property
    def countries(self) -> set[str]:
        return set(self.site_countries) | set(self.listed_countries)

    @cached_property
    def cond_terms(self) -> list[str]:
        """Conditions and their MeSH terms, lower-cased."""
        return [t.lower() for t in (*self.conditions, *self.condition_mesh)]

    @cached_property
    def interv_terms(self) -> list[str]:
        """Intervention names, other names and MeSH terms, lower-cased."""
        return [t.lower() for t in (*(n for _, n in self.interventions), *self.other_names, *self.intervention_mesh)]

    @cached_property
    def title_terms(self) -> list[str]:
        return [t.lower() for t in (*self.keywords, self.title, self.official_title)]

    def cond_text(self) -> str:
        return " | ".join([*self.cond_terms, *self.title_terms])

    def interv_text(self) -> str:
        return " | ".join([*self.interv_terms, self.title.lower(), self.official_title.lower()])


def _split_criteria(criteria: str) -> tuple[str, str]:
    low = criteria.lower()
    i = low.find("exclusion criteria")
    if i < 0:
        return criteria, ""
    return criteria[:i], criteria[i:]


def _distinct(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)


def parse(path: Path) -> Rec:
    data = path.read_bytes()
    root = etree.fromstring(data, _PARSER)

    def t(p: str) -> str:
        return squash(root.findtext(p))

    def all_(p: str) -> list[str]:
        return [squash(e.text) for e in root.iterfind(p) if squash(e.text)]

    criteria = root.findtext("eligibility/criteria/textblock") or ""
    inc, exc = _split_criteria(criteria)
    enroll = root.find("enrollment")
    hv = t("eligibility/healthy_volunteers").lower()
    return Rec(
        nct=t("id_info/nct_id"), title=t("brief_title"), official_title=t("official_title"),
        acronym=t("acronym"), sponsor=t("sponsors/lead_sponsor/agency"),
        sponsor_class=t("sponsors/lead_sponsor/agency_class"),
        collaborators=all_("sponsors/collaborator/agency"), conditions=all_("condition"),
        condition_mesh=all_("condition_browse/mesh_term"), keywords=all_("keyword"),
        interventions=[(squash(e.findtext("intervention_type")), squash(e.findtext("intervention_name")))
                       for e in root.iterfind("intervention")],
        other_names=all_("intervention/other_name"), intervention_mesh=all_("intervention_browse/mesh_term"),
        arm_types=all_("arm_group/arm_group_type"),
        phase=t("phase"), status=t("overall_status"), study_type=t("study_type"),
        allocation=t("study_design_info/allocation"), masking=t("study_design_info/masking"),
        purpose=t("study_design_info/primary_purpose"), sex=t("eligibility/gender"),
        min_age=age_years(t("eligibility/minimum_age")), max_age=age_years(t("eligibility/maximum_age")),
        min_age_text=t("eligibility/minimum_age"), max_age_text=t("eligibility/maximum_age"),
        healthy=None if not hv else hv.startswith("accepts") or hv == "yes",
        enrollment=int(enroll.text) if enroll is not None and (enroll.text or "").strip().isdigit() else None,
        enrollment_type=enroll.get("type", "") if enroll is not None else "",
        start=parse_date(t("start_date")), start_text=t("start_date"),
        completion=parse_date(t("completion_date")), completion_text=t("completion_date"),
        site_countries=_distinct(all_("location/facility/address/country")),
        listed_countries=all_("location_countries/country"),
        sites=len(root.findall("location")),
        cities=_distinct(all_("location/facility/address/city")),
        has_results=root.find("clinical_results") is not None,
        criteria=squash(criteria), inclusion=squash(inc), exclusion=squash(exc),
        summary=squash(root.findtext("brief_summary/textblock")),
        text=data.decode("utf-8", "replace").lower(),
    )


def load(directory: Path) -> list[Rec]:
    recs = [parse(p) for p in sorted(Path(directory).glob("*.xml"))]
    return sorted(recs, key=lambda r: r.nct)
