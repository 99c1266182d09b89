"""Work spread over forked processes: the workers inherit everything (the site, the
compiled templates, the imported libraries) instead of unpickling it; only indices go out
and results come back."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
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


# --- workers forked before their work is known -------------------------------------------------

_LENGTH = struct.Struct("<Q")  # each message: its length, then its pickle
_DONE = "done"  # a worker's last message: it claims nothing more and exits


class Started:
    """Workers forked now, before their work is known, while this process goes on (reading the
    site): the first runs `warm()` (imports, set-up) and then forks the others, which inherit
    what it set up instead of doing it again. The work is then handed to them as it becomes
    known: `share(...)` says what the items are done with (sent to every worker: they did not
    inherit it), `hand_out(items)` adds items, `all_results()` gives every result in order;
    `results(...)` does the three at once. `close()` ends them, used or not.

    The items go out a chunk at a time through one pipe the workers share, each taking the
    next chunk when it is free (the fastest takes more), and come back a chunk at a time
    through each worker's own pipe. Stopping the first worker stops the others: it stops and
    reaps them first. (They stay in this process's group: Ctrl-C reaches them as it reaches
    this process, and a worker that writes to the terminal is never stopped for it.)"""

    def __init__(self, processes: int, warm: Callable[[], None]):
        import fcntl
        import tempfile

        # One worker at a time reads a chunk off the shared pipe: a lock on a file, which the
        # system lets go of when its holder dies (a semaphore would stay taken, and the others
        # would wait for it forever).
        self._taking = tempfile.TemporaryFile()
        self._lead: int | None = None
        self._fds: list[int] = []
        self._feeders: list[threading.Thread] = []
        self._outboxes: list[queue.SimpleQueue] = []  # each feeder's: bytes to write, then None
        self._handed_out = 0  # items so far
        self._shares = -1  # what the work shares, sent how many times (the chunks say which)
        self._finished = False
        made: list[int] = []
        try:
            tasks_out, self._tasks = _pipe(made)  # the items, read by every worker
            # Each worker's pipes: what the work shares (this process -> it), its results (back).
            pipes = [(_pipe(made), _pipe(made)) for _ in range(processes)]
            self._children = [_Child(setup_in, results_out) for (_, setup_in), (results_out, _) in pipes]
            self._lead = os.fork()
        except BaseException:
            _close(*made)
            self._taking.close()
            raise
        if self._lead == 0:  # the first worker: it never returns into the caller's code
            status = 1
            try:
                _close(self._tasks, *(fd for child in self._children for fd in (child.setup, child.results)))
                taking = self._taking.fileno()
                _lead([(setup_out, results_in) for (setup_out, _), (_, results_in) in pipes], tasks_out, warm,
                      lambda: fcntl.lockf(taking, fcntl.LOCK_EX), lambda: fcntl.lockf(taking, fcntl.LOCK_UN))
                status = 0
            finally:
                os._exit(status)
        # This process's ends, closed by `close` (the shared pipe's by its feeder, once started).
        self._fds = [self._tasks, *(fd for child in self._children for fd in (child.setup, child.results))]
        # Only the workers' ends stay open there, and this process's here: a pipe whose
        # writers are all gone reads as ended, which is how each side learns that the other is.
        _close(tasks_out, *(fd for (out, _), (_, into) in pipes for fd in (out, into)))

    @contextmanager
    def results(self, function: Callable[..., Any], items: Sequence[Any], *shared: Any,
                setup: Callable[..., tuple] | None = None) -> Iterator[Iterator[Any]]:
        """`function(item, *args)` for every item, in order, as they come, where `args` is
        `setup(*shared)` (called once in each worker) or `shared`. As `forked`: the first item
        in order that fails raises its exception here, and a worker that dies raises
        BrokenProcessPool."""
        self.share(function, *shared, setup=setup)
        self.hand_out(items)
        with self.all_results() as results:
            yield results

    def share(self, function: Callable[..., Any], *shared: Any,
              setup: Callable[..., tuple] | None = None) -> None:
        """What the items handed out from now on are done with (see `results`); sent to every
        worker now, by a thread: a worker still warming up reads it when it is ready, and this
        process goes on meanwhile."""
        if self._lead is None:  # their pipes are closed, and the numbers may name other files now
            raise RuntimeError("these workers were stopped; start others")
        if not self._feeders:
            self._start_feeders()
        common = _message((function, shared, setup))
        for outbox in self._outboxes[:-1]:
            outbox.put(common)
        self._shares += 1

    def hand_out(self, items: Sequence[Any], size: int | None = None) -> None:
        """`items` to do after those handed out before, with what was shared last, `size` to a
        chunk (default: a few chunks per worker, at most 16 items each). Pickled here, a
        chunk at a time, before this process does anything else (a thread pickling them
        would wait for the interpreter while this process works, and the workers would wait
        for it); written by a thread."""
        if self._shares < 0:
            raise RuntimeError("nothing shared yet: say what the items are done with first")
        size = size or max(1, min(16, len(items) // (len(self._children) * 4)))
        for first in range(0, len(items), size):
            chunk = (self._handed_out + first, items[first:first + size], self._shares)
            self._outboxes[-1].put(_message(chunk))
        self._handed_out += len(items)

    @contextmanager
    def all_results(self) -> Iterator[Iterator[Any]]:
        """Every result of the items handed out, in order, as they come (see `results`); no
        more items can be handed out. The workers are closed when the block ends."""
        if self._lead is None:
            raise RuntimeError("these workers were stopped; start others")
        if self._outboxes:
            self._outboxes[-1].put(None)  # the feeder closes the shared pipe after the last chunk
        try:
            yield self._all_in_order(self._handed_out)
        finally:
            self.close()

    def _start_feeders(self) -> None:
        """A thread per pipe this process writes: each worker's setup pipe, then the shared one."""
        self._outboxes = [queue.SimpleQueue() for _ in range(len(self._children) + 1)]
        self._feeders = [threading.Thread(target=_send_queued, args=(child.setup, outbox), daemon=True)
                         for child, outbox in zip(self._children, self._outboxes[:-1], strict=True)]
        self._feeders.append(threading.Thread(target=self._feed, args=(self._tasks, self._outboxes[-1]),
                                              daemon=True))
        self._fds.remove(self._tasks)  # the feeder closes it when the work is all written
        for feeder in self._feeders:
            feeder.start()

    def _all_in_order(self, count: int) -> Iterator[Any]:
        yield from _in_order(self._children, count)
        # With nothing shared the workers still wait to be told what the work shares: they
        # would never end by themselves.
        self._finished = self._shares >= 0

    @staticmethod
    def _feed(tasks: int, chunks: queue.SimpleQueue) -> None:
        try:
            while (chunk := chunks.get()) is not None:
                if not _send_bytes(tasks, chunk):
                    break
        finally:
            os.close(tasks)  # the workers read the end of the work

    def close(self) -> None:
        """Every worker ended. With all the results in, they end by themselves (the work has
        run out), and are stopped if they have not within a few seconds; otherwise whatever
        they are doing is not wanted (something failed, or there was no work for them): they
        are stopped where they are. Safe to call again, even after an interruption: what it
        closed is not closed twice (the numbers may name other files by then)."""
        if self._lead is None:
            return
        feeders, self._feeders = self._feeders, []
        fds, self._fds = self._fds, []
        try:
            for outbox in self._outboxes:  # each feeder ends after what it was given (or at a
                outbox.put(None)  # closed pipe: the workers are stopped below if not done)
            if not self._finished or not _ended(self._lead, seconds=5.0):
                _stop(self._lead)
            # A worker that outlived the first one (where the system cannot kill it with it)
            # may be waiting to send its results, and a feeder waiting for it to read what it
            # no longer needs: with its results pipe closed it ends, and lets the feeder go.
            for child in self._children:
                if child.results in fds:
                    fds.remove(child.results)
                    with suppress(OSError):
                        os.close(child.results)
            for feeder in feeders:
                feeder.join()
        finally:
            for fd in fds:
                with suppress(OSError):
                    os.close(fd)
            self._taking.close()
            with suppress(ChildProcessError):
                os.waitpid(self._lead, 0)
            self._lead = None


@dataclass
class _Child:
    setup: int  # where this process writes what the work shares
    results: int  # where it reads the results
    buffer: bytearray = field(default_factory=bytearray)
    done: bool = False


def start(processes: int, warm: Callable[[], None]) -> Started | None:
    """`Started` workers, or None where they cannot be: no fork on this platform, or the system
    refusing to make processes or pipes now (the caller then does the work as it would
    without them). Not for a process with other threads running: one forked from it inherits
    the locks they hold, and the workers import much after forking."""
    if processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        return Started(processes, warm)
    except OSError:
        return None


def _ended(pid: int, seconds: float) -> bool:
    """Whether the process `pid` (our child) ends within `seconds`; not reaped. Where the
    system cannot say without reaping it (no `waitid`), False: the caller stops it."""
    import time

    if not hasattr(os, "waitid"):
        return False
    if _exited(pid):
        return True
    if hasattr(os, "pidfd_open"):  # Linux: woken the moment it ends, not at the next look
        import select

        with suppress(OSError):
            handle = os.pidfd_open(pid)
            try:  # poll, not select: select refuses a descriptor numbered 1024 or more
                waiting = select.poll()
                waiting.register(handle, select.POLLIN)
                waiting.poll(seconds * 1000)
            finally:
                os.close(handle)
            return _exited(pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.005)
        if _exited(pid):
            return True
    return False


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _stop(lead: int) -> None:
    """The workers stopped: the first asked to, so that it stops and reaps the others it
    forked (a process whose parent is gone waits for the system's first process to reap it,
    which in some containers never does); killed if it has not ended within a second (the
    others then end as soon as they find their pipes closed)."""
    with suppress(ProcessLookupError):
        os.kill(lead, signal.SIGTERM)
    if not _ended(lead, seconds=1.0):
        with suppress(ProcessLookupError):
            os.kill(lead, signal.SIGKILL)


def _pipe(made: list[int]) -> tuple[int, int]:
    """A pipe that holds 1 MB where the system allows it, not 64 KB: each chunk of items or of
    results (about 100 KB and 500 KB for posts) goes through in one write, not in several that
    each wait for a thread of a busy process to be let run again. Its ends are added to `made`."""
    ends = os.pipe()
    made.extend(ends)
    with suppress(OSError, AttributeError):  # not Linux, or over the system's limit
        import fcntl

        fcntl.fcntl(ends[1], fcntl.F_SETPIPE_SZ, 1 << 20)
    return ends


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


def _lead(ends: list[tuple[int, int]], tasks_fd: int, warm: Callable[[], None], take: Callable[[], None],
          give_back: Callable[[], None]) -> None:
    """The first worker's life: warm up, fork the other workers (each with its own pipes), work
    as they do, and wait for them. `ends`: each worker's (setup, results) pipe ends. Asked to
    stop (SIGTERM, which the others take as it comes), it reaps them first."""
    try:
        warm()
        failure: BaseException | None = None
    except Exception as err:  # said for the first item each worker takes
        failure = err
    others: list[int] = []
    lead, die_with_it = os.getpid(), _parent_death_signal()
    for number, (setup_fd, results_fd) in enumerate(ends[1:], 1):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                if die_with_it is not None:
                    die_with_it()
                if os.getppid() != lead:  # it died before that could take effect
                    return
                # The first worker's ends, and those of the workers it has not forked yet (it
                # closed the others' after forking them).
                _close(*ends[0], *(fd for ends_of in ends[number + 1:] for fd in ends_of))
                _serve(setup_fd, tasks_fd, results_fd, failure, take, give_back)
                status = 0
            finally:
                os._exit(status)
        others.append(pid)
        _close(setup_fd, results_fd)
    signal.signal(signal.SIGTERM, lambda *_: _reap_and_exit(others))
    try:
        _serve(ends[0][0], tasks_fd, ends[0][1], failure, take, give_back)
    finally:
        for pid in others:
            with suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _parent_death_signal() -> Callable[[], None] | None:
    """What a worker forked by the first one calls to be killed when the first one dies
    (killed for memory, say), or None where the system cannot (not Linux). Without it such
    a worker outlives it, working on for nobody: the build's process cannot stop it (only
    its parent can reap it), and it ends only once this process closes its pipes."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    set_death_signal = 1  # PR_SET_PDEATHSIG

    return lambda: prctl(set_death_signal, signal.SIGKILL, 0, 0, 0)


def _reap_and_exit(others: list[int]) -> None:
    for pid in others:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with suppress(ChildProcessError):
            os.waitpid(pid, 0)
    os._exit(1)


def _serve(setup_fd: int, tasks_fd: int, results_fd: int, failure: BaseException | None,
           take: Callable[[], None], give_back: Callable[[], None]) -> None:
    """A worker's life once warm: wait for the work (none: end), then take chunks of it until
    none is left or an item fails. Each chunk says which of what was shared it is done with;
    a newer one is read from this worker's setup pipe when a chunk first needs it.
    `failure`: what went wrong warming up, if anything."""
    common = _receive(setup_fd)
    if common is None:
        return
    shared_as, work = 0, _set_up(common, failure)
    # Results are written by a thread: while this process is busy (storing results, hashing
    # keys) the pipe fills, and the worker goes on with its next chunk instead of waiting.
    outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_queued, args=(results_fd, outbox))
    sender.start()
    try:
        while True:
            take()
            try:
                task = _receive(tasks_fd)
            finally:
                give_back()
            if task is None:  # no more work
                break
            first, chunk, wanted = task
            while shared_as < wanted and (common := _receive(setup_fd)) is not None:
                shared_as, work = shared_as + 1, _set_up(common, failure)
            if shared_as < wanted:  # the parent is gone
                break
            function, args, failed = work
            done = _run_chunk(function, chunk, first, args, failed)
            outbox.put(_results_message(done))
            if not done[-1][1]:  # an item failed: the rest is not worth doing
                break
        outbox.put(_message(_DONE))
    finally:
        outbox.put(None)
        sender.join()


def _set_up(common: tuple,
            failure: BaseException | None) -> tuple[Callable[..., Any], tuple, BaseException | None]:
    """(function, its arguments after the item, the failure each item is to report)."""
    function, shared, setup = common
    try:
        return function, setup(*shared) if setup and failure is None else shared, failure
    except Exception as err:
        return function, shared, err


def _run_chunk(function: Callable[..., Any], chunk: Sequence[Any], first: int, args: tuple,
               failure: BaseException | None) -> list[tuple[int, bool, Any]]:
    """(index, True, result) for each item, up to the first that fails: (index, False, error)."""
    done: list[tuple[int, bool, Any]] = []
    for index, item in enumerate(chunk, first):
        try:
            if failure is not None:
                raise failure
            done.append((index, True, function(item, *args)))
        except Exception as err:
            done.append((index, False, err if _travels(err) else
                         RuntimeError(f"{type(err).__name__}: {err}")))
            break
    return done


def _send_queued(fd: int, outbox: queue.SimpleQueue) -> None:
    while (data := outbox.get()) is not None:
        _send_bytes(fd, data)


def _in_order(children: list[_Child], count: int) -> Iterator[Any]:
    """The results, in order of their items, read from the workers as they send them."""
    import selectors
    from concurrent.futures.process import BrokenProcessPool

    waiting: dict[int, tuple[bool, Any]] = {}
    watched = selectors.DefaultSelector()
    for child in children:
        watched.register(child.results, selectors.EVENT_READ, child)
    try:
        for index in range(count):
            while index not in waiting:
                if not watched.get_map():
                    raise BrokenProcessPool("the workers ended before their work was done")
                for key, _ in watched.select():
                    child = key.data
                    data = os.read(child.results, 1 << 20)
                    if not data:
                        watched.unregister(child.results)
                        if not child.done:
                            raise BrokenProcessPool("a worker ended abruptly (killed for memory?)")
                        continue
                    child.buffer += data
                    child.done = _received(child.buffer, waiting) or child.done
            ok, value = waiting.pop(index)
            if not ok:
                raise value
            yield value
    finally:
        watched.close()


def _received(buffer: bytearray, into: dict[int, tuple[bool, Any]]) -> bool:
    """The whole messages at the start of `buffer` taken out of it, the results they carry put
    `into` (by item); whether one of them says the worker takes nothing more."""
    done = False
    for message in _messages(buffer):
        if message == _DONE:
            done = True
        else:
            into.update((index, (ok, value)) for index, ok, value in message)
    return done


def _messages(buffer: bytearray) -> Iterator[Any]:
    """The whole messages at the start of `buffer`, taken out of it."""
    while len(buffer) >= _LENGTH.size:
        (length,) = _LENGTH.unpack_from(buffer)
        end = _LENGTH.size + length
        if len(buffer) < end:
            return
        message = pickle.loads(buffer[_LENGTH.size:end])
        del buffer[:end]
        yield message


def _message(message: Any) -> bytes:
    """`message` as sent: its length, then its pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def _results_message(done: list[tuple[int, bool, Any]]) -> bytes:
    """A chunk's results as sent; one that cannot be pickled is said as its item's failure."""
    try:
        return _message(done)
    except Exception:  # noqa: BLE001 (whatever pickling raises)
        return _message(_sendable(done))


def _sendable(done: list[tuple[int, bool, Any]]) -> list[tuple[int, bool, Any]]:
    """A chunk's results up to the first that cannot be pickled, which becomes its item's error."""
    sendable = []
    for index, ok, value in done:
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:  # noqa: BLE001 (whatever pickling raises)
            sendable.append((index, False, RuntimeError(f"the result cannot be sent back: {err}")))
            break
        sendable.append((index, ok, value))
    return sendable


def _send_bytes(fd: int, data: bytes) -> bool:
    """All of `data` written to `fd`; False when the reader is gone (it knows why)."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        return False
    return True


def _receive(fd: int) -> Any:
    """The next message on `fd`, or None when it is closed before a whole one came."""
    header = _read_exactly(fd, _LENGTH.size)
    if header is None:
        return None
    payload = _read_exactly(fd, _LENGTH.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


def _read_exactly(fd: int, size: int) -> bytearray | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return data


# --- work shared by this process and forked workers ------------------------------------------

_CHUNK_NUMBER = struct.Struct("<I")  # what a process takes off the shared pipe: the next chunk's number
# Every chunk's number is written into that pipe before anything is forked (no thread feeds
# it), in one write: 1,024 numbers fill 4 KB, what a pipe holds even where the system is short
# of pipe memory (and one write of it is atomic).
_MOST_CHUNKS = 1024


def map_here_and_forked(function: Callable[..., Any], items: Sequence[Any], processes: int, *shared: Any,
                        chunk: int | None = None) -> list[Any]:
    """`[function(item, *shared) for item in items]`, in order, by `processes` processes: this
    one and `processes - 1` forked workers, each taking the next chunk of items whenever it is
    free, this process as well: its core works rather than wait for the workers, and there is
    one fork fewer.

    The chunks are handed out from the end of `items` back to its start, the largest first,
    then smaller and smaller (`chunk` items each, if given): a list whose costly items come
    last (a site's pages that gather many others come after the posts they list) has them done
    first, and the processes finish together on small chunks of cheap items.

    As `map_forked`: the first item in order that fails raises its exception here (one that
    failed in this process as it was raised; one from a worker that cannot be pickled as a
    named RuntimeError), and a worker that dies (killed for memory, say) raises
    BrokenProcessPool. A failure ends its chunk, not the work: the items before it, handed out
    later, may hold an earlier one. This process starts no thread, before or after forking; a
    refused fork leaves the work to the processes there are."""
    count = len(items)
    if not count:
        return []
    bounds = _chunks(count, processes, chunk)
    made: list[int] = []
    helpers: list[_Helper] = []
    results: dict[int, tuple[bool, Any]] = {}
    # As in `forked`: collections in the workers must not walk (and so copy) the inherited heap.
    gc.freeze()
    try:
        numbers, numbers_in = _pipe(made)
        _send_bytes(numbers_in, b"".join(_CHUNK_NUMBER.pack(n) for n in range(len(bounds))))
        os.close(numbers_in)
        made.remove(numbers_in)
        for _ in range(processes - 1):
            helper = _fork_helper(function, items, shared, bounds, numbers, made)
            if helper is None:
                break
            helpers.append(helper)
        died = False
        while not died and (number := _take(numbers)) is not None:
            _run_here(function, items, shared, *bounds[number], results)
            died = _gather(helpers, results, wait=False)
        if died:  # the work cannot be whole: what is left is not worth doing, by anyone
            _drain(numbers)
        _gather(helpers, results, wait=True)
        return _in_order_here(results, count)
    finally:
        for helper in helpers:
            if not helper.done:  # something went wrong here (an interruption): not wanted any more
                with suppress(ProcessLookupError):
                    os.kill(helper.pid, signal.SIGKILL)
            with suppress(ChildProcessError):
                os.waitpid(helper.pid, 0)
        for fd in made:
            with suppress(OSError):
                os.close(fd)
        gc.unfreeze()


def _chunks(count: int, processes: int, chunk: int | None) -> list[tuple[int, int]]:
    """(first, end) of each chunk of `count` items, in the order they are handed out: from the
    last items to the first, `chunk` items each or else an eighth of what is left (for two
    processes), so that few chunks do most of the work and the last ones are small. At most
    `_MOST_CHUNKS`."""
    least = -(-count // _MOST_CHUNKS)
    bounds = []
    end = count
    while end > 0:
        size = min(end, max(chunk or end // (processes * 4), least, 1))
        bounds.append((end - size, end))
        end -= size
    return bounds


@dataclass
class _Helper:
    pid: int
    results: int  # where this process reads its results
    buffer: bytearray = field(default_factory=bytearray)
    done: bool = False  # it said it took nothing more
    ended: bool = False  # its end of the pipe is closed (it exited, or died)


def _fork_helper(function: Callable[..., Any], items: Sequence[Any], shared: tuple,
                 bounds: list[tuple[int, int]], numbers: int, made: list[int]) -> _Helper | None:
    """One worker forked, taking chunks off `numbers` until none is left; None if the system
    refuses a process or a pipe now."""
    try:
        results, results_in = _pipe(made)
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the worker: it never returns into the caller's code
        status = 1
        try:
            _close(*(fd for fd in made if fd not in (numbers, results_in)))
            _work_forked(function, items, shared, bounds, numbers, results_in)
            status = 0
        finally:
            os._exit(status)
    os.close(results_in)
    made.remove(results_in)
    os.set_blocking(results, False)  # read between this process's own chunks, never waited on
    return _Helper(pid, results)


def _work_forked(function: Callable[..., Any], items: Sequence[Any], shared: tuple,
                 bounds: list[tuple[int, int]], numbers: int, results: int) -> None:
    """A worker's life: each chunk's results (up to its first failure) sent back as it is
    done, until the numbers run out; last, word that it takes nothing more."""
    while (number := _take(numbers)) is not None:
        first, end = bounds[number]
        done = _run_chunk(function, items[first:end], first, shared, None)
        if not _send_bytes(results, _results_message(done)):
            return  # this process stopped listening: it knows why
    _send_bytes(results, _message(_DONE))


def _run_here(function: Callable[..., Any], items: Sequence[Any], shared: tuple, first: int, end: int,
              results: dict[int, tuple[bool, Any]]) -> None:
    """Items `first` to `end` (not included) done in this process, up to the first that fails
    (its exception kept as raised)."""
    for index in range(first, end):
        try:
            results[index] = (True, function(items[index], *shared))
        except Exception as err:
            results[index] = (False, err)
            return


def _gather(helpers: list[_Helper], results: dict[int, tuple[bool, Any]], wait: bool) -> bool:
    """The workers' results that have come (`wait`: until every worker's pipe is closed) put
    into `results`; True if a worker died."""
    import selectors

    died = False
    for helper in helpers:
        if not helper.ended:
            died = _read_helper(helper, results) or died
    waiting = [helper for helper in helpers if not helper.ended] if wait else []
    if waiting:
        with selectors.DefaultSelector() as watched:
            for helper in waiting:
                watched.register(helper.results, selectors.EVENT_READ, helper)
            while watched.get_map():
                for key, _ in watched.select():
                    died = _read_helper(key.data, results) or died
                    if key.data.ended:
                        watched.unregister(key.fd)
    return died


def _read_helper(helper: _Helper, results: dict[int, tuple[bool, Any]]) -> bool:
    """Whatever `helper` has sent, without waiting; True if it died (its pipe ended before its
    last word)."""
    while True:
        try:
            data = os.read(helper.results, 1 << 20)
        except BlockingIOError:
            return False
        if not data:
            helper.ended = True
            return not helper.done
        helper.buffer += data
        helper.done = _received(helper.buffer, results) or helper.done


def _in_order_here(results: dict[int, tuple[bool, Any]], count: int) -> list[Any]:
    """The values in order; the first item that failed raises its exception, and one missing
    before any failure (its worker died with it) raises BrokenProcessPool."""
    from concurrent.futures.process import BrokenProcessPool

    values = []
    for index in range(count):
        if index not in results:
            raise BrokenProcessPool("a worker ended abruptly (killed for memory?)")
        ok, value = results[index]
        if not ok:
            raise value
        values.append(value)
    return values


def _take(numbers: int) -> int | None:
    """The next chunk's number off the shared pipe, or None when none is left. Every number was
    written before anyone read, so a read of one number's size gets exactly one."""
    data = os.read(numbers, _CHUNK_NUMBER.size)
    return _CHUNK_NUMBER.unpack(data)[0] if data else None


def _drain(numbers: int) -> None:
    """Every number left taken off the shared pipe: no process starts another chunk."""
    while os.read(numbers, 1 << 16):
        pass
