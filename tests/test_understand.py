"""Table tests: question -> plan, and plan -> computed answer, over a small synthetic index."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialqa.answer.db import TrialDB, iso_date, write_database
from trialqa.answer.handlers import dispatch
from trialqa.answer.match import matching
from trialqa.answer.plan import Cond, Not, Plan, filter_label
from trialqa.answer.result import Context
from trialqa.answer.sql import select_ids, where
from trialqa.answer.understand import understand
from trialqa.answer.vocab import Vocabulary
from trialqa.types import Arm, Intervention, Location, Section, Source, Trial, TrialFields, Turn


def _trial(nct: str, title: str, conditions: list[str], **fields) -> Trial:
    f = TrialFields(conditions=conditions, **fields)
    sections = [Section(name="Title", text=f"Brief title: {title}"),
                Section(name="Conditions", text="\n".join(conditions)),
                Section(name="Design", text=f"Study type: {f.study_type}\nPhase: {f.phase}\nAllocation: {f.allocation}"),
                Section(name="Status", text=f"Overall status: {f.status}"),
                Section(name="Eligibility", text=f"Sex: {f.sex}\nAges: {f.min_age} to {f.max_age}"),
                Section(name="Sponsor", text=f"Lead sponsor: {f.sponsor}")]
    if f.enrollment is not None:
        sections.append(Section(name="Enrollment", text=f"Enrollment: {f.enrollment} participants"))
    if f.locations:
        sections.append(Section(name="Locations", text="\n".join(f"{loc.facility}, {loc.city}, {loc.country}" for loc in f.locations)))
    if f.interventions:
        sections.append(Section(name="Interventions", text="\n".join(f"{i.type}: {i.name}" for i in f.interventions)))
    if f.arms:
        sections.append(Section(name="Arms", text="\n".join(f"{a.type}: {a.label}" for a in f.arms)))
    return Trial(trial_id=nct, nct_id=nct, doc_id=nct, title=title, source=Source(path=f"{nct}.xml", format="ctgov-xml"),
                 sections=sections, fields=f)


TRIALS = [
    _trial("NCT00000001", "Aspirin for Breast Cancer Prevention", ["Breast Cancer"], phase="Phase 3", status="Recruiting",
           study_type="Interventional", sex="Female", min_age="18 Years", max_age="75 Years", enrollment=1200,
           allocation="Randomized", masking="Double (Participant, Investigator)", sponsor="National Cancer Institute (NCI)",
           start_date="March 2010", locations=[Location(facility="Hopital Saint-Louis", city="Paris", country="France")],
           interventions=[Intervention(type="Drug", name="Aspirin"), Intervention(type="Drug", name="Placebo")],
           arms=[Arm(label="Placebo", type="Placebo Comparator"), Arm(label="Aspirin", type="Experimental")],
           condition_mesh=["Breast Neoplasms"], has_results=True),
    _trial("NCT00000002", "Exercise in Older Adults With Heart Failure", ["Heart Failure"], phase="N/A", status="Completed",
           study_type="Interventional", sex="All", min_age="65 Years", enrollment=80, allocation="Randomized",
           masking="None (Open Label)", sponsor="Duke University", start_date="June 2001",
           locations=[Location(facility="Duke", city="Durham", country="United States")],
           interventions=[Intervention(type="Behavioral", name="Exercise training")], has_results=False),
    _trial("NCT00000003", "Furosemide in Acute Heart Failure", ["Heart Failure, Acute"], phase="Phase 2", status="Recruiting",
           study_type="Interventional", sex="Male", min_age="40 Years", max_age="80 Years", enrollment=300,
           allocation="Randomized", sponsor="Duke University", start_date="2015-02-01",
           locations=[Location(facility="Charite", city="Berlin", country="Germany"),
                      Location(facility="Duke", city="Durham", country="United States")],
           interventions=[Intervention(type="Drug", name="Furosemide")], has_results=False),
    _trial("NCT00000004", "Montelukast in Childhood Asthma", ["Asthma"], phase="Phase 2/Phase 3", status="Terminated",
           study_type="Interventional", sex="All", min_age="2 Years", max_age="11 Years", enrollment=45,
           allocation="Randomized", sponsor="Merck Sharp & Dohme", start_date="September 1999",
           locations=[Location(facility="Hospital", city="Toronto", country="Canada")],
           interventions=[Intervention(type="Drug", name="Montelukast")], has_results=True),
    _trial("NCT00000005", "Registry of Asthma in Adults", ["Asthma"], status="Completed", study_type="Observational",
           sex="All", min_age="18 Years", enrollment=5000, sponsor="Merck Sharp & Dohme", start_date="2005",
           healthy_volunteers=False, has_results=False),
]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> Context:
    path = tmp_path_factory.mktemp("db") / "trials.db"
    write_database(path, TRIALS)
    db = TrialDB(path)
    return Context({t.trial_id: t for t in TRIALS}, db, Vocabulary.load(db))


def _plan(ctx: Context, q: str, history=()) -> Plan:
    return understand(q, list(history), ctx.vocab, ctx.trials)


def _ids(ctx: Context, plan: Plan) -> list[str]:
    return matching(ctx.db, plan.filters)


@pytest.mark.parametrize("question, intent, labels", [
    ("Which phase 2 trials are recruiting?", "list", {"phase 2", "status: recruiting"}),
    ("Which trials enroll only men?", "list", {"men only"}),
    ("Which trials accept women?", "list", {"accepts women"}),
    ("Which phase 3 trials in France are placebo-controlled?", "list", {"phase 3", "country: France", "(placebo arm or placebo)"}),
    ("How many trials are sponsored by Duke University?", "count", {"sponsor: Duke University"}),
    ("How many asthma trials per phase?", "count", {"condition: asthma"}),
    ("List the terminated trials in Canada with more than 40 participants.", "list",
     {"status: terminated", "country: Canada", "enrollment > 40"}),
    ("Which trials started before 2000?", "list", {"start before 2000"}),
    ("Which randomized trials are for children?", "list", {"randomized", "children (under 18)"}),
    ("Which trials test a behavioral intervention?", "list", {"intervention type: behavioral"}),
    ("Which trials have posted results?", "list", {"results posted"}),
    ("What share of randomized trials are recruiting?", "share", {"randomized"}),
    ("What is the total enrollment of the asthma trials?", "sum", {"condition: asthma"}),
    ("Which is the largest heart failure trial?", "extreme", {"condition: heart failure"}),
])
def test_understand_intent_and_filters(ctx, question, intent, labels):
    plan = _plan(ctx, question)
    assert plan.intent == intent
    assert {filter_label(f) for f in plan.filters} == labels


@pytest.mark.parametrize("question, expected", [
    ("Which phase 2 trials are recruiting?", ["NCT00000003"]),
    ("Which trials enroll only men?", ["NCT00000003"]),
    ("Which trials accept women?", ["NCT00000001", "NCT00000002", "NCT00000004", "NCT00000005"]),
    ("Which phase 3 trials in France are placebo-controlled?", ["NCT00000001"]),
    ("Which phase 3 trials are there?", ["NCT00000001", "NCT00000004"]),  # Phase 2/Phase 3 counts as phase 3
    ("How many trials are sponsored by Duke University?", ["NCT00000002", "NCT00000003"]),
    ("Which NCI-sponsored trials are there?", ["NCT00000001"]),  # an alias joined to "-sponsored"
    ("Which trials started before 2000?", ["NCT00000004"]),
    ("Which trials started after 2004?", ["NCT00000001", "NCT00000003", "NCT00000005"]),
    ("Which randomized trials are for children?", ["NCT00000004"]),
    ("Which trials could take a 70-year-old?", ["NCT00000001", "NCT00000002", "NCT00000003", "NCT00000005"]),
    ("Which trials are in Germany and the United States?", ["NCT00000003"]),
    ("Which trials are in Germany or Canada?", ["NCT00000003", "NCT00000004"]),
    ("Which trials are not randomized?", ["NCT00000005"]),
    ("Which open-label trials are there?", ["NCT00000002"]),
    ("Which double-blind trials are there?", ["NCT00000001"]),
    ("Which CHF trials are recruiting?", ["NCT00000003"]),  # general abbreviation -> heart failure
    ("Which trials of water pills are there?", ["NCT00000003"]),  # lay term -> furosemide
    ("Which observational studies are there?", ["NCT00000005"]),
    ("Which trials enroll between 50 and 500 participants?", ["NCT00000002", "NCT00000003"]),
    ("Which NCI trials are there?", ["NCT00000001"]),
])
def test_filters_select_the_right_trials(ctx, question, expected):
    assert _ids(ctx, _plan(ctx, question)) == expected


def test_count_names_the_set_and_groups(ctx):
    plan = _plan(ctx, "How many asthma trials per status?")
    result = dispatch(plan, ctx)(plan, ctx)
    assert result.claims[0].text.startswith("2 of the 5 indexed trials")
    assert result.table.groups == {"Completed": 1, "Terminated": 1}
    assert [r.trial_id for r in result.table.rows] == ["NCT00000004", "NCT00000005"]


def test_share_sum_extreme_compare(ctx):
    share = _plan(ctx, "What share of randomized trials are recruiting?")
    text = dispatch(share, ctx)(share, ctx).claims[0].text
    assert "2 of the 4" in text and "50%" in text
    total = _plan(ctx, "What is the total enrollment of the asthma trials?")
    assert "5,045 participants in total" in dispatch(total, ctx)(total, ctx).claims[0].text
    ext = _plan(ctx, "Which is the largest heart failure trial?")
    res = dispatch(ext, ctx)(ext, ctx)
    assert res.trials == ["NCT00000003"] and res.claims[1].sources
    cmp_plan = _plan(ctx, "Which of NCT00000002 and NCT00000003 enrolls more participants?")
    assert cmp_plan.intent == "compare"
    res = dispatch(cmp_plan, ctx)(cmp_plan, ctx)
    assert res.claims[-1].text == "NCT00000003 enrolls more."
    assert all(c.sources for c in res.claims[:2])


def test_no_match_is_an_abstention(ctx):
    plan = _plan(ctx, "Which phase 4 trials are recruiting in Japan?")
    assert dispatch(plan, ctx)(plan, ctx).abstain


def test_follow_up_over_a_set_and_ordinals(ctx):
    first = _plan(ctx, "Which trials are sponsored by Duke University?")
    history = [Turn(role="user", content="..."), Turn(role="assistant", content="...",
               trials=["NCT00000002", "NCT00000003"], plan=first)]
    narrowed = _plan(ctx, "Which of those are recruiting?", history)
    assert narrowed.intent == "list" and _ids(ctx, narrowed) == ["NCT00000003"]
    second = _plan(ctx, "What is the phase of the second one?", history)
    assert second.scope == ["NCT00000003"] and second.intent == "field"
    more = _plan(ctx, "And only men?", history)
    assert more.intent == "list" and _ids(ctx, more) == ["NCT00000003"]


def test_negation_wraps_the_filter(ctx):
    plan = _plan(ctx, "Which trials are not placebo-controlled?")
    assert isinstance(plan.filters[0], Not)


def test_sql_renders_for_postgres():
    sql, params = where([Cond(field="condition", op="contains", value=[["asthma"]]),
                         Cond(field="phase", op="in", value=["3"])], "postgres")
    assert "ILIKE %s" in sql and "%asthma%" in params and "?" not in sql
    sql, _ = select_ids([Cond(field="country", op="in", value=["France"])])
    assert sql.startswith("SELECT s.nct_id FROM studies s WHERE")


@pytest.mark.parametrize("text, iso", [("March 2015", "2015-03"), ("March 15, 2015", "2015-03-15"),
                                       ("2015-03-01", "2015-03-01"), ("", None), ("sometime", None)])
def test_iso_date(text, iso):
    assert iso_date(text) == iso


def test_misspelling_is_repaired_from_the_index(ctx):
    plan = _plan(ctx, "Which trials study asthmma?")
    assert _ids(ctx, plan) == ["NCT00000004", "NCT00000005"]
    assert any("asthma" in n for n in plan.notes)


def test_plan_cli_shows_filters_and_sql(tmp_path):
    import json

    from click.testing import CliRunner

    from trialqa.cli import cli
    from trialqa.embed import HashingEmbedder
    from trialqa.settings import Settings
    from trialqa.index_build import build_index

    out = tmp_path / "idx"
    build_index(TRIALS, out, HashingEmbedder(), Settings(), progress=False)
    result = CliRunner().invoke(cli, ["plan", "Which phase 2 trials are recruiting in Germany?", "--index", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["plan"]["intent"] == "list"
    assert {"phase 2", "status: recruiting", "country: Germany"} <= set(data["labels"])
    assert data["sql"].startswith("SELECT s.nct_id FROM studies s WHERE")
    pg = CliRunner().invoke(cli, ["plan", "Which asthma trials are there?", "--index", str(out), "--dialect", "postgres"])
    assert pg.exit_code == 0 and "ILIKE %s" in pg.output
    missing = CliRunner().invoke(cli, ["plan", "anything", "--index", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output
