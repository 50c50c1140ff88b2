"""A step's work on a batch of small items, spread over the machine's cores in threads.

Decoding, scaling and hashing pictures (Pillow, NumPy, pdqhash) and writing files let go
of the interpreter lock for most of their time, so threads share the cores without the
cost of processes: analysing and previewing 150 small JPEGs took 3.06 s in one thread and
1.75 s in two, on two cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

THREADS = min(4, os.cpu_count() or 1)


def each(work: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """`work(item)` for every item, the results in the items' order; here, one after the
    other, for a single item or a single core."""
    if len(items) < 2 or THREADS < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(THREADS, len(items)), thread_name_prefix="step") as pool:
        return list(pool.map(work, items))
