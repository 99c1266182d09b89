"""Forked workers: results in order, and every failure reaches the parent (never a hang)."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from builder import workers
from builder.errors import BuildError

pytestmark = pytest.mark.skipif(workers.available(2, 2) < 2, reason="needs two cores and fork")


class _Unpicklable(Exception):
    def __init__(self, a: str, b: str):  # pickling rebuilds it with one argument: it cannot travel
        super().__init__(f"{a} {b}")


def _square(item: int, offset: int) -> int:
    return item * item + offset


def _fails_on(item: int, bad: int, kind: str) -> int:
    if item == bad:
        if kind == "build":
            raise BuildError("không đọc được", "_posts/bai.md", 7)
        if kind == "unpicklable":
            raise _Unpicklable("hỏng", "rồi")
        os._exit(3)  # a worker killed (out of memory, say)
    return item


def test_results_come_back_in_order_with_the_shared_values() -> None:
    assert workers.map_forked(_square, list(range(50)), 2, 1) == [n * n + 1 for n in range(50)]


def test_an_error_keeps_its_file_and_line() -> None:
    with pytest.raises(BuildError) as caught:
        workers.map_forked(_fails_on, list(range(40)), 2, 17, "build")
    assert str(caught.value) == "_posts/bai.md:7: không đọc được"


def test_an_error_that_cannot_travel_is_named_instead_of_hanging() -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable: hỏng rồi"):
        workers.map_forked(_fails_on, list(range(40)), 2, 17, "unpicklable")


def test_a_worker_that_dies_stops_the_work_instead_of_hanging() -> None:
    with pytest.raises(BrokenProcessPool):
        workers.map_forked(_fails_on, list(range(40)), 2, 17, "exit")
