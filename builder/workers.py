"""Work spread over forked processes: the workers inherit everything (the site, the
compiled templates, the imported libraries) instead of unpickling it; only indices go out
and results come back."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_TASK: tuple[Callable[..., Any], Sequence[Any], tuple[Any, ...]] | None = None


def available(count: int, minimum: int) -> int:
    """How many processes `count` items deserve: all cores (at most 8) from `minimum` items
    on, where the platform can fork; else 1 (this process)."""
    workers = min(os.cpu_count() or 1, 8)
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    return workers if count >= minimum and workers > 1 and can_fork else 1


def map_forked(function: Callable[..., Any], items: Sequence[Any], processes: int, *shared: Any) -> list[Any]:
    """`[function(item, *shared) for item in items]`, in `processes` forked workers, in order.
    The first item (in order) that fails raises its exception here; a worker that dies (killed
    for memory, say) raises BrokenProcessPool instead of leaving this process waiting."""
    with forked(function, items, processes, *shared) as results:
        return list(results)


@contextmanager
def forked(function: Callable[..., Any], items: Sequence[Any], processes: int,
           *shared: Any) -> Iterator[Iterator[Any]]:
    """`map_forked`'s results as they come, in order, while the workers go on: this process can
    use them meanwhile (store them, say). Every worker is forked on entry, so what this process
    opens inside the block never crosses a fork."""
    from concurrent.futures import ProcessPoolExecutor

    global _TASK
    _TASK = (function, items, shared)
    # Objects that exist now are left out of the workers' garbage collections: a collection
    # that walked the inherited heap would write to every object, and each page it wrote to
    # would be copied into the worker (the whole site, once per worker).
    gc.freeze()
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
    try:
        chunk = max(1, min(16, len(items) // (processes * 4)))
        # With "fork", the pool starts every worker at the first task handed to it, and map
        # hands them all out now.
        yield pool.map(_run, range(len(items)), chunksize=chunk)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure: no more work started
        _TASK = None
        gc.unfreeze()


def _run(index: int) -> Any:
    function, items, shared = _TASK
    try:
        return function(items[index], *shared)
    except Exception as err:
        if not _travels(err):  # it could not reach the parent: say what it was
            raise RuntimeError(f"{type(err).__name__}: {err}") from None
        raise


def _travels(err: Exception) -> bool:
    """Whether the exception survives the pickling that carries it to the parent."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001 (any failure to pickle or rebuild it)
        return False
    return True
