"""One writer at a time on data/, and writes of several files that land whole or not at all.

Every command that rewrites data/ (`kb import`, `kb sync`, `kb refresh`, `kb tag`, `kb format`) holds an
exclusive lock on .data.kb.lock beside data/ while it reads, merges and writes: a second one waits for the
first, says so, and gives up with a clear error after a timeout. Without it two imports each rewrite data/
from what they read, and the last writer silently drops the other's records.

A change that touches several files goes through a journal: each new file is written beside its target
under a temporary name, then the journal (the list of renames) is put in place in one atomic step. That is
the commit point. A process killed before it leaves data/ as it was (the temporary files are swept up
later); killed after it, the next reader or writer finishes the renames. Either way data/ is as before or as
after, never half of each.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# both live beside data/, not in it: data/ holds only what a contributor commits
LOCK_NAME = ".{}.kb.lock"
JOURNAL_NAME = ".{}.kb-journal.json"
TEMP_MARK = ".kb-new-"  # in the names of files written but not yet renamed into place
POLL = 0.1


class DataLocked(RuntimeError):
    """Another kb command held data/ for longer than we were willing to wait."""


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextmanager
def locked(data_dir: Path, timeout: float, say=None) -> Iterator[None]:
    """Hold data/'s lock for the block; wait (saying so once) up to `timeout` seconds for another holder."""
    data_dir.mkdir(parents=True, exist_ok=True)

    def gave_up(holder: str) -> Exception:
        return DataLocked(
            f"{data_dir} is still locked by {holder} after {timeout:g} s: try again when it is done "
            f"(or raise $KB_LOCK_TIMEOUT)"
        )

    waiting = f"data/ is being changed by another kb command ({{holder}}): waiting up to {timeout:g} s"
    with exclusive(_lock_path(data_dir), timeout, waiting, gave_up, say):
        _finish(data_dir)  # a writer killed after its commit point left renames to do
        yield


@contextmanager
def exclusive(
    path: Path, timeout: float, waiting: str, gave_up: Callable[[str], Exception], say=None
) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` for the block. If another process holds it, say `waiting` once
    ({holder} filled in), wait up to `timeout` seconds, then raise gave_up(holder)."""
    say = say or (lambda text: print(text, file=sys.stderr))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = path.read_text().strip() or "another process"
            say(waiting.format(holder=holder))
            deadline = time.monotonic() + timeout
            while not _try_lock(fd):
                if time.monotonic() > deadline:
                    raise gave_up(holder)
                time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock; a killed process releases it too


def write_files(data_dir: Path, files: dict[Path, str]) -> None:
    """Replace several files of data/ at once: all of them land, or (killed before the commit) none."""
    import tempfile  # only writers need it: every command imports this module

    renames = []
    tmp = None
    try:
        for target, text in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}{TEMP_MARK}")
            renames.append((tmp, str(target)))
            os.fchmod(fd, _mode(target))  # mkstemp makes 0600: the file keeps the mode it had
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        journal = _journal_path(data_dir)
        fd, tmp = tempfile.mkstemp(dir=journal.parent, prefix=f"{journal.name}{TEMP_MARK}")
        with os.fdopen(fd, "w") as f:
            json.dump(renames, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:  # a full disk, say: nothing was renamed, so data/ is as it was
        for written in {tmp, *(t for t, _ in renames)}:
            if written is not None:
                Path(written).unlink(missing_ok=True)
        raise
    os.replace(tmp, _journal_path(data_dir))  # the commit point
    _finish(data_dir)


def _mode(target: Path) -> int:
    """The permission bits `target` has, or those a new file gets under the process's umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def recover(data_dir: Path) -> None:
    """Finish or sweep up what a killed writer left, if no writer is at work now (readers call this)."""
    if not (_journal_path(data_dir)).exists() and not _stray(data_dir):
        return
    path = _lock_path(data_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if _try_lock(fd):  # a live writer holds it otherwise, and will finish its own work
            _finish(data_dir)
    finally:
        os.close(fd)


def _finish(data_dir: Path) -> None:
    journal = _journal_path(data_dir)
    if journal.exists():
        for tmp, target in json.loads(journal.read_text()):
            if Path(tmp).exists():
                os.replace(tmp, target)
        journal.unlink()
    for stray in _stray(data_dir):  # written before a commit that never came
        stray.unlink(missing_ok=True)


def _stray(data_dir: Path) -> list[Path]:
    inside = [p for p in data_dir.rglob(f"*{TEMP_MARK}*") if p.is_file()]
    return inside + list(data_dir.parent.glob(f"{_journal_path(data_dir).name}{TEMP_MARK}*"))


def _lock_path(data_dir: Path) -> Path:
    return data_dir.parent / LOCK_NAME.format(data_dir.name)


def _journal_path(data_dir: Path) -> Path:
    return data_dir.parent / JOURNAL_NAME.format(data_dir.name)
