"""Question analysis, key mapping and citation rendering (no models)."""

from __future__ import annotations

import pytest

from trialqa.citations import SourceBook, tidy
from trialqa.evidence import Sentence, split_sentences
from trialqa.query import analyse, has_term, words
from trialqa.types import Source, Trial


def _trial(tid="NCT00000001", nct="NCT00000001"):
    return Trial(trial_id=tid, nct_id=nct, doc_id=tid if nct is None else "doc", title="T", source=Source(path="x", format="ctgov-xml"))


def test_analyse_finds_ids_lists_ages_and_terms():
    q = analyse("Which trials would accept a 62-year-old with liver cirrhosis? See nct 1728727")
    assert q.nct_ids == ["NCT01728727"]
    assert q.is_list and q.age == 62
    assert "liver" in q.content_terms and "cirrhosis" in q.content_terms
    assert "trials" not in q.content_terms and "accept" not in q.content_terms


def test_follow_up_pronoun_detected():
    assert analyse("What is its upper age limit?").refers_back
    assert not analyse("What is the upper age limit of NCT01728727?").refers_back


def test_terms_match_word_starts_and_variants():
    text = "injected intravenously with 1.5x10E6/kg"
    assert has_term(text.lower(), set(words(text)), "intravenous")
    assert has_term(text.lower(), set(words(text)), "iv")
    assert has_term(text.lower(), set(words(text)), "kg")
    other = "treatment of women"
    assert not has_term(other.lower(), set(words(other)), "men")


def test_sentences_split_items_and_sentences():
    parts = split_sentences("Inclusion Criteria:\n- Aged 18-65 years. Signed consent.\n• HBV-related cirrhosis")
    assert parts == ["Inclusion Criteria:", "Aged 18-65 years.", "Signed consent.", "HBV-related cirrhosis"]


def test_keys_map_to_labels_and_unknown_keys_are_dropped():
    t = _trial()
    book = SourceBook({t.trial_id: t})
    k1 = book.add(Sentence(t.trial_id, "Eligibility", "Ages 18 to 65.", 0))
    k2 = book.add(Sentence(t.trial_id, "Locations", "Xi'an, China", 1))
    assert (k1, k2) == ("S1", "S2")
    text = book.render("Adults 18 to 65 [S1] in Xi'an [S2, S9] and more [S7].")
    assert text == "Adults 18 to 65 [NCT00000001 · Eligibility] in Xi'an [NCT00000001 · Locations] and more."
    assert [c.section for c in book.citations()] == ["Eligibility", "Locations"]
    assert book.dropped == ["S9", "S7"]


def test_stream_holds_back_partial_keys():
    t = _trial(tid="000_abc", nct=None)
    book = SourceBook({t.trial_id: t})
    book.add(Sentence(t.trial_id, "Summary", "HPV clearance.", 0))
    out = list(book.stream(iter(["It studies HPV [", "S", "1", "] clearance."])))
    assert "".join(out) == "It studies HPV [000_abc · Summary] clearance."
    assert all("[S" not in piece for piece in out)


@pytest.mark.parametrize(("question", "title"), [
    ("What intervention is tested in the study 'Shingles Prevention Study'?", "Shingles Prevention Study"),
    ('Who sponsors "Omega-3 Fatty Acids in Bipolar Disorder"?', "Omega-3 Fatty Acids in Bipolar Disorder"),
    ("Which condition is studied in the trial titled \u2018Progestin Induced Dysphoria\u2019?", "Progestin Induced Dysphoria"),
    ("What's the patient's age limit in the knee arthritis trial?", None),
])
def test_quoted_titles_in_any_quotes_but_not_apostrophes(question: str, title: str | None) -> None:
    assert analyse(question).title_phrase == title


@pytest.mark.parametrize(("min_age", "max_age", "accepts"), [
    ("18 Years", "65 Years", True),
    (None, "120 Hours", False),  # a newborn trial: 120 hours, not 120 years
    ("5 Minutes", "24 Hours", False),
    ("6 Months", None, True),
])
def test_age_filter_reads_every_unit_of_the_registry(min_age, max_age, accepts):
    from trialqa.field_filters import list_filter
    from trialqa.types import TrialFields

    trial = Trial(trial_id="NCT00000009", nct_id="NCT00000009", doc_id="NCT00000009", title="A trial",
                  source=Source(path="NCT00000009.xml", format="ctgov-xml"),
                  fields=TrialFields(min_age=min_age, max_age=max_age))
    filt = list_filter(analyse("Which trials would accept a 62-year-old?"))
    assert filt is not None and filt.test(trial) is accepts


@pytest.mark.parametrize("text, tidied", [
    ("Drug X [NCT1 · Arms], [NCT1 · Arms], [NCT1 · Arms].", "Drug X [NCT1 · Arms]."),
    ("A [NCT1 · Arms][NCT1 · Arms] and [NCT1 · Arms]; B [NCT2 · Arms].", "A [NCT1 · Arms]; B [NCT2 · Arms]."),
    ("A [NCT1 · Arms], [NCT1 · Eligibility] and B [NCT1 · Arms].", "A [NCT1 · Arms], [NCT1 · Eligibility] and B [NCT1 · Arms]."),
])
def test_a_label_repeated_next_to_itself_is_shown_once(text, tidied):
    assert tidy(text) == tidied
