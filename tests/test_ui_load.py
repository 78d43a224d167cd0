"""Chat under load: 8 concurrent `gradio_client` users on one real assistant get their own
correct answers, follow-ups stay in their own conversation, and overflow past the queue
limit is turned away politely."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_ui_client import client, launched, real_assistant

pytestmark = pytest.mark.integration

ENROLLMENT = {"NCT05106972": "30", "NCT03765957": "12", "NCT04232592": "32", "NCT01728727": "240"}
USERS = [  # (first question, text its answer must contain, the trial it is about)
    ("What's the target recruitment of NCT05106972?", "30", "NCT05106972"),
    ("Who is sponsoring the psoriasis stem cell study?", "Central South University", "NCT03765957"),
    ("How many participants will the intrauterine adhesion trial enroll?", "32", "NCT04232592"),
    ("How many patients does NCT01728727 plan to enroll?", "240", "NCT01728727"),
    ("What ages can join NCT03765957?", "18 to 65", "NCT03765957"),
    ("What is the minimum age for the Haikou cirrhosis trial?", "20", "NCT05106972"),
    ("When did NCT01728727 start?", "September 2012", "NCT01728727"),
    ("Who is the sponsor of the intrauterine adhesion stem cell trial?", "Qi Zhou", "NCT04232592"),
]
FOLLOW_UP = "How many people will it enroll?"
SOURCE_RE = re.compile(r"^\[\d+\] (\S+) ·", re.M)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    a = real_assistant(tmp_path_factory.mktemp("ui-load"))
    a.generator  # noqa: B018 - load the model once, before the clock starts
    return a


def sources(text: str) -> set[str]:
    return set(SOURCE_RE.findall(text))


def converse(url: str, question: str) -> tuple[str, str, float]:
    c = client(url)
    t0 = time.perf_counter()
    first = c.predict(question, api_name="/chat")
    follow = c.predict(FOLLOW_UP, api_name="/chat")
    return first, follow, time.perf_counter() - t0


@pytest.mark.parametrize("workers", [1, 8])
def test_eight_users_get_their_own_correct_answers(assistant, workers):
    with launched(assistant, concurrency_limit=workers, max_queue=16) as url:
        with ThreadPoolExecutor(len(USERS)) as pool:
            results = list(pool.map(lambda u: converse(url, u[0]), USERS))
    for (question, expect, nct), (first, follow, took) in zip(USERS, results):
        assert expect in first.split("\nSources:")[0] and sources(first) == {nct}, (question, first)
        assert ENROLLMENT[nct] in follow.split("\nSources:")[0] and sources(follow) == {nct}, (question, follow)
        assert took < 300
    print("per-user seconds:", [round(r[2], 1) for r in results])


def test_overflow_past_the_queue_limit_is_told_to_wait(assistant):
    from gradio_client.utils import QueueError, Status

    with launched(assistant, concurrency_limit=1, max_queue=2) as url:
        busy = client(url).submit("How are the umbilical cord cells given in NCT05106972?", api_name="/chat")
        deadline = time.time() + 120
        while busy.status().code != Status.PROCESSING and time.time() < deadline:
            time.sleep(0.05)
        with ThreadPoolExecutor(4) as pool:
            jobs = [pool.submit(client(url).predict, q, api_name="/chat") for q, _, _ in USERS[:4]]
            outcomes = []
            for job in jobs:
                try:
                    outcomes.append(job.result(timeout=900))
                except QueueError as exc:
                    outcomes.append(exc)
        turned_away = [o for o in outcomes if isinstance(o, QueueError)]
        assert len(turned_away) == 2, outcomes
        assert all(re.search(r"(?i)queue is full.*try again", str(e)) for e in turned_away)
        for (_, expect, nct), out in zip(USERS[:4], outcomes):
            if isinstance(out, str):
                assert expect in out and sources(out) == {nct}, out
        first = busy.result(timeout=900)
        assert sources(first) <= {"NCT05106972"}, first


def test_a_computed_answer_does_not_wait_behind_a_model_written_one(assistant):
    """With several workers, a question answered from the records' fields is answered while
    another user's model-written answer is still being written (the model's lock admits one)."""
    from gradio_client.utils import Status

    with launched(assistant, concurrency_limit=4, max_queue=16) as url:
        slow = [client(url).submit("How are the umbilical cord cells given in NCT05106972?", api_name="/chat")
                for _ in range(2)]
        deadline = time.time() + 120
        while not any(job.status().code == Status.PROCESSING for job in slow) and time.time() < deadline:
            time.sleep(0.05)
        t0 = time.perf_counter()
        quick = client(url).predict("What is the enrollment of NCT05106972?", api_name="/chat")
        quick_s = time.perf_counter() - t0
        assert "30" in quick.split("\nSources:")[0]
        assert not all(job.done() for job in slow), "both model-written answers ended before the computed one"
        answers = [job.result(timeout=600) for job in slow]
    assert answers[0] == answers[1] and sources(answers[0]) == {"NCT05106972"}
    print(f"computed answer in {quick_s:.2f} s beside two model-written ones")
