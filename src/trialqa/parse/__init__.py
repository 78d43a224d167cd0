"""Ingestion: every source format becomes one typed `Trial` with canonical sections.

    parse_file(path) -> Trial            one file (BadInput / UnknownFormat on failure)
    parse_records(path) -> list[Trial]   every study in one file
    ingest(paths, on_warning) -> IngestResult   files and directories, bad files skipped

One parser module per format (veeva, medpath, ctgov_page, ctgov_xml, ctgov_json) behind
the content sniffer in `detect`; shared cleaning in `common`.
"""

from trialqa.parse.batch import IngestResult, ingest, iter_files
from trialqa.parse.reader import parse_file, parse_records

__all__ = ["IngestResult", "ingest", "iter_files", "parse_file", "parse_records"]
