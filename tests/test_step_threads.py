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


def test_a_steps_preparation_runs_beside_the_steps_before_it_and_records_after_them() -> None:
    """Previews are made while a batch is fingerprinted; their events still come second."""
    from testament.jobs.dispatch import Inline

    preparing = threading.Event()
    order: list[str] = []

    class First:
        def __call__(self, asset: object) -> None:
            raise AssertionError("the batch is taken at once")

        def batch(self, assets: list[str]) -> None:
            assert preparing.wait(10)  # the next step's preparation runs meanwhile
            order.append("first recorded")

        def finish(self) -> None: ...

    class Second:
        def __call__(self, asset: object) -> None:
            raise AssertionError("the batch is taken at once")

        def prepare(self, assets: list[str]) -> list[str]:
            preparing.set()
            return [f"made {asset}" for asset in assets]

        def record(self, made: list[str]) -> None:
            order.append(f"second recorded {made}")

        def finish(self) -> None: ...

    Inline([First(), Second()]).committed(["a", "b"])  # type: ignore[list-item]
    assert order == ["first recorded", "second recorded ['made a', 'made b']"]
