"""ClinicalTrials.gov JSON -> Trial: API v2 studies (`protocolSection`, ...) and the
retired classic API's `FullStudiesResponse` (PascalCase keys, `...List` wrappers)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trialqa.errors import UnknownFormat
from trialqa.parse.common import humanize, norm_age, norm_bool, norm_status, parse_int, squash, unescape_markdown
from trialqa.parse.registry import Outcome, RegArm, RegIntervention, Site, Study, study_to_trial
from trialqa.types import SourceFormat, Trial

_RESULT_PARTS = {
    "participantflowmodule": "Participant Flow",
    "baselinecharacteristicsmodule": "Baseline",
    "adverseeventsmodule": "Adverse Events",
    "moreinfomodule": "More Information",
}


def _get(obj: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _list(obj: Any, path: str) -> list[Any]:
    value = _get(obj, path)
    return value if isinstance(value, list) else []


def _str(obj: Any, path: str) -> str:
    value = _get(obj, path)
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return squash(str(value))


def _md(obj: Any, path: str) -> str:
    """A free-text field with its markdown escapes removed, line structure kept."""
    value = _get(obj, path)
    return unescape_markdown(value) if isinstance(value, str) else ""


def _label(key: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).split()
    return " ".join(words).capitalize()


def _flatten(obj: Any, depth: int = 0) -> list[str]:
    """Results JSON as indented `label: value` lines."""
    pad = "  " * depth
    lines: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, (dict, list)):
                if value and all(not isinstance(v, (dict, list)) for v in value) and isinstance(value, list):
                    lines.append(f"{pad}{_label(key)}: {', '.join(humanize(str(v)) for v in value)}")
                elif value:
                    lines.append(f"{pad}{_label(key)}:")
                    lines.extend(_flatten(value, depth + 1))
            elif value not in (None, ""):
                text = humanize(str(value)) if isinstance(value, str) else str(value)
                lines.append(f"{pad}{_label(key)}: {squash(unescape_markdown(text))}")
    elif isinstance(obj, list):
        for item in obj:
            sub = _flatten(item, depth + 1)
            if sub:
                sub[0] = pad + "- " + sub[0].lstrip()
                lines.extend(sub)
    return lines


def _results(section: Any) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    if not isinstance(section, dict):
        return parts
    for key, module in section.items():
        low = key.lower()
        if low == "outcomemeasuresmodule":
            measures = _list(module, "outcomeMeasures") or _list(module, "OutcomeMeasureList.OutcomeMeasure")
            parts += [("Outcomes", "\n".join(_flatten(m))) for m in measures]
        else:
            parts.append((_RESULT_PARTS.get(low, "More Information"), "\n".join(_flatten(module))))
    return parts


def _enum(value: str) -> str | None:
    return humanize(value) if value else None


def _v2_study(study: dict[str, Any]) -> Study:
    p = study.get("protocolSection") or {}
    s = Study(nct_id=_str(p, "identificationModule.nctId") or None)
    ident = p.get("identificationModule") or {}
    s.brief_title, s.official_title, s.acronym = (_str(ident, k) for k in ("briefTitle", "officialTitle", "acronym"))
    if _str(ident, "orgStudyIdInfo.id"):
        s.ids.append(f"Org study ID: {_str(ident, 'orgStudyIdInfo.id')}")
    for sec in _list(ident, "secondaryIdInfos"):
        extra = ", ".join(x for x in (_enum(_str(sec, "type")), _str(sec, "domain")) if x)
        s.ids.append(f"Secondary ID: {_str(sec, 'id')}" + (f" ({extra})" if extra else ""))
    st = p.get("statusModule") or {}
    s.status = _str(st, "overallStatus") or None
    s.status_lines = [
        ("Last known status", norm_status(_str(st, "lastKnownStatus"))),
        ("Why stopped", _str(st, "whyStopped")),
        ("Status verified", _str(st, "statusVerifiedDate")),
        ("Has expanded access", _str(st, "expandedAccessInfo.hasExpandedAccess")),
    ]
    for key, label in (
        ("startDateStruct", "Start date"), ("primaryCompletionDateStruct", "Primary completion date"),
        ("completionDateStruct", "Completion date"), ("studyFirstPostDateStruct", "First posted"),
        ("resultsFirstPostDateStruct", "Results first posted"), ("lastUpdatePostDateStruct", "Last update posted"),
    ):
        if _str(st, f"{key}.date"):
            kind = humanize(_str(st, f"{key}.type"))
            s.dates.append((label, _str(st, f"{key}.date") + (f" ({kind})" if kind else "")))
    if _str(st, "studyFirstSubmitDate"):
        s.dates.insert(0, ("First submitted", _str(st, "studyFirstSubmitDate")))
    s.start_date = _str(st, "startDateStruct.date") or None
    s.completion_date = _str(st, "completionDateStruct.date") or None
    sp = p.get("sponsorCollaboratorsModule") or {}
    s.sponsor = _str(sp, "leadSponsor.name") or None
    s.collaborators = [_str(c, "name") for c in _list(sp, "collaborators") if _str(c, "name")]
    party = [humanize(_str(sp, "responsibleParty.type"))] + [
        _str(sp, f"responsibleParty.investigator{k}") for k in ("FullName", "Title", "Affiliation")
    ]
    s.sponsor_lines.append(("Responsible party", ", ".join(x for x in party if x)))
    ipd = p.get("ipdSharingStatementModule") or {}
    s.sponsor_lines.append(("IPD sharing", "; ".join(
        x for x in (humanize(_str(ipd, "ipdSharing")), _str(ipd, "description")) if x)))
    s.summary = _md(p, "descriptionModule.briefSummary")
    s.description = _md(p, "descriptionModule.detailedDescription")
    s.conditions = [squash(c) for c in _list(p, "conditionsModule.conditions")]
    s.keywords = [squash(k) for k in _list(p, "conditionsModule.keywords")]
    derived = study.get("derivedSection") or {}
    s.mesh_terms = [_str(m, "term") for m in _list(derived, "conditionBrowseModule.meshes")]
    s.intervention_mesh_terms = [_str(m, "term") for m in _list(derived, "interventionBrowseModule.meshes")]
    d = p.get("designModule") or {}
    s.study_type = humanize(_str(d, "studyType")) or None
    s.phase = " ".join(_list(d, "phases")) or None
    info = d.get("designInfo") or {}
    for key, label in (
        ("allocation", "Allocation"), ("interventionModel", "Intervention model"),
        ("interventionModelDescription", "Intervention model description"),
        ("primaryPurpose", "Primary purpose"), ("observationalModel", "Observational model"),
        ("timePerspective", "Time perspective"), ("maskingInfo.masking", "Masking"),
        ("maskingInfo.maskingDescription", "Masking description"),
    ):
        value = _str(info, key)
        if value:
            s.design.append((label, value if "escription" in key else humanize(value)))
    who = [humanize(w) for w in _list(info, "maskingInfo.whoMasked")]
    if who:
        s.design.append(("Masked", ", ".join(who)))
    if _str(d, "targetDuration"):
        s.design.append(("Target duration", _str(d, "targetDuration")))
    s.enrollment = parse_int(_get(d, "enrollmentInfo.count"))
    s.enrollment_type = _str(d, "enrollmentInfo.type") or None
    ai = p.get("armsInterventionsModule") or {}
    for item in _list(ai, "interventions"):
        s.interventions.append(RegIntervention(
            type=humanize(_str(item, "type")) or None, name=_str(item, "name") or None,
            description=_md(item, "description"), other_names=[squash(n) for n in _list(item, "otherNames")],
            arm_labels=[squash(n) for n in _list(item, "armGroupLabels")],
        ))
    for arm in _list(ai, "armGroups"):
        s.arms.append(RegArm(
            label=_str(arm, "label") or None, type=humanize(_str(arm, "type")) or None,
            description=_md(arm, "description"), interventions=[squash(n) for n in _list(arm, "interventionNames")],
        ))
    for key, kind in (("primaryOutcomes", "Primary"), ("secondaryOutcomes", "Secondary"), ("otherOutcomes", "Other")):
        items = [Outcome(_str(o, "measure"), _str(o, "timeFrame"), _md(o, "description"))
                 for o in _list(p, f"outcomesModule.{key}")]
        if items:
            s.outcomes[kind] = items
    el = p.get("eligibilityModule") or {}
    s.criteria = _md(el, "eligibilityCriteria")
    s.sex = _str(el, "sex") or None
    s.min_age, s.max_age = norm_age(_str(el, "minimumAge")), norm_age(_str(el, "maximumAge"))
    s.healthy_volunteers = _get(el, "healthyVolunteers") if isinstance(_get(el, "healthyVolunteers"), bool) else None
    s.eligibility_lines = [
        ("Age groups", ", ".join(humanize(a) for a in _list(el, "stdAges"))),
        ("Gender based", _str(el, "genderBased")), ("Gender description", _str(el, "genderDescription")),
        ("Sampling method", humanize(_str(el, "samplingMethod"))), ("Study population", _str(el, "studyPopulation")),
    ]
    cl = p.get("contactsLocationsModule") or {}
    for loc in _list(cl, "locations"):
        s.sites.append(Site(
            facility=_str(loc, "facility") or None, city=_str(loc, "city") or None, state=_str(loc, "state") or None,
            zip=_str(loc, "zip") or None, country=_str(loc, "country") or None,
            status=humanize(_str(loc, "status")) or None, contacts=[_person(c) for c in _list(loc, "contacts")],
        ))
    s.contacts = [f"Official: {_person(o)}" for o in _list(cl, "overallOfficials")]
    s.contacts += [f"Contact: {_person(c)}" for c in _list(cl, "centralContacts")]
    s.results = _results(study.get("resultsSection"))
    return s


def _person(obj: dict[str, Any]) -> str:
    keys = ("name", "role", "affiliation", "phone", "phoneExt", "email")
    return ", ".join(humanize(_str(obj, k)) if k == "role" else _str(obj, k) for k in keys if _str(obj, k))


def _classic_person(obj: dict[str, Any], prefix: str) -> str:
    keys = ("Name", "Role", "Affiliation", "Phone", "PhoneExt", "EMail")
    return ", ".join(_str(obj, prefix + k) for k in keys if _str(obj, prefix + k))


def _classic_study(study: dict[str, Any]) -> Study:
    p = study.get("ProtocolSection") or {}
    ident = p.get("IdentificationModule") or {}
    s = Study(nct_id=_str(ident, "NCTId") or None)
    s.brief_title, s.official_title, s.acronym = (_str(ident, k) for k in ("BriefTitle", "OfficialTitle", "Acronym"))
    if _str(ident, "OrgStudyIdInfo.OrgStudyId"):
        s.ids.append(f"Org study ID: {_str(ident, 'OrgStudyIdInfo.OrgStudyId')}")
    for sec in _list(ident, "SecondaryIdInfoList.SecondaryIdInfo"):
        extra = ", ".join(x for x in (_str(sec, "SecondaryIdType"), _str(sec, "SecondaryIdDomain")) if x)
        s.ids.append(f"Secondary ID: {_str(sec, 'SecondaryId')}" + (f" ({extra})" if extra else ""))
    st = p.get("StatusModule") or {}
    s.status = _str(st, "OverallStatus") or None
    s.status_lines = [
        ("Last known status", _str(st, "LastKnownStatus")), ("Why stopped", _str(st, "WhyStopped")),
        ("Status verified", _str(st, "StatusVerifiedDate")),
        ("Has expanded access", _str(st, "ExpandedAccessInfo.HasExpandedAccess")),
    ]
    if _str(st, "StudyFirstSubmitDate"):
        s.dates.append(("First submitted", _str(st, "StudyFirstSubmitDate")))
    for name, label in (
        ("StartDate", "Start date"), ("PrimaryCompletionDate", "Primary completion date"),
        ("CompletionDate", "Completion date"), ("StudyFirstPostDate", "First posted"),
        ("ResultsFirstPostDate", "Results first posted"), ("LastUpdatePostDate", "Last update posted"),
    ):
        value = _str(st, f"{name}Struct.{name}")
        if value:
            kind = _str(st, f"{name}Struct.{name}Type")
            s.dates.append((label, value + (f" ({kind})" if kind else "")))
    s.start_date = _str(st, "StartDateStruct.StartDate") or None
    s.completion_date = _str(st, "CompletionDateStruct.CompletionDate") or None
    sp = p.get("SponsorCollaboratorsModule") or {}
    s.sponsor = _str(sp, "LeadSponsor.LeadSponsorName") or None
    s.collaborators = [_str(c, "CollaboratorName") for c in _list(sp, "CollaboratorList.Collaborator")]
    party = [_str(sp, f"ResponsibleParty.ResponsibleParty{k}")
             for k in ("Type", "InvestigatorFullName", "InvestigatorTitle", "InvestigatorAffiliation")]
    s.sponsor_lines.append(("Responsible party", ", ".join(x for x in party if x)))
    s.summary = _md(p, "DescriptionModule.BriefSummary")
    s.description = _md(p, "DescriptionModule.DetailedDescription")
    s.conditions = [squash(c) for c in _list(p, "ConditionsModule.ConditionList.Condition")]
    s.keywords = [squash(k) for k in _list(p, "ConditionsModule.KeywordList.Keyword")]
    derived = study.get("DerivedSection") or {}
    s.mesh_terms = [_str(m, "ConditionMeshTerm")
                    for m in _list(derived, "ConditionBrowseModule.ConditionMeshList.ConditionMesh")]
    s.intervention_mesh_terms = [_str(m, "InterventionMeshTerm")
                     for m in _list(derived, "InterventionBrowseModule.InterventionMeshList.InterventionMesh")]
    d = p.get("DesignModule") or {}
    s.study_type = _str(d, "StudyType") or None
    s.phase = " ".join(_list(d, "PhaseList.Phase")) or None
    info = d.get("DesignInfo") or {}
    for key, label in (
        ("DesignAllocation", "Allocation"), ("DesignInterventionModel", "Intervention model"),
        ("DesignInterventionModelDescription", "Intervention model description"),
        ("DesignPrimaryPurpose", "Primary purpose"),
        ("DesignMaskingInfo.DesignMasking", "Masking"),
        ("DesignMaskingInfo.DesignMaskingDescription", "Masking description"),
    ):
        if _str(info, key):
            s.design.append((label, _str(info, key)))
    for key, label in (("DesignObservationalModelList.DesignObservationalModel", "Observational model"),
                       ("DesignTimePerspectiveList.DesignTimePerspective", "Time perspective"),
                       ("DesignMaskingInfo.DesignWhoMaskedList.DesignWhoMasked", "Masked")):
        if _list(info, key):
            s.design.append((label, ", ".join(_list(info, key))))
    s.enrollment = parse_int(_str(d, "EnrollmentInfo.EnrollmentCount") or None)
    s.enrollment_type = _str(d, "EnrollmentInfo.EnrollmentType") or None
    ai = p.get("ArmsInterventionsModule") or {}
    for item in _list(ai, "InterventionList.Intervention"):
        s.interventions.append(RegIntervention(
            type=_str(item, "InterventionType") or None, name=_str(item, "InterventionName") or None,
            description=_md(item, "InterventionDescription"),
            other_names=_list(item, "InterventionOtherNameList.InterventionOtherName"),
            arm_labels=_list(item, "InterventionArmGroupLabelList.InterventionArmGroupLabel"),
        ))
    for arm in _list(ai, "ArmGroupList.ArmGroup"):
        s.arms.append(RegArm(
            label=_str(arm, "ArmGroupLabel") or None, type=_str(arm, "ArmGroupType") or None,
            description=_md(arm, "ArmGroupDescription"),
            interventions=_list(arm, "ArmGroupInterventionList.ArmGroupInterventionName"),
        ))
    for kind in ("Primary", "Secondary", "Other"):
        pre = f"{kind}Outcome"
        items = [Outcome(_str(o, f"{pre}Measure"), _str(o, f"{pre}TimeFrame"), _md(o, f"{pre}Description"))
                 for o in _list(p, f"OutcomesModule.{pre}List.{pre}")]
        if items:
            s.outcomes[kind] = items
    el = p.get("EligibilityModule") or {}
    s.criteria = _md(el, "EligibilityCriteria")
    s.sex = _str(el, "Gender") or None
    s.min_age, s.max_age = norm_age(_str(el, "MinimumAge")), norm_age(_str(el, "MaximumAge"))
    s.healthy_volunteers = norm_bool(_str(el, "HealthyVolunteers") or None)
    s.eligibility_lines = [
        ("Age groups", ", ".join(_list(el, "StdAgeList.StdAge"))), ("Gender based", _str(el, "GenderBased")),
        ("Gender description", _str(el, "GenderDescription")), ("Sampling method", _str(el, "SamplingMethod")),
        ("Study population", _str(el, "StudyPopulation")),
    ]
    cl = p.get("ContactsLocationsModule") or {}
    for loc in _list(cl, "LocationList.Location"):
        s.sites.append(Site(
            facility=_str(loc, "LocationFacility") or None, city=_str(loc, "LocationCity") or None,
            state=_str(loc, "LocationState") or None, zip=_str(loc, "LocationZip") or None,
            country=_str(loc, "LocationCountry") or None, status=_str(loc, "LocationStatus") or None,
            contacts=[_classic_person(c, "LocationContact") for c in _list(loc, "LocationContactList.LocationContact")],
        ))
    s.contacts = [f"Official: {_classic_person(o, 'OverallOfficial')}"
                  for o in _list(cl, "OverallOfficialList.OverallOfficial")]
    s.contacts += [f"Contact: {_classic_person(c, 'CentralContact')}"
                   for c in _list(cl, "CentralContactList.CentralContact")]
    s.results = _results(study.get("ResultsSection"))
    return s


def json_kind(doc: Any) -> SourceFormat | None:
    """"ctgov-api-v2", "ctgov-classic-json", or None for other JSON."""
    if isinstance(doc, dict) and isinstance(doc.get("FullStudiesResponse"), dict):
        return "ctgov-classic-json"
    if isinstance(doc, dict) and ("protocolSection" in doc or isinstance(doc.get("studies"), list)):
        return "ctgov-api-v2"
    if isinstance(doc, list) and doc and all(isinstance(d, dict) and "protocolSection" in d for d in doc):
        return "ctgov-api-v2"
    return None


def parse_json(doc: Any, path: Path) -> list[Trial]:
    """All studies in one JSON document (usually exactly one)."""
    kind = json_kind(doc)
    if kind == "ctgov-classic-json":
        studies = [_classic_study(f.get("Study") or {}) for f in _list(doc, "FullStudiesResponse.FullStudies")]
    elif kind == "ctgov-api-v2":
        items = doc if isinstance(doc, list) else doc.get("studies", [doc])
        studies = [_v2_study(item) for item in items if isinstance(item, dict)]
    else:
        raise UnknownFormat(f"{path}: JSON is neither a ClinicalTrials.gov API v2 study nor a FullStudiesResponse")
    if not studies:
        raise UnknownFormat(f"{path}: JSON holds no studies")
    return [study_to_trial(s, path, kind) for s in studies]
