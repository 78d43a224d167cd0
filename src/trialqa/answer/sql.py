"""One visitor: a plan's filters -> an SQL condition over AACT-shaped tables.

`where(filters, dialect)` returns (sql, params) for a condition on the alias `s` (studies).
The same tree renders for the embedded SQLite index ("sqlite": full-text filters use the
index's FTS5 table) and for a real AACT PostgreSQL ("postgres": full-text filters become
ILIKE over AACT's own columns; see docs/aact.md). Each field's meaning is stated here once:

| field | matches when |
|---|---|
| phase | the trial's phases include it ("Phase 2/Phase 3" counts for 2 and for 3) |
| status, study_type, allocation, intervention_model, primary_purpose | equal (case-insensitive) |
| masking | the masking starts with one of the values ("None" = open label; "double-blind" asks for Double, Triple or Quadruple) |
| sex | op "is": the trial takes only that sex; op "covers": it takes that sex (or all) |
| age | op "covers" n: min <= n <= max; "ge" n: admits someone of n or more (max >= n or none); "le"/"lt" n: admits someone of at most / under n (min <= n / min < n or none) |
| healthy_volunteers, has_results | the stated flag equals the value (unknown never matches) |
| enrollment, facilities | numeric comparison |
| start_date, completion_date | ISO prefix comparison ("in 2012" = starts with 2012) |
| country, city, facility | a facility row equals (country, city) or contains (facility) the value |
| sponsor / lead_sponsor / collaborator | the lead sponsor / any sponsor row / a collaborator contains the value |
| condition | every word group appears in the naming text (titles, conditions, MeSH, keywords) |
| intervention | ... in the treatments text (interventions, arms, intervention MeSH) |
| topic | ... in the naming, treatments or about (summary, description, outcomes) text |
| intervention_type, arm_type | some intervention / arm group has that type |
| trial | the trial id is one of the values |
"""

from __future__ import annotations

from typing import Any, Literal

from trialqa.answer.plan import And, Cond, Filter, Not, Or
from trialqa.errors import BadInput

Dialect = Literal["sqlite", "postgres"]

_EQ_COLUMNS = {
    "status": "s.overall_status", "study_type": "s.study_type",
    "allocation": "(SELECT d.allocation FROM designs d WHERE d.nct_id = s.nct_id)",
    "intervention_model": "(SELECT d.intervention_model FROM designs d WHERE d.nct_id = s.nct_id)",
    "primary_purpose": "(SELECT d.primary_purpose FROM designs d WHERE d.nct_id = s.nct_id)",
}
_NUM_COLUMNS = {
    "enrollment": "s.enrollment",
    "facilities": "(SELECT COUNT(*) FROM facilities f WHERE f.nct_id = s.nct_id)",
}
_DATE_COLUMNS = {"start_date": "s.start_date_iso", "completion_date": "s.completion_date_iso"}
_CMP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "="}
#: full-text columns of the index's FTS5 table, per text field
_FTS_COLUMNS = {"condition": "naming", "intervention": "treatments", "topic": "{naming treatments about}"}
#: the same fields against AACT's own tables (postgres)
_PG_TEXT = {
    "condition": ["s.brief_title", "s.official_title",
                  "(SELECT string_agg(c.name, ' ') FROM conditions c WHERE c.nct_id = s.nct_id)",
                  "(SELECT string_agg(b.mesh_term, ' ') FROM browse_conditions b WHERE b.nct_id = s.nct_id)",
                  "(SELECT string_agg(k.name, ' ') FROM keywords k WHERE k.nct_id = s.nct_id)"],
    "intervention": ["(SELECT string_agg(i.name || ' ' || coalesce(i.description, ''), ' ') FROM interventions i WHERE i.nct_id = s.nct_id)",
                     "(SELECT string_agg(g.title || ' ' || coalesce(g.description, ''), ' ') FROM design_groups g WHERE g.nct_id = s.nct_id)",
                     "(SELECT string_agg(b.mesh_term, ' ') FROM browse_interventions b WHERE b.nct_id = s.nct_id)"],
}
_PG_TEXT["topic"] = _PG_TEXT["condition"] + _PG_TEXT["intervention"] + [
    "(SELECT b.description FROM brief_summaries b WHERE b.nct_id = s.nct_id)"]


def where(filters: list[Filter], dialect: Dialect = "sqlite") -> tuple[str, list[Any]]:
    """The SQL condition (on studies `s`) that all `filters` hold, with its parameters."""
    visitor = _Visitor(dialect)
    sql = visitor.visit(And(items=list(filters)))
    return sql, visitor.params


def select_ids(filters: list[Filter], dialect: Dialect = "sqlite") -> tuple[str, list[Any]]:
    cond, params = where(filters, dialect)
    return f"SELECT s.nct_id FROM studies s WHERE {cond} ORDER BY s.nct_id", params


class _Visitor:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.params: list[Any] = []
        self.p = "?" if dialect == "sqlite" else "%s"

    def visit(self, f: Filter) -> str:
        if isinstance(f, And):
            return "(" + " AND ".join(self.visit(i) for i in f.items) + ")" if f.items else "1=1"
        if isinstance(f, Or):
            return "(" + " OR ".join(self.visit(i) for i in f.items) + ")" if f.items else "1=0"
        if isinstance(f, Not):
            return f"NOT coalesce({self.visit(f.item)}, 0)"  # unknown is not a match, so NOT unknown is
        return self.cond(f)

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return self.p

    def values(self, c: Cond) -> list[Any]:
        return list(c.value) if isinstance(c.value, (list, tuple)) else [c.value]

    def cond(self, c: Cond) -> str:
        fld = c.field
        if fld == "trial":
            return "s.nct_id IN (" + ",".join(self.bind(v) for v in self.values(c)) + ")"
        if fld == "phase":
            return "(" + " OR ".join(self._phase(v) for v in self.values(c)) + ")"
        if fld in _EQ_COLUMNS:
            col = _EQ_COLUMNS[fld]
            return f"lower({col}) IN (" + ",".join(self.bind(str(v).lower()) for v in self.values(c)) + ")"
        if fld == "masking":
            col = "(SELECT d.masking FROM designs d WHERE d.nct_id = s.nct_id)"
            parts = [f"lower({col}) LIKE {self.bind(str(v).lower() + '%')}" for v in self.values(c)]
            return "(" + " OR ".join(parts) + ")"
        if fld == "sex":
            col = "(SELECT e.gender FROM eligibilities e WHERE e.nct_id = s.nct_id)"
            if c.op == "covers":
                return f"{col} IN ({self.bind(c.value)}, 'All')"
            return f"{col} = {self.bind(c.value)}"
        if fld == "age":
            return self._age(c)
        if fld == "healthy_volunteers":
            col = "(SELECT e.healthy_volunteers FROM eligibilities e WHERE e.nct_id = s.nct_id)"
            return f"{col} = 'Accepts Healthy Volunteers'" if c.value else f"{col} = 'No'"
        if fld == "has_results":
            return "s.has_results = 1" if c.value else "s.has_results = 0"
        if fld in _NUM_COLUMNS:
            col = _NUM_COLUMNS[fld]
            if c.op == "between":
                lo, hi = c.value
                return f"({col} >= {self.bind(lo)} AND {col} <= {self.bind(hi)})"
            return f"{col} {_CMP.get(c.op, '=')} {self.bind(c.value)}"
        if fld in _DATE_COLUMNS:
            col = _DATE_COLUMNS[fld]
            if c.op == "eq":
                return f"{col} LIKE {self.bind(str(c.value) + '%')}"
            if c.op == "between":
                lo, hi = c.value
                return f"({col} >= {self.bind(lo)} AND {col} < {self.bind(hi)})"
            return f"{col} {_CMP[c.op]} {self.bind(str(c.value))}"
        if fld in ("country", "city"):
            table = "countries" if fld == "country" else "facilities"
            col = "name" if fld == "country" else "city"
            return (f"EXISTS (SELECT 1 FROM {table} x WHERE x.nct_id = s.nct_id AND lower(x.{col}) IN ("
                    + ",".join(self.bind(str(v).lower()) for v in self.values(c)) + "))")
        if fld == "facility":
            return self._contains("facilities", "name", c)
        if fld in ("sponsor", "lead_sponsor", "collaborator"):
            role = {"sponsor": "lead", "lead_sponsor": "lead", "collaborator": "collaborator"}[fld]
            return self._contains("sponsors", "name", c, f"x.lead_or_collaborator = '{role}'")
        if fld == "intervention_type":
            return self._equals_any("interventions", "intervention_type", c)
        if fld == "arm_type":
            return self._equals_any("design_groups", "group_type", c)
        if fld in ("condition", "intervention", "topic"):
            return self._text(fld, c)
        raise BadInput(f"plan filter: unknown field '{fld}'")

    def _phase(self, value: Any) -> str:
        v = str(value).strip()
        if v.lower().startswith("early"):
            return "s.phase LIKE 'Early Phase 1%'"
        if v.upper() in ("N/A", "NA"):
            return "s.phase = 'N/A'"
        if "/" in v:
            a, b = (x.strip()[-1] for x in v.split("/", 1))
            return f"s.phase = 'Phase {a}/Phase {b}'"
        digit = v[-1]
        return (f"(s.phase = 'Phase {digit}' OR s.phase LIKE 'Phase {digit}/%' "
                f"OR s.phase LIKE '%/Phase {digit}')")

    def _age(self, c: Cond) -> str:
        lo = "(SELECT v.minimum_age_num FROM calculated_values v WHERE v.nct_id = s.nct_id)"
        hi = "(SELECT v.maximum_age_num FROM calculated_values v WHERE v.nct_id = s.nct_id)"
        if c.op == "covers":
            n = self.bind(float(c.value))
            m = self.bind(float(c.value))
            return f"(coalesce({lo}, 0) <= {n} AND coalesce({hi}, 999) >= {m})"
        if c.op in ("ge", "gt"):
            return f"coalesce({hi}, 999) {_CMP[c.op]} {self.bind(float(c.value))}"
        if c.op in ("le", "lt"):
            return f"coalesce({lo}, 0) {_CMP[c.op]} {self.bind(float(c.value))}"
        if c.op == "between":
            a, b = c.value
            return f"(coalesce({lo}, 0) <= {self.bind(float(b))} AND coalesce({hi}, 999) >= {self.bind(float(a))})"
        raise BadInput(f"plan filter: age does not take '{c.op}'")

    def _contains(self, table: str, col: str, c: Cond, extra: str = "1=1") -> str:
        likes = " OR ".join(f"lower(x.{col}) LIKE {self.bind('%' + str(v).lower() + '%')}" for v in self.values(c))
        return f"EXISTS (SELECT 1 FROM {table} x WHERE x.nct_id = s.nct_id AND {extra} AND ({likes}))"

    def _equals_any(self, table: str, col: str, c: Cond) -> str:
        vals = ",".join(self.bind(str(v).lower()) for v in self.values(c))
        return f"EXISTS (SELECT 1 FROM {table} x WHERE x.nct_id = s.nct_id AND lower(x.{col}) IN ({vals}))"

    def _text(self, fld: str, c: Cond) -> str:
        """`value` is a list of word groups: every group must match, any variant of a group."""
        groups = c.value if isinstance(c.value, list) else [[str(c.value)]]
        groups = [g if isinstance(g, list) else [g] for g in groups]
        if self.dialect == "postgres":
            cols = " || ' ' || ".join(f"coalesce({x}, '')" for x in _PG_TEXT[fld])
            parts = []
            for g in groups:
                parts.append("(" + " OR ".join(f"({cols}) ILIKE {self.bind('%' + v + '%')}" for v in g) + ")")
            return "(" + " AND ".join(parts) + ")"
        query = " AND ".join("(" + " OR ".join(fts_term(v) for v in g) + ")" for g in groups)
        column = _FTS_COLUMNS[fld]
        return (f"s.nct_id IN (SELECT t.nct_id FROM trial_text t WHERE trial_text MATCH "
                f"{self.bind(f'{column} : ({query})')})")


def fts_term(variant: str) -> str:
    """One variant as an FTS5 query: a phrase of word prefixes ('heart fail*' -> "heart" "fail"*)."""
    import re

    toks = re.findall(r"[a-z0-9]+", variant.lower())
    if not toks:
        return '""'
    last = f'"{toks[-1]}"' + ("*" if len(toks[-1]) > 4 else "")  # short words whole: "flu" is not "fluid"
    if len(toks) == 1:
        return last
    return "(" + " + ".join(f'"{t}"' for t in toks[:-1]) + f" + {last})"
