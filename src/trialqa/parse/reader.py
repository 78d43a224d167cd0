"""Read one file into trial records: decode, detect the format, run that format's parser."""

from __future__ import annotations

import json
from pathlib import Path

from trialqa.errors import BadInput, UnknownFormat
from trialqa.parse import ctgov_page, medpath, veeva
from trialqa.parse.ctgov_json import parse_json
from trialqa.parse.ctgov_xml import parse_xml
from trialqa.parse.detect import decode, html_to_text, page_kind, sniff
from trialqa.types import Trial

_PAGE_PARSERS = {
    "veeva-page": veeva.parse_veeva,
    "medpath-page": medpath.parse_medpath,
    "ctgov-page": ctgov_page.parse_ctgov_page,
}


def parse_records(path: Path) -> list[Trial]:
    """Every trial record in one file (one for all formats but multi-study JSON).

    Raises `BadInput` (unreadable, empty, binary, invalid UTF-8, malformed XML/JSON) or
    `UnknownFormat`, with a one-line message naming the file and the reason.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory; use ingest() for directories") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    text = decode(data, path)
    kind = sniff(text)
    if kind == "xml":
        return [parse_xml(data, path)]
    if kind == "json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"{path}: malformed or truncated JSON ({exc})") from None
        return parse_json(doc, path)
    if kind == "html":
        text = html_to_text(text, path)
        kind = page_kind(text)
    if kind in _PAGE_PARSERS:
        return [_PAGE_PARSERS[kind](text, path)]
    raise UnknownFormat(
        f"{path}: unknown format (expected ClinicalTrials.gov XML or JSON, or a ClinicalTrials.Veeva, "
        "MedPath or ClinicalTrials.gov study page)"
    )


def parse_file(path: Path) -> Trial:
    """The single trial record in `path`; see `parse_records` for the errors raised."""
    records = parse_records(path)
    if len(records) != 1:
        raise BadInput(f"{path}: holds {len(records)} studies; use ingest() to read them all")
    return records[0]
