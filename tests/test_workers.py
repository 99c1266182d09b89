"""Forked workers: results in order, and every failure reaches the parent (never a hang)."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from builder import workers
from builder.errors import BuildError
from tests.helpers import meet

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


# --- workers started before their work is known ---------------------------------------------


_SETUPS: list[int] = []  # in a worker: how many times its setup ran


def _counted_setup(offset: int) -> tuple[int, int]:
    _SETUPS.append(offset)
    return offset, os.getpid()


def _with_setup(item: int, offset: int, pid: int) -> tuple[int, int, int]:
    return item * item + offset, len(_SETUPS), pid


def _slow_warm() -> None:
    import time

    time.sleep(60)


def _failing_warm() -> None:
    raise BuildError("không nạp được", "_includes/x.html", 3)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_started_workers_give_results_in_order_with_one_setup_each() -> None:
    started = workers.start(2, lambda: None)
    with started.results(_with_setup, list(range(50)), 1, setup=_counted_setup) as results:
        got = list(results)
    assert [value for value, _, _ in got] == [n * n + 1 for n in range(50)]
    assert {setups for _, setups, _ in got} == {1}  # once per worker, not once per item
    pids = {pid for _, _, pid in got}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_work_handed_out_in_parts_with_what_it_shares_changing_between() -> None:
    """Items handed out while more are still to come (the posts as they are read), then others
    done with something else shared (the whole site, once read): every worker set up again
    when it first takes one of those, the results of all in order."""
    _SETUPS.clear()
    started = workers.start(2, lambda: None)
    with pytest.raises(RuntimeError, match="nothing shared"):
        started.hand_out([1])
    started.share(_with_setup, 1, setup=_counted_setup)
    started.hand_out(list(range(10)), 3)
    started.hand_out(list(range(10, 14)), 3)
    started.share(_with_setup, 100, setup=_counted_setup)
    started.hand_out(list(range(14, 40)))
    with started.all_results() as results:
        got = list(results)
    values = [value for value, _, _ in got]
    assert values == [n * n + 1 for n in range(14)] + [n * n + 100 for n in range(14, 40)]
    assert {setups for _, setups, _ in got[:14]} == {1}
    assert {setups for _, setups, _ in got[14:]} == {2}  # set up again in each worker, once
    assert not _SETUPS  # all of it happened in the workers


def _warmed_here(item: int) -> tuple[tuple[int, ...], int]:
    return tuple(_WARMED), os.getpid()


_WARMED: list[int] = []


def test_the_workers_warm_up_once_and_all_inherit_it() -> None:
    """The first worker warms up, then forks the others: they share its set-up, not redo it."""
    started = workers.start(2, lambda: _WARMED.append(os.getpid()))
    with started.results(_warmed_here, list(range(200))) as results:
        got = list(results)
    (warmed_by,) = {warmed for warmed, _ in got}  # one warm-up, by one process, for all
    assert len(warmed_by) == 1 and not _WARMED  # not here
    assert os.getpid() not in {pid for _, pid in got}


def test_started_workers_keep_an_errors_file_and_line_and_the_first_in_order() -> None:
    with pytest.raises(BuildError) as caught, workers.start(2, lambda: None).results(
            _fails_on, list(range(40)), 17, "build") as results:
        list(results)
    assert str(caught.value) == "_posts/bai.md:7: không đọc được"


def test_a_started_workers_error_that_cannot_travel_is_named() -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable: hỏng rồi"), workers.start(2, lambda: None).results(
            _fails_on, list(range(40)), 17, "unpicklable") as results:
        list(results)


def test_a_started_worker_that_dies_stops_the_work_instead_of_hanging() -> None:
    with pytest.raises(BrokenProcessPool), workers.start(2, lambda: None).results(
            _fails_on, list(range(40)), 17, "exit") as results:
        list(results)


def test_a_failure_while_warming_up_is_the_first_items_error() -> None:
    with pytest.raises(BuildError, match="_includes/x.html:3: không nạp được"), \
            workers.start(2, _failing_warm).results(_square, list(range(10)), 1) as results:
        list(results)


def test_workers_given_no_work_are_stopped_at_once_and_waited_for() -> None:
    """A build that turns out to have nothing to render does not wait for the workers to
    finish warming up (a minute, here), and leaves no process behind."""
    started = workers.start(2, _slow_warm)
    lead = started._lead
    started.close()
    assert _gone(lead)  # killed and reaped: not even a zombie
    started.close()  # once is enough; twice is harmless


def _unpicklable_on(item: int, bad: int):
    return (lambda: item) if item == bad else item


def test_a_result_that_cannot_be_sent_back_is_its_items_error_after_the_others() -> None:
    got = []
    with pytest.raises(RuntimeError, match="the result cannot be sent back"), \
            workers.start(2, lambda: None).results(_unpicklable_on, list(range(40)), 17) as results:
        got.extend(results)
    assert got == list(range(17))


def test_the_started_workers_pipes_hold_a_chunk_in_one_write() -> None:
    """A chunk of posts or of their results goes through in one write where Linux allows a
    1 MB pipe: a 64 KB one made each chunk wait several times for a busy process's thread."""
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ") or int(Path("/proc/sys/fs/pipe-max-size").read_text()) < 1 << 20:
        pytest.skip("no pipe size to set here")
    out, into = workers._pipe([])
    try:
        assert fcntl.fcntl(into, fcntl.F_GETPIPE_SZ) >= 1 << 20
    finally:
        os.close(out)
        os.close(into)


def _slowly(item: int) -> int:
    import time

    time.sleep(0.002)
    return os.getpid()


def test_four_started_workers_share_the_work_where_the_machine_has_more_cores() -> None:
    """The first worker forks three others, each keeping only its own pipes open."""
    with workers.start(4, lambda: None).results(_slowly, list(range(200))) as results:
        pids = list(results)
    assert len(pids) == 200 and len(set(pids)) == 4 and os.getpid() not in pids


def test_stopped_workers_cannot_be_handed_work() -> None:
    """Their pipes are closed, and the descriptors' numbers may name other files by then."""
    started = workers.start(2, lambda: None)
    started.close()
    with pytest.raises(RuntimeError, match="stopped"), started.results(_square, [1, 2], 1) as results:
        list(results)


def test_stopped_workers_are_reaped_by_the_first_not_left_to_the_system() -> None:
    """Work abandoned halfway: every worker is gone when `close` returns, not a zombie waiting
    for the system's first process to reap it (some containers' never does)."""
    pids = set()
    with workers.start(2, lambda: None).results(_slowly, list(range(200))) as results:
        for pid in results:
            pids.add(pid)
            if len(pids) == 2:
                break
    assert len(pids) == 2 and all(_gone(pid) for pid in pids)


_DIE_HOLDING_THE_LOCK = """
import os, sys, time
from builder import workers
flag = sys.argv[1]
receive = workers._receive
def dying(fd):
    message = receive(fd)
    if message is None:  # the work has run out: die still holding the lock, once, a little later
        try:
            os.close(os.open(flag, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return message
        time.sleep(0.5)
        os._exit(9)
    return message
workers._receive = dying
with workers.start(4, lambda: None).results(abs, list(range(-100, 0))) as results:
    print(sum(results))
"""


def test_a_worker_that_dies_holding_the_lock_does_not_hang_the_others(tmp_path: Path) -> None:
    """The lock on the shared pipe is let go of by the system when its holder dies (killed for
    memory, say), here after every result came: the others finish, and the build is not left
    waiting for them (a semaphore stayed taken, and `close` waited forever)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _DIE_HOLDING_THE_LOCK, str(tmp_path / "flag")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "5050", done.stderr


def test_close_again_after_an_interruption_closes_nothing_twice(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C while `close` waits: a second `close` (the caller's `finally`) must not close the
    pipes' numbers again, which by then may name other files."""
    started = workers.start(2, _slow_warm)
    lead = started._lead
    waitpid = os.waitpid

    def interrupted(*args):
        monkeypatch.setattr(os, "waitpid", waitpid)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "waitpid", interrupted)
    with pytest.raises(KeyboardInterrupt):
        started.close()
    files = [open(tmp_path / f"f{n}", "w+") for n in range(8)]  # noqa: SIM115 (the lowest free numbers)
    try:
        started.close()
        for handle in files:
            handle.write("còn nguyên")
            handle.flush()
    finally:
        for handle in files:
            handle.close()
        with pytest.raises(ChildProcessError):
            waitpid(lead, 0)  # reaped by the second close: nothing left


def test_no_workers_when_the_system_refuses_a_process(monkeypatch) -> None:
    """The caller then does the work as it would without them; no pipe is left open."""
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None

    def refused():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    assert workers.start(2, lambda: None) is None
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


_FIRST_WORKER_DIES = """
import os, signal, sys, time
from concurrent.futures.process import BrokenProcessPool
from builder import workers
if sys.argv[1] == "no prctl":
    workers._parent_death_signal = lambda: None  # as where the system cannot kill them for us

def page(item, site):
    if sys.argv[1] == "prctl":
        time.sleep(0.2)
    with open(sys.argv[2], "a") as done:
        done.write(f"{item}\\n")
    return "y" * (400 << 10)  # a rendered post's size: a few fill a results pipe

def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found

def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False

started = workers.start(3, lambda: None)
started.share(page, "")  # the posts as they are read
started.hand_out(list(range(60)), 1)
started.share(page, "x" * (3 << 20))  # then the whole site: more than a pipe holds
started.hand_out([0])
others = []
try:
    with started.all_results() as results:
        for _ in results:
            while len(others) < 2:
                others = children(started._lead)
            os.kill(started._lead, signal.SIGKILL)  # killed for memory, say
except BrokenProcessPool:
    pass
for _ in range(1000):
    if not any(running(pid) for pid in others):
        break
    time.sleep(0.01)
with open(sys.argv[2]) as done:
    print(len(others), len(done.read().split()))
"""


@pytest.mark.parametrize("system", ["prctl", "no prctl"])
def test_when_the_first_worker_dies_the_others_end_too(system: str, tmp_path: Path) -> None:
    """The first worker, which forked the others, is killed (for memory, say): the others
    do not go on working for nobody, and `close` does not wait forever for them (one that
    never read the whole site's setup, more than its pipe holds, while its results pipe was
    full). Where the system cannot kill them with it, they end once their pipes are closed."""
    import subprocess
    import sys

    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find the workers")
    done = subprocess.run([sys.executable, "-c", _FIRST_WORKER_DIES, system, str(tmp_path / "done")],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    others, items_done = map(int, done.stdout.split())
    assert others == 2
    if system == "prctl" and sys.platform.startswith("linux"):
        assert items_done < 20  # of 61: they were killed with it, not left to do the rest


def test_workers_end_and_are_waited_for_in_a_process_with_many_files_open() -> None:
    """A process with over a thousand descriptors open (a program that builds the site among
    other work): the workers' end is still waited for (`select` refuses a descriptor numbered
    1024 or more)."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200 and (hard != resource.RLIM_INFINITY and hard < 1200):
        pytest.skip("cannot open enough files here")
    held: list[int] = []
    try:
        if soft < 1200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
        held.append(os.open(os.devnull, os.O_RDONLY))
        while held[-1] < 1100:  # every number below is taken: the next ones are above
            held.append(os.dup(held[0]))
        with workers.start(2, lambda: None).results(_square, list(range(20)), 1) as results:
            assert list(results) == [n * n + 1 for n in range(20)]
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_workers_handed_nothing_are_stopped_not_waited_for(monkeypatch) -> None:
    """All the results of no work at all: the workers, still waiting to be told what the work
    shares, would never end by themselves; they are stopped at once, not after `close` has
    waited seconds for them to end."""
    waits: list[float] = []
    ended = workers._ended
    monkeypatch.setattr(workers, "_ended", lambda pid, seconds: waits.append(seconds) or ended(pid, seconds))
    started = workers.start(2, lambda: None)
    lead = started._lead
    with started.all_results() as results:
        assert list(results) == []
    assert waits == [1.0] and _gone(lead)  # asked to stop (one second to do it), and reaped


# --- work shared by this process and forked workers ------------------------------------------


def _met(item: int, folder: Path, processes: int) -> tuple[int, int]:
    """(item squared, the pid that did it), once every process has taken work."""
    meet(folder, processes)
    return item * item, os.getpid()


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("processes", [2, 3])
def test_this_process_takes_a_share_and_forks_one_worker_fewer(tmp_path: Path, forks: list[int],
                                                               processes: int) -> None:
    got = workers.map_here_and_forked(_met, list(range(60)), processes, tmp_path, processes, chunk=2)
    assert [value for value, _ in got] == [n * n for n in range(60)]
    done_by = {pid for _, pid in got}
    assert len(forks) == processes - 1 and done_by == {os.getpid(), *forks}
    assert all(_reaped(pid) for pid in forks)  # no worker left running or unreaped


def _fails_where(item: int, folder: Path, where: str, kind: str) -> int:
    """Fails at every item of this process (`where` "here"), of the worker ("there") or of both
    ("both"), once both have taken work; each failure leaves its item's number in `folder`."""
    meet(folder / "met", 2)
    here = os.getpid() == int((folder / "parent").read_text())
    if where == "both" or (where == "here") == here:
        (folder / "failed" / str(item)).touch()
        if kind == "unpicklable":
            raise _Unpicklable("hỏng ở", str(item))
        if kind == "killed":
            os.kill(os.getpid(), 9)  # SIGKILL, as the system's out-of-memory killer sends it
        raise BuildError(f"bài {item} hỏng", "_posts/bai.md", 7)
    (folder / "ok" / str(item)).touch()
    return item


def _shared_failing(tmp_path: Path, where: str, kind: str = "build") -> None:
    """`_fails_where` over 80 items, by this process and a worker."""
    for folder in ("met", "failed", "ok"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "parent").write_text(str(os.getpid()))
    workers.map_here_and_forked(_fails_where, list(range(80)), 2, tmp_path, where, kind, chunk=4)


def _failed(tmp_path: Path, kind: str = "failed") -> list[int]:
    return sorted(int(path.name) for path in (tmp_path / kind).iterdir())


@pytest.mark.parametrize("where", ["here", "there", "both"])
def test_the_first_failure_in_order_is_raised_with_its_file_and_line(tmp_path: Path, forks: list[int],
                                                                     where: str) -> None:
    """Every chunk taken ends at its first failure, and the first of all, wherever it was, is
    what is raised (the chunks are handed out from the end: the work goes on after a failure)."""
    with pytest.raises(BuildError) as caught:
        _shared_failing(tmp_path, where)
    failed = _failed(tmp_path)
    assert min(failed + _failed(tmp_path, "ok")) == 0  # the work went on to the first chunk
    assert str(caught.value) == f"_posts/bai.md:7: bài {failed[0]} hỏng"
    assert len(forks) == 1 and _reaped(forks[0])


def test_an_error_that_cannot_travel_is_named_and_one_here_is_raised_as_it_is(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable: hỏng ở [0-9]+"):
        _shared_failing(tmp_path / "there", "there", "unpicklable")
    with pytest.raises(_Unpicklable, match="hỏng ở [0-9]+"):  # this process's own: nothing to carry
        _shared_failing(tmp_path / "here", "here", "unpicklable")


def test_a_worker_that_dies_holding_work_raises_instead_of_hanging(tmp_path: Path, forks: list[int]) -> None:
    with pytest.raises(BrokenProcessPool):
        _shared_failing(tmp_path, "there", "killed")
    assert len(forks) == 1 and _reaped(forks[0])


def test_with_no_process_to_be_had_this_process_does_all_the_work(monkeypatch) -> None:
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None

    def refused():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    assert workers.map_here_and_forked(_square, list(range(300)), 2, 1) == [n * n + 1 for n in range(300)]
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


def test_shared_work_starts_no_thread_and_runs_beside_other_threads(tmp_path: Path) -> None:
    """`blog serve` builds in its watcher's thread while its server's thread runs: the work is
    shared all the same, and this process adds no thread of its own (one forked beside a
    thread of ours would inherit the locks it holds)."""
    import threading

    started: list[threading.Thread] = []
    real_start = threading.Thread.start

    def counted(self):
        started.append(self)
        return real_start(self)

    busy = threading.Event()
    server = threading.Thread(target=busy.wait, daemon=True)
    server.start()
    got: list = []
    builder = threading.Thread(target=lambda: got.extend(
        workers.map_here_and_forked(_met, list(range(60)), 2, tmp_path, 2, chunk=2)))
    threading.Thread.start = counted
    try:
        real_start(builder)
        builder.join()
    finally:
        threading.Thread.start = real_start
        busy.set()
    assert [value for value, _ in got] == [n * n for n in range(60)]
    assert len({pid for _, pid in got}) == 2 and started == []


def _interrupted_here(item: int, folder: Path, parent: int) -> int:
    import time

    meet(folder, 2)
    if os.getpid() == parent:
        raise KeyboardInterrupt  # Ctrl-C, as it reaches this process in the middle of its share
    time.sleep(60)  # the worker, busy: it must be stopped, not waited for
    return item


def test_an_interruption_here_stops_and_reaps_the_workers(tmp_path: Path, forks: list[int],
                                                          monkeypatch) -> None:
    import signal

    ended: dict[int, int] = {}
    real_waitpid = os.waitpid

    def recorded(pid: int, options: int):
        got = real_waitpid(pid, options)
        ended[got[0]] = got[1]
        return got

    monkeypatch.setattr(os, "waitpid", recorded)
    with pytest.raises(KeyboardInterrupt):
        workers.map_here_and_forked(_interrupted_here, list(range(20)), 2, tmp_path, os.getpid(), chunk=1)
    assert len(forks) == 1 and _reaped(forks[0])
    assert os.WIFSIGNALED(ended[forks[0]]) and os.WTERMSIG(ended[forks[0]]) == signal.SIGKILL
