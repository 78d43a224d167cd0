"""ClinicalTrials.gov legacy bulk-download XML (`<clinical_study>`, public.xsd) -> Trial."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from trialqa.errors import BadInput, UnknownFormat
from trialqa.parse.common import norm_age, norm_bool, parse_int, squash
from trialqa.parse.registry import Outcome, RegArm, RegIntervention, Site, Study, study_to_trial
from trialqa.types import Trial

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=True)

_RESULT_PARTS = {
    "participant_flow": "Participant Flow",
    "baseline": "Baseline",
    "reported_events": "Adverse Events",
}


def _text(el: etree._Element, path: str) -> str:
    return squash(el.findtext(path))


def _block(el: etree._Element, path: str) -> str:
    """A `<textblock>` kept with its line structure (normalised later)."""
    return el.findtext(path) or ""


def _leaves(el: etree._Element | None) -> dict[str, str]:
    """Direct children's text by tag (first one wins), in one pass."""
    out: dict[str, str] = {}
    if el is not None:
        for child in el:
            if child.tag not in out and child.text:
                out[str(child.tag)] = squash(child.text)
    return out


def _person(el: etree._Element) -> str:
    v = _leaves(el)
    name = " ".join(v[t] for t in ("first_name", "middle_name", "last_name", "degrees") if v.get(t))
    extras = [v[t] for t in ("role", "affiliation", "phone", "phone_ext", "email") if v.get(t)]
    return ", ".join(p for p in (name, *extras) if p)


def _site(el: etree._Element) -> Site:
    facility = el.find("facility")
    name = _leaves(facility)
    address = _leaves(facility.find("address") if facility is not None else None)
    return Site(
        facility=name.get("name") or None,
        city=address.get("city") or None, state=address.get("state") or None,
        zip=address.get("zip") or None, country=address.get("country") or None,
        status=squash(el.findtext("status")) or None,
        contacts=[_person(c) for c in el if c.tag in ("contact", "investigator")],
    )


def _flatten(el: etree._Element, depth: int = 0) -> list[str]:
    """Results XML as indented `tag: value` lines, attributes included."""
    tag = str(el.tag).replace("_", " ")
    attrs = ", ".join(f"{k.replace('_', ' ')}={v}" for k, v in el.attrib.items())
    text = squash(el.text)
    pad = "  " * depth
    children = list(el)
    if not children:
        value = "; ".join(p for p in (text, attrs) if p)
        return [f"{pad}{tag}: {value}"] if value else []
    head = f"{pad}{tag}:" + (f" {attrs}" if attrs else "") + (f" {text}" if text else "")
    lines = [head]
    for child in children:
        lines.extend(_flatten(child, depth + 1))
    return lines


def _results(root: etree._Element) -> list[tuple[str, str]]:
    results = root.find("clinical_results")
    if results is None:
        return []
    parts: list[tuple[str, str]] = []
    for child in results:
        if child.tag == "outcome_list":
            for outcome in child:
                parts.append(("Outcomes", "\n".join(_flatten(outcome))))
        else:
            name = _RESULT_PARTS.get(str(child.tag), "More Information")
            parts.append((name, "\n".join(_flatten(child))))
    return parts


def _study(root: etree._Element) -> Study:
    s = Study(nct_id=_text(root, "id_info/nct_id") or None, wrapped=True)
    s.brief_title = _text(root, "brief_title")
    s.official_title = _text(root, "official_title")
    s.acronym = _text(root, "acronym")
    s.ids = [f"Org study ID: {_text(root, 'id_info/org_study_id')}"] if _text(root, "id_info/org_study_id") else []
    s.ids += [f"Secondary ID: {squash(e.text)}" for e in root.iterfind("id_info/secondary_id")]
    s.ids += [f"NCT alias: {squash(e.text)}" for e in root.iterfind("id_info/nct_alias")]
    s.status = _text(root, "overall_status") or None
    s.status_lines = [
        ("Last known status", _text(root, "last_known_status")),
        ("Why stopped", _text(root, "why_stopped")),
        ("Verification date", _text(root, "verification_date")),
        ("Has expanded access", _text(root, "has_expanded_access")),
    ]
    for tag, label in (
        ("start_date", "Start date"), ("primary_completion_date", "Primary completion date"),
        ("completion_date", "Completion date"), ("study_first_submitted", "First submitted"),
        ("study_first_posted", "First posted"), ("results_first_posted", "Results first posted"),
        ("last_update_posted", "Last update posted"),
    ):
        el = root.find(tag)
        if el is not None and squash(el.text):
            kind = f" ({el.get('type')})" if el.get("type") else ""
            s.dates.append((label, squash(el.text) + kind))
    s.start_date = _text(root, "start_date") or None
    s.completion_date = _text(root, "completion_date") or None
    s.sponsor = _text(root, "sponsors/lead_sponsor/agency") or None
    s.collaborators = [squash(e.text) for e in root.iterfind("sponsors/collaborator/agency") if squash(e.text)]
    party = root.find("responsible_party")
    if party is not None:
        s.sponsor_lines.append(("Responsible party", ", ".join(squash(e.text) for e in party if squash(e.text))))
    s.sponsor_lines.append(("Source", _text(root, "source")))
    s.summary = _block(root, "brief_summary/textblock")
    s.description = _block(root, "detailed_description/textblock")
    s.conditions = [squash(e.text) for e in root.iterfind("condition") if squash(e.text)]
    s.keywords = [squash(e.text) for e in root.iterfind("keyword") if squash(e.text)]
    s.mesh_terms = [squash(e.text) for e in root.iterfind("condition_browse/mesh_term")]
    s.intervention_mesh_terms = [squash(e.text) for e in root.iterfind("intervention_browse/mesh_term")]
    s.study_type = _text(root, "study_type") or None
    s.phase = _text(root, "phase") or None
    for tag, label in (
        ("allocation", "Allocation"), ("intervention_model", "Intervention model"),
        ("intervention_model_description", "Intervention model description"),
        ("primary_purpose", "Primary purpose"), ("observational_model", "Observational model"),
        ("time_perspective", "Time perspective"), ("masking", "Masking"),
        ("masking_description", "Masking description"),
    ):
        value = _text(root, f"study_design_info/{tag}")
        if value:
            s.design.append((label, value))
    for tag, label in (("number_of_arms", "Number of arms"), ("number_of_groups", "Number of groups"),
                       ("target_duration", "Target duration"), ("biospec_retention", "Biospecimen retention")):
        if _text(root, tag):
            s.design.append((label, _text(root, tag)))
    if _text(root, "biospec_descr/textblock"):
        s.design.append(("Biospecimen description", _text(root, "biospec_descr/textblock")))
    enrollment = root.find("enrollment")
    if enrollment is not None:
        s.enrollment = parse_int(enrollment.text)
        s.enrollment_type = enrollment.get("type")
    interventions = []
    for el in root.iterfind("intervention"):
        interventions.append(RegIntervention(
            type=_text(el, "intervention_type") or None,
            name=_text(el, "intervention_name") or None,
            description=_block(el, "description"),
            other_names=[squash(e.text) for e in el.iterfind("other_name")],
            arm_labels=[squash(e.text) for e in el.iterfind("arm_group_label")],
        ))
    s.interventions = interventions
    for el in root.iterfind("arm_group"):
        label = _text(el, "arm_group_label")
        names = [f"{i.type}: {i.name}" if i.type else (i.name or "") for i in interventions if label in i.arm_labels]
        s.arms.append(RegArm(label=label or None, type=_text(el, "arm_group_type") or None,
                             description=_block(el, "description"), interventions=names))
    for tag, kind in (("primary_outcome", "Primary"), ("secondary_outcome", "Secondary"), ("other_outcome", "Other")):
        items = [Outcome(_text(e, "measure"), _text(e, "time_frame"), _block(e, "description"))
                 for e in root.iterfind(tag)]
        if items:
            s.outcomes[kind] = items
    elig = root.find("eligibility")
    if elig is not None:
        s.criteria = _block(elig, "criteria/textblock")
        s.sex = _text(elig, "gender") or None
        s.min_age = norm_age(elig.findtext("minimum_age"))
        s.max_age = norm_age(elig.findtext("maximum_age"))
        s.healthy_volunteers = norm_bool(_text(elig, "healthy_volunteers") or None)
        s.eligibility_lines = [
            ("Gender based", _text(elig, "gender_based")),
            ("Gender description", _text(elig, "gender_description")),
            ("Sampling method", _text(elig, "sampling_method")),
            ("Study population", _text(elig, "study_pop/textblock")),
        ]
    s.sites = [_site(el) for el in root.iterfind("location")]
    for tag, label in (("overall_official", "Official"), ("overall_contact", "Contact"),
                       ("overall_contact_backup", "Backup contact")):
        s.contacts += [f"{label}: {_person(e)}" for e in root.iterfind(tag)]
    s.results = _results(root)
    return s


def parse_xml(data: bytes, path: Path) -> Trial:
    """Parse one `<clinical_study>` document; malformed XML is `BadInput`."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"{path}: malformed or truncated XML ({exc})") from None
    if root.tag != "clinical_study":
        raise UnknownFormat(f"{path}: XML root <{root.tag}> is not a ClinicalTrials.gov <clinical_study> record")
    return study_to_trial(_study(root), path, "ctgov-xml")
