"""The structured fields of an index as an SQLite database shaped like AACT.

AACT (the Clinical Trials Transformation Initiative's relational copy of ClinicalTrials.gov)
is what trial analysts already query, so the tables and columns here use its names; a plan's
filters are translated to SQL once (`answer/sql.py`) and the same SQL shape runs against a
real AACT PostgreSQL (docs/aact.md). Differences, all documented there:

- `nct_id` holds the trial's key in the index: its NCT number, or the document's name
  for a page that has none;
- ages in `calculated_values` are in years (AACT keeps the unit in a column of its own);
- dates are ISO text ("2015-03" or "2015-03-01") in `studies.start_date_iso` /
  `completion_date_iso`, the registry's own text in `start_date` / `completion_date`;
- `countries` has one row per country named by a facility.

Written at index time into `trials.db` beside the other index files (covered by the
manifest's sha256 like them); opened read-only, one connection per thread.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from trialqa.types import Trial

DB_FILE = "trials.db"

SCHEMA = """
CREATE TABLE studies (
  nct_id TEXT PRIMARY KEY, brief_title TEXT, official_title TEXT, acronym TEXT,
  overall_status TEXT, phase TEXT, study_type TEXT, enrollment INTEGER, enrollment_type TEXT,
  start_date TEXT, completion_date TEXT, start_date_iso TEXT, completion_date_iso TEXT,
  has_results INTEGER, source_format TEXT
);
CREATE TABLE conditions (nct_id TEXT, name TEXT, downcase_name TEXT);
CREATE TABLE browse_conditions (nct_id TEXT, mesh_term TEXT, downcase_mesh_term TEXT, mesh_type TEXT);
CREATE TABLE browse_interventions (nct_id TEXT, mesh_term TEXT, downcase_mesh_term TEXT, mesh_type TEXT);
CREATE TABLE interventions (nct_id TEXT, intervention_type TEXT, name TEXT, description TEXT);
CREATE TABLE design_groups (nct_id TEXT, group_type TEXT, title TEXT, description TEXT);
CREATE TABLE designs (
  nct_id TEXT, allocation TEXT, intervention_model TEXT, primary_purpose TEXT, masking TEXT
);
CREATE TABLE eligibilities (
  nct_id TEXT, gender TEXT, minimum_age TEXT, maximum_age TEXT, healthy_volunteers TEXT, criteria TEXT
);
CREATE TABLE calculated_values (
  nct_id TEXT, minimum_age_num REAL, maximum_age_num REAL, number_of_facilities INTEGER,
  were_results_reported INTEGER
);
CREATE TABLE facilities (nct_id TEXT, name TEXT, city TEXT, country TEXT);
CREATE TABLE countries (nct_id TEXT, name TEXT, removed INTEGER DEFAULT 0);
CREATE TABLE sponsors (nct_id TEXT, lead_or_collaborator TEXT, name TEXT);
CREATE TABLE keywords (nct_id TEXT, name TEXT, downcase_name TEXT);
CREATE TABLE criteria (nct_id TEXT, kind TEXT, ordinal INTEGER, text TEXT, parsed_json TEXT);
CREATE INDEX criteria_nct ON criteria(nct_id);
CREATE VIRTUAL TABLE trial_text USING fts5(
  nct_id UNINDEXED, naming, treatments, about, eligibility, tokenize = 'unicode61'
);
"""
INDEXES = """
CREATE INDEX conditions_nct ON conditions(nct_id);
CREATE INDEX browse_conditions_nct ON browse_conditions(nct_id);
CREATE INDEX browse_interventions_nct ON browse_interventions(nct_id);
CREATE INDEX interventions_nct ON interventions(nct_id);
CREATE INDEX design_groups_nct ON design_groups(nct_id);
CREATE INDEX facilities_nct ON facilities(nct_id);
CREATE INDEX countries_nct ON countries(nct_id);
CREATE INDEX sponsors_nct ON sponsors(nct_id);
CREATE INDEX keywords_nct ON keywords(nct_id);
CREATE INDEX designs_nct ON designs(nct_id);
CREATE INDEX eligibilities_nct ON eligibilities(nct_id);
CREATE INDEX calculated_values_nct ON calculated_values(nct_id);
"""

_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}


def iso_date(text: str | None) -> str | None:
    """'March 2015' -> '2015-03', 'March 15, 2015' -> '2015-03-15', '2015-03-01' kept; else None."""
    if not text:
        return None
    t = text.strip()
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$", t)
    if m:
        return "-".join(p for p in m.groups() if p)
    m = re.match(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$", t)
    if m and m.group(1).lower()[:3] in {k[:3] for k in _MONTHS}:
        month = next(v for k, v in _MONTHS.items() if k.startswith(m.group(1).lower()[:3]))
        day = f"-{int(m.group(2)):02d}" if m.group(2) else ""
        return f"{m.group(3)}-{month:02d}{day}"
    m = re.search(r"\b(19|20)\d{2}\b", t)
    return m.group(0) if m else None


def age_years(value: str | None) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; None for missing or 'N/A'."""
    if not value:
        return None
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)?", value, re.IGNORECASE)
    if not m:
        return None
    unit = (m.group(2) or "year").lower()
    per_year = {"year": 1, "month": 12, "week": 52, "day": 365, "hour": 8760, "minute": 525600}[unit]
    return float(m.group(1)) / per_year


def _rows(trial: Trial) -> dict[str, list[tuple[Any, ...]]]:
    from trialqa.answer.eligibility.store import criteria_rows
    f, key = trial.fields, trial.trial_id
    hv = {True: "Accepts Healthy Volunteers", False: "No"}.get(f.healthy_volunteers)  # type: ignore[arg-type]
    countries = list(dict.fromkeys(loc.country for loc in f.locations if loc.country))
    return {
        "studies": [(key, trial.title, f.official_title, f.acronym, f.status, f.phase, f.study_type,
                     f.enrollment, f.enrollment_type, f.start_date, f.completion_date,
                     iso_date(f.start_date), iso_date(f.completion_date),
                     None if f.has_results is None else int(f.has_results), trial.source.format)],
        "conditions": [(key, c, c.lower()) for c in f.conditions],
        "browse_conditions": [(key, m, m.lower(), "mesh-list") for m in f.condition_mesh],
        "browse_interventions": [(key, m, m.lower(), "mesh-list") for m in f.intervention_mesh],
        "interventions": [(key, i.type, i.name, i.description) for i in f.interventions],
        "design_groups": [(key, a.type, a.label, a.description) for a in f.arms],
        "designs": [(key, f.allocation, f.intervention_model, f.primary_purpose, f.masking)],
        "eligibilities": [(key, f.sex, f.min_age, f.max_age, hv, trial.section_text("Eligibility"))],
        "calculated_values": [(key, age_years(f.min_age), age_years(f.max_age), len(f.locations),
                               None if f.has_results is None else int(f.has_results))],
        "facilities": [(key, loc.facility, loc.city, loc.country) for loc in f.locations],
        "countries": [(key, c, 0) for c in countries],
        "sponsors": ([(key, "lead", f.sponsor)] if f.sponsor else [])
        + [(key, "collaborator", c) for c in f.collaborators],
        "keywords": [(key, k, k.lower()) for k in f.keywords],
        "criteria": criteria_rows(trial),  # eligibility criteria, split and parsed (answer/eligibility)
        "trial_text": [(key, *text_columns(trial))],
    }


def text_columns(trial: Trial) -> tuple[str, str, str, str]:
    """The full-text columns of a trial: what names it (titles, acronym, conditions, MeSH,
    keywords), what it gives (interventions, their MeSH, arms), what it is about (summary,
    description, outcomes) and its eligibility text. Topic filters match whole trials here."""
    f = trial.fields
    naming = " ; ".join([trial.title, f.official_title or "", f.acronym or "", *f.conditions,
                         *f.condition_mesh, *f.keywords])
    treatments = " ; ".join([trial.section_text("Interventions"), trial.section_text("Arms"),
                             *f.intervention_mesh])
    about = " ; ".join([trial.section_text("Summary"), trial.section_text("Description"),
                        trial.section_text("Outcomes")])
    return naming, treatments, about, trial.section_text("Eligibility")


def write_database(path: Path, trials: Iterable[Trial]) -> None:
    """Write the AACT-shaped tables for `trials` into a new SQLite file at `path`."""
    path = Path(path)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        for trial in trials:
            for table, rows in _rows(trial).items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        con.executescript(INDEXES)
        con.commit()
    finally:
        con.close()


class TrialDB:
    """Read-only access to an index's `trials.db`; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            con.create_function("lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True)
            self._local.con = con
        return con

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._con().execute(sql, params).fetchall()

    def column(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return [r[0] for r in self.query(sql, params)]
