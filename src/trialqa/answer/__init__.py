"""The answering layer: plan -> handler -> (evidence -> generation) -> verification.

- `plan.py`        the typed question plan (scope, intent, filters)
- `understand.py`  question + history + index vocabulary -> Plan
- `vocab.py`       what the index holds (countries, sponsors, conditions, MeSH ...) and general synonyms
- `db.py`          the AACT-shaped SQLite copy of the structured fields, written at index time
- `sql.py`         one visitor: a plan's filters and aggregates -> SQL
- `handlers/`      one module per intent
"""
