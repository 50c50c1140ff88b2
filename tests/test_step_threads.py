"""A step's batch is worked in threads: results in order, items side by side."""

from __future__ import annotations

import threading

import pytest

from testament.jobs import threads


def test_a_batch_is_worked_side_by_side_and_answered_in_order(monkeypatch) -> None:
    monkeypatch.setattr(threads, "THREADS", 2)
    together = threading.Barrier(2, timeout=10)  # broken unless two items run at once

    def work(item: int) -> int:
        if item < 2:
            together.wait()
        return item * item

    assert threads.each(work, list(range(6))) == [0, 1, 4, 9, 16, 25]


def test_a_failure_in_one_item_reaches_the_caller(monkeypatch) -> None:
    monkeypatch.setattr(threads, "THREADS", 2)

    def work(item: int) -> int:
        if item == 3:
            raise ValueError("item 3")
        return item

    with pytest.raises(ValueError, match="item 3"):
        threads.each(work, list(range(5)))
