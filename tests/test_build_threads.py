"""Index build, embedding stage: the thread count per batch follows measured speed."""

from __future__ import annotations

from trialqa.embed import ThreadChooser


def run(chooser: ThreadChooser, seconds_per_piece: dict[int, float], batches: int) -> list[int]:
    picked = []
    for _ in range(batches):
        threads = chooser.pick()
        picked.append(threads)
        chooser.record(threads, 1000, 1000 * seconds_per_piece[threads])
    return picked


def test_tries_both_then_keeps_the_faster_and_re_tries_the_other() -> None:
    chooser = ThreadChooser(2, explore=4)
    picked = run(chooser, {2: 1e-4, 1: 3e-4}, 20)
    assert picked[:2] == [2, 1]
    assert picked.count(1) <= 2 + 20 // 4
    assert picked[-3:].count(2) >= 2


def test_switches_when_the_load_changes() -> None:
    chooser = ThreadChooser(2, explore=4)
    run(chooser, {2: 1e-4, 1: 3e-4}, 12)
    assert chooser.pick() == 2 or chooser.batches % 4 == 3
    busy = run(chooser, {2: 9e-4, 1: 3e-4}, 16)  # two threads now fight other processes
    assert busy[-4:].count(1) >= 3


def test_one_core_has_nothing_to_choose() -> None:
    chooser = ThreadChooser(1)
    assert run(chooser, {1: 1e-4}, 10) == [1] * 10
