"""The site's search index: Pagefind, fed a custom record (text, title, filters) for each searchable page, made by
the worker that rendered the page from the same context, in shards so that a rebuild re-indexes only what changed.

Pagefind's CLI reads every page back from disk after the site is written and parses all of it (navigation,
lists of related works, BibTeX), on one or two cores: it took longer than rendering the site. Here each
searchable page's record goes to a Pagefind process through Pagefind's service mode (`pagefind --service`: the
protocol its Python and Node APIs speak; their Python client waits 0.1 s per answer, 100 s for 1,000 pages, so we
speak it ourselves), as a custom record: nothing for Pagefind to parse, and its bundle depends only on the records
and their order (given the same HTML twice, Pagefind wrote different bundles; given the same records, the same).

The searchable pages are dealt into shards by a hash of their path; each shard is an ordinary Pagefind bundle
built by its own process from its pages' records in the order the site lists its pages. The search page loads the
first shard (`pagefind/`) and merges the others (`pagefind/shard-K/`, listed in `pagefind/shards.json`) with
Pagefind's `mergeIndex`, which merges results by score and filters by value. Each shard's records are kept with
the site (`.kb-search/K.jsonl`); a rebuild keeps every shard whose records did not change (hard links to the live
bundle) and indexes the others again from their records: the changed ones made now, the others read back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path, PurePosixPath
from typing import BinaryIO, cast

from kb.website import staging
from kb.website.context import digest

SEARCH_DIR = "pagefind"
SHARDS_FILE = "shards.json"
RECORDS_DIR = ".kb-search"  # each shard's records, a JSON line [path, record] per page, in the site's page order
# Pages a shard holds before the index is split again: an edit re-indexes its page's whole shard (Pagefind has no
# incremental mode; about 0.85 ms of its CPU time a work page, measured), and below this a shard's run is mostly its
# start-up.
SHARD_PAGES = 128
# Every shard is a bundle a search loads: more than this makes each search wait on too many requests ...
MAX_SHARDS = 8
# ... unless a shard would hold more pages than this. A Pagefind process holds every page it is given until it gives
# its bundle (about 90 KB a page): a site of more than MAX_SHARDS * PROCESS_PAGES searchable pages (16,000) is split
# into more shards of about this many pages each, not into MAX_SHARDS ever larger ones (100,000 works, 8 shards:
# 3 processes alive held 3.4 GB between them).
PROCESS_PAGES = 2000
# The pages all the Pagefind processes alive at once may hold together: it bounds how many are alive.
PAGES_ALIVE = 3 * PROCESS_PAGES
LANGUAGE = "en"  # every page is English: Pagefind need not guess, and stems the words as English
STARTUP_SECONDS = 60  # a Pagefind that has not made an index by then will not
# Pagefind processes at once: one a core, and one more so that no core waits while a process starts or writes; at
# most as many as PAGES_ALIVE allows, whatever the number of cores.
CONCURRENT = max(1, min((os.cpu_count() or 1) + 1, PAGES_ALIVE // PROCESS_PAGES))


class PagefindFailed(RuntimeError):
    """Pagefind failed on a shard (the message holds what it said)."""


def executable() -> Path | None:
    """The Pagefind binary (from the pagefind[bin] wheel, or PAGEFIND_BINARY_PATH), or None."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        return None
    return get_executable()


def available() -> bool:
    return executable() is not None


def shard_count(pages: int, per_shard: int | None = None) -> int:
    """How many shards `pages` searchable pages are dealt into: a shard per SHARD_PAGES, at most MAX_SHARDS, unless
    that would give a shard more than PROCESS_PAGES."""
    per_shard = per_shard or SHARD_PAGES
    return max(1, min(MAX_SHARDS, -(-pages // per_shard)), -(-pages // PROCESS_PAGES))


def shard_of(path: str, shards: int) -> int:
    # a hash of the path, not its position: adding a work moves no other page to another shard
    return int.from_bytes(hashlib.blake2b(path.encode(), digest_size=4).digest(), "big") % shards


def bundle(k: int) -> str:
    """Shard k's folder in the site: the first is Pagefind's usual place, so a one-shard site looks as always."""
    return SEARCH_DIR if k == 0 else f"{SEARCH_DIR}/shard-{k}"


def records_file(k: int) -> str:
    return f"{RECORDS_DIR}/{k}.jsonl"


def reusable(old: dict, out: Path, expected: int) -> bool:
    """Whether what the previous build recorded of its index (`finish`'s first return value) and the records kept
    with the live site let a build of `expected` searchable pages keep its shards: the same number of them."""
    shards = shard_count(expected)
    return (
        bool(old.get("records"))
        and old.get("shards") == shards
        and len(old.get("digests", [])) == shards
        and (out / RECORDS_DIR).is_dir()
    )


def bundle_files(site: Path, k: int) -> set[str]:
    """The files of shard k's bundle in a site, relative to the site (the first shard's folder holds the others'
    folders and the list of them: not its files)."""
    root = site / bundle(k)
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root) and k == 0:
            dirnames[:] = [d for d in dirnames if not d.startswith("shard-")]
            filenames = [f for f in filenames if f != SHARDS_FILE]
        found.update(os.path.relpath(os.path.join(dirpath, f), site) for f in filenames)
    return found


class Indexer:
    """The search index of one build: `add` each searchable page's record as it is rendered, `keep` each searchable
    page carried over unchanged from the live site, `flush` after each batch of pages, then `finish`; `close` in any
    case. Each page comes with its position in the site's list of pages: a shard's records go to Pagefind in that
    order, so an index made in pieces is the index a full build makes.

    stage: the new site being assembled; out: the live site (where unchanged bundles and records are read);
    expected: how many searchable pages the build will have (it fixes the number of shards before the first page
    comes); old: what the previous build recorded (`finish`'s first return value), {} for none; fresh: every page
    is rendered, in order (a full build): records are fed to Pagefind as they come; carry: the same searchable pages
    as the previous build, in the same order, and only the pages whose records may have changed come (`add` or
    `keep`): every other page keeps its record, and a shard indexed anew takes the live one's order; live: the live
    site is updated in place, so a new bundle's files that the live bundle holds already (the same bytes: most of
    them) are not staged, and `stale` names the live files a new bundle no longer has.

    A shard is indexed anew when the previous build did not index it (a full build) or when one of its pages'
    records differs from what the previous build indexed (or a page left it); else its live bundle is kept.
    The records wait on disk, a file per shard beside the new site. A Pagefind process holds every page it is
    given in memory until it gives its bundle, so at most CONCURRENT processes are alive at once: in a full build,
    at each `flush` the shards that have one (or get one, while fewer are alive) are fed what was spooled for them,
    and index it while the next batch is rendered; `finish` indexes the rest as processes end. (Fed while the
    pages render rather than after each batch, Pagefind would compete with the renderers for the cores.)"""

    def __init__(
        self,
        stage: Path,
        out: Path,
        expected: int,
        old: dict,
        fresh: bool = True,
        carry: bool = False,
        live: bool = False,
    ):
        self.stage, self.out = stage, out
        self._live = live  # the live site is updated in place: a new bundle's files the live one has are not staged
        self._bundles: dict[int, set[str]] = {}  # shard -> its new bundle's files (relative to the site)
        self.shards = shard_count(expected)
        kept = old.get("records") and (out / RECORDS_DIR).is_dir()  # records of the live site to read back
        self._old_shards: int = old.get("shards", 0) if kept else 0
        self._old_docs: dict[str, str] = old.get("docs", {}) if kept else {}
        same = reusable(old, out, expected)
        self._old_digests: list[str | None] = old["digests"] if same else [None] * self.shards
        self._carry = carry and same
        self._old_records: dict[int, dict[str, bytes]] = {}  # an old shard's records, read back when needed
        self._in_order = fresh and not same  # records come in page order, each page once: fed as they come
        self._docs: dict[str, str] = {}  # path -> digest of its record, for every searchable page
        self._members: list[list[tuple[int, str]]] = [[] for _ in range(self.shards)]  # (position, path)
        self._dirty = [not same] * self.shards
        self._executable = executable()
        if self._executable is None:
            raise PagefindFailed("Pagefind is not installed (pip install pagefind[bin])")
        # a name the next build removes if this one is killed (render's staging folders: .NAME.index-*)
        self._spool = staging.make(out, "index")
        self._spooled: dict[int, BinaryIO] = {}  # shard -> its spool file, written as pages come
        self._fed: dict[int, int] = {}  # shard -> how much of its spool file its process has been given (bytes)
        self._processes: dict[int, _Pagefind] = {}  # the shards being indexed now
        self._changes = [0] * self.shards  # records added that differ from the live ones, per shard
        self._early: dict[int, _Early] = {}  # carry: shards indexed while the rest of the build goes on
        self._lock = threading.Lock()
        self._closed = False
        if self._carry:  # every page is a member already, with its live record
            for path, known in self._old_docs.items():
                self._member(path, known, 0)

    def add(self, path: str, record: dict, position: int) -> None:
        """A searchable page rendered now, and its record (context.search_record)."""
        line = json.dumps([path, record], ensure_ascii=False, sort_keys=True).encode() + b"\n"
        k = self._member(path, digest(line), position)
        if self._docs[path] != self._old_docs.get(path):
            self._dirty[k] = True
            self._changes[k] += 1
        if k not in self._spooled:
            self._spooled[k] = open(self._spool / f"{k}.jsonl", "wb")  # closed by finish or close
        self._spooled[k].write(line)

    def keep(self, path: str, position: int) -> bool:
        """A searchable page carried over from the live site unchanged: True if its record is known (kept with the
        live site), False if the page must be rendered again to make it."""
        digest = self._old_docs.get(path)
        if digest is None:
            return False
        if not self._carry:
            self._member(path, digest, position)
        return True

    def flush(self) -> None:
        """After a batch of pages, in a full build: each changed shard with a Pagefind process (or that can have
        one now) is given what was spooled for it since. Carried over (an incremental build, whose changed records
        come first: render._batches): each shard with a changed record is indexed now, in the background (_Early)."""
        if self._carry:
            self._index_early()
        if not self._in_order:  # records come as pages change: ordered when the last has come
            return
        for k in range(self.shards):
            if self._dirty[k] and (k in self._processes or len(self._processes) < CONCURRENT):
                if self._start(k) is not None:
                    self._feed(k)

    def finish(self, link: bool = True) -> tuple[dict, list[int]]:
        """Write every shard's bundle and records into stage/ (new ones, or, with `link`, the live ones where
        nothing changed: hard links). Returns (what to record for the next build, the shards indexed now)."""
        digests = [
            digest("".join(f"{p}\0{self._docs[p]}\0" for p in sorted(p for _, p in members)).encode())
            for members in self._members
        ]
        for k in range(self.shards):
            unchanged = digests[k] == self._old_digests[k] and (self.out / bundle(k)).is_dir()
            self._dirty[k] = self._dirty[k] or not unchanged
        for spooled in self._spooled.values():
            spooled.close()
        (self.stage / RECORDS_DIR).mkdir(parents=True, exist_ok=True)
        dirty = [k for k in range(self.shards) if self._dirty[k]]
        self._run(sorted(dirty, key=lambda k: k not in self._processes))  # those being indexed already first
        for k in range(self.shards):  # the new ones are in stage/ already (written from what Pagefind gave)
            if link and not self._dirty[k]:
                _link_bundle(self.out / bundle(k), self.stage / bundle(k))
                if (self.out / records_file(k)).is_file():
                    os.link(self.out / records_file(k), self.stage / records_file(k))
        others = [f"shard-{k}/" for k in range(1, self.shards) if self._members[k]]
        (self.stage / SEARCH_DIR).mkdir(exist_ok=True)
        (self.stage / SEARCH_DIR / SHARDS_FILE).write_text(json.dumps(others) + "\n", encoding="utf-8")
        return {"shards": self.shards, "digests": digests, "docs": self._docs, "records": True}, dirty

    def _run(self, queue: list[int]) -> None:
        """Index the queued shards, CONCURRENT at a time."""
        failures: list[BaseException] = []
        # daemon threads, not a ThreadPoolExecutor's: an interpreter leaving (Ctrl-C in `kb site serve`) does not
        # wait for them to index the shards still queued
        workers = [
            threading.Thread(target=self._work, args=(queue, failures), daemon=True, name=f"pagefind-{i}")
            for i in range(min(CONCURRENT, len(queue)))
        ]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        except BaseException:  # interrupted while it waited: no process is left behind
            self.close()
            raise
        if failures:  # the first: the others are the shards it stopped
            raise failures[0]

    def _work(self, queue: list[int], failures: list[BaseException]) -> None:
        """One worker: the queued shards one after another, until none is left or one fails (which stops all)."""
        while True:
            with self._lock:
                if self._closed or not queue:
                    return
                k = queue.pop(0)
            try:
                self._index(k)
            except BaseException as e:
                with self._lock:
                    failures.append(e)
                self.close()
                return

    def _index_early(self) -> None:
        """Carried over: each shard with a changed record, and no process yet, indexed now in a thread from the
        records made so far, while the build makes the other pages (Pagefind's part of an incremental build, about
        1 s for a shard of 1,250 pages, was most of what followed). It gives its bundle to `finish`, which takes it
        if no changed record came for the shard since (else the shard is indexed again)."""
        for k in range(self.shards):
            if self._dirty[k] and k not in self._early and len(self._early) < CONCURRENT:
                self._spooled[k].flush()  # what it holds now, read by the thread: the lines added later are not
                early = self._early[k] = _Early(self._changes[k], self._spooled[k].tell())
                early.thread = threading.Thread(target=self._get_early, args=(k, early), daemon=True)
                early.thread.start()

    def _get_early(self, k: int, early: _Early) -> None:
        try:
            early.process = process = self._start(k)
            if process is None:
                return
            early.lines = self._ordered(k, early.spooled)
            for line in early.lines:
                process.add(*json.loads(line))
            process.write()
            process.receive()
        except BaseException as e:  # raised by `finish` if it takes this bundle
            early.failure = e

    def _index(self, k: int) -> None:
        """Shard k's bundle, by its Pagefind process, and its records file beside it."""
        target = self.stage / records_file(k)
        early = self._early.get(k)
        if early is not None:
            early.thread.join()
            if early.changes == self._changes[k]:  # no changed record came since: its bundle is the shard's
                if early.failure is not None:
                    raise early.failure
                if early.process is None:  # the index was closed (a shard failed)
                    return
                target.write_bytes(b"".join(early.lines))
                early.process.write_files()
                self._done(k, early.process)
                return
            with self._lock:  # made from fewer records than the shard has now: indexed again
                stale = self._processes.pop(k, None)
            if stale is not None:
                stale.kill()
        process = self._start(k)
        if process is None:
            return
        if self._in_order:  # the spool holds the shard's records in order: what is left of it, then keep it
            self._feed(k)
            if k in self._spooled:
                os.link(self._spooled[k].name, target)
            else:
                target.write_bytes(b"")
        else:
            lines = self._ordered(k)
            target.write_bytes(b"".join(lines))
            for line in lines:
                process.add(*json.loads(line))
        process.write()
        process.wait()
        self._done(k, process)

    def _done(self, k: int, process: _Pagefind) -> None:
        with self._lock:
            del self._processes[k]
            self._bundles[k] = {f"{bundle(k)}/{name}" for name in process.names}

    def stale(self, k: int) -> set[str]:
        """The live site's files of shard k's bundle that its new bundle, indexed now, has not."""
        return bundle_files(self.out, k) - self._bundles[k]

    def _ordered(self, k: int, spooled: int | None = None) -> list[bytes]:
        """Shard k's records in page order: those made now (spooled; its first `spooled` bytes only, if given) and
        those kept (read back from the live site; when carried over, in the live shard's order, which is the site's)."""
        made: dict[str, bytes] = {}
        if k in self._spooled:
            with open(self._spooled[k].name, "rb") as lines:
                for line in (lines.read(spooled) if spooled is not None else lines.read()).splitlines(keepends=True):
                    made[json.loads(line)[0]] = line
        if self._carry:
            with open(self.out / records_file(k), "rb") as lines:
                return [made.get(path) or line for line in lines for path in (_path_of(line),)]
        return [made.get(path) or self._old_record(path) for _, path in sorted(self._members[k])]

    def _old_record(self, path: str) -> bytes:
        old = shard_of(path, self._old_shards)
        with self._lock:
            if old not in self._old_records:
                with open(self.out / records_file(old), "rb") as lines:
                    self._old_records[old] = {json.loads(line)[0]: line for line in lines}
            return self._old_records[old][path]

    def _start(self, k: int) -> _Pagefind | None:
        """Shard k's Pagefind process, started if it has none; None once the index is closed (a shard failed)."""
        if k in self._processes:
            return self._processes[k]
        assert self._executable is not None, "an index without Pagefind starts no process"
        process = _Pagefind(self._executable, self.stage / bundle(k), k, self.out / bundle(k) if self._live else None)
        with self._lock:
            if self._closed:
                process.kill()
                return None
            self._processes[k] = process
        return process

    def _feed(self, k: int) -> None:
        spooled = self._spooled.get(k)
        if spooled is None:
            return
        if not spooled.closed:
            spooled.flush()
        with open(spooled.name, "rb") as lines:
            lines.seek(self._fed.get(k, 0))
            for line in lines:
                self._processes[k].add(*json.loads(line))
            self._fed[k] = lines.tell()

    def close(self) -> None:
        """Stop every Pagefind process and remove the spooled records (after `finish`, or instead of it)."""
        with self._lock:
            self._closed = True
            processes = list(self._processes.values())
        for process in processes:
            process.kill()
        for spooled in self._spooled.values():
            try:
                spooled.close()
            except OSError:  # its buffer could not be written (a full disk): it is removed below all the same
                pass
        shutil.rmtree(self._spool, ignore_errors=True)

    def _member(self, path: str, digest: str, position: int) -> int:
        k = shard_of(path, self.shards)
        if not (self._carry and path in self._docs):  # carried over: a member from the start
            self._members[k].append((position, path))
        self._docs[path] = digest
        return k


@dataclass
class _Early:
    """A shard indexed early (Indexer._index_early): how many changed records it had when it started, its thread and
    Pagefind process, the records it was given, and what went wrong, if anything."""

    changes: int
    spooled: int  # the bytes of the shard's spool file it was made from
    thread: threading.Thread = field(init=False)
    process: _Pagefind | None = None
    lines: list[bytes] = field(default_factory=list)
    failure: BaseException | None = None


def _path_of(line: bytes) -> str:
    """The page of a records file's line (`[path, record]`, written with sorted keys: the path comes first)."""
    return json.loads(line)[0]


class _Pagefind:
    """One `pagefind --service` process building one bundle. Requests are base64-encoded JSON messages, each
    followed by a comma, on its stdin; answers come the same way on its stdout, read by a thread so that neither
    side blocks the other; `write` asks for the bundle, `wait` waits for it.

    The build forks its renderers while these reader threads run (a build of more than one batch): the children
    never touch the pipes or the threads' state, and exit before the bundles are waited for."""

    def __init__(self, executable: Path, output: Path, shard: int, live: Path | None = None):
        """output: where the bundle goes; live: the live site's bundle of the same shard, whose files that are the
        same bytes are not written again (most of them: each page's fragment, the scripts)."""
        self.output, self.shard, self.live = output, shard, live
        self.names: list[str] = []  # the bundle's files, once written
        self._sent = 0
        self._errors: list[str] = []
        self._index = threading.Event()  # the index exists (or the process is gone)
        self._index_id: int | None = None
        self._writing = False
        self._written = threading.Event()  # the bundle's files have come, or never will
        self._files: list[dict] | None = None  # the bundle's files (path, base64 content), as Pagefind gave them
        self._log = tempfile.TemporaryFile()  # what Pagefind prints besides its answers
        try:
            self._process = subprocess.Popen(
                [str(executable), "--service"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log
            )
        except OSError as e:
            self._log.close()
            raise PagefindFailed(f"Pagefind could not be started ({executable}): {e}") from None
        # both pipes exist (PIPE was asked for): named once, typed, for the methods that use them
        self._stdin = cast(BinaryIO, self._process.stdin)
        self._stdout = cast(BufferedReader, self._process.stdout)
        try:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
            self._send({"type": "NewIndex", "config": {"force_language": LANGUAGE}})
            if not self._index.wait(timeout=STARTUP_SECONDS) or self._index_id is None:
                self._fail("did not start an index")
        except BaseException:  # interrupted while it started: no process is left behind
            self.kill()
            raise

    def add(self, path: str, record: dict) -> None:
        """A page's custom record: its text, meta and filters (Pagefind's AddRecord)."""
        message = {"type": "AddRecord", "index_id": self._index_id, "url": f"/{path}", "language": LANGUAGE}
        self._send(message | record)

    def write(self) -> None:
        """Ask for the bundle. Its files come back in the answer and `wait` writes them: Pagefind's own WriteFiles
        answers once its writes are handed to background threads, which are lost if it exits at once (as it does
        when its input is closed): an empty pagefind-entry.json in a shard of 2 to 5 builds in 20 on a busy
        machine, measured, and a search page that fails on it."""
        self._writing = True
        self._send({"type": "GetFiles", "index_id": self._index_id})

    def wait(self) -> None:
        """Wait for the bundle and write its files."""
        self.receive()
        self.write_files()

    def receive(self) -> None:
        """Wait for the bundle's files (held until `write_files`) and for the process to end."""
        while not self._written.wait(timeout=1):
            if self._process.poll() is not None:  # gone without a word: the reader is about to say so
                self._reader.join(timeout=5)
                break
        if self._errors:
            self._fail("; ".join(self._errors[:3]))
        if self._files is None:
            self._fail("stopped before giving its bundle")
        self._stdin.close()
        self._process.wait()
        self._close()

    def write_files(self) -> None:
        made = set()
        for file in self._files or []:
            try:
                relative = PurePosixPath(file["path"])
                content = base64.b64decode(file["content"], validate=True)
            except (KeyError, TypeError, ValueError) as e:  # binascii.Error is a ValueError
                self._fail(f"gave a file that cannot be read ({type(e).__name__}: {e})")
            if relative.is_absolute() or ".." in relative.parts or "\\" in str(relative) or not relative.parts:
                self._fail(f"named a file outside its bundle: {file['path']!r}")
            target = self.output / relative
            self.names.append(str(relative))
            if self.live is not None and _holds(self.live / relative, content):
                continue
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(content)
        self._files = None  # the bundle is on disk: its bytes need not stay in memory

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._close()

    def _close(self) -> None:
        self._reader.join(timeout=5)
        for stream in (self._stdin, self._stdout, self._log):
            try:
                stream.close()
            except OSError:  # stdin whose last bytes could not be flushed to a process that is gone
                pass

    def _send(self, payload: dict) -> None:
        self._sent += 1
        message = json.dumps({"message_id": self._sent, "payload": payload}).encode()
        try:
            self._stdin.write(base64.b64encode(message) + b",")
            if payload["type"] != "AddRecord":  # answers to the others are waited for: send them now
                self._stdin.flush()
        except OSError:  # a broken pipe: the process is gone
            self._fail("stopped")

    def _read(self) -> None:
        pending: list[bytes] = []  # the start of an answer still coming (the bundle's files come as one answer)
        try:
            while chunk := self._stdout.read1(1 << 16):
                if b"," not in chunk:  # joined only once the answer is whole: appending to bytes is quadratic
                    pending.append(chunk)
                    continue
                first, *answers, rest = chunk.split(b",")
                for answer in [b"".join([*pending, first]), *answers]:
                    self._answer(json.loads(base64.b64decode(answer)).get("payload") or {})
                pending = [rest]
        except (ValueError, AttributeError) as e:  # not an answer of the protocol: stop it rather than hang
            self._errors.append(f"unreadable answer ({e})")
            self._process.kill()  # what is sent to it next fails at once, instead of filling its pipe
        finally:  # the process ended or was stopped: whoever waits, waits no more
            self._index.set()
            self._written.set()

    def _answer(self, payload: dict) -> None:
        kind = payload.get("type")
        if kind == "NewIndex":
            self._index_id = payload.get("index_id")
            self._index.set()
        elif kind == "GetFiles":
            self._files = payload.get("files") or []
            self._written.set()
        elif kind == "Error":
            self._errors.append(str(payload.get("message", payload))[:500])
            self._index.set()
            if self._writing:
                self._written.set()

    def _fail(self, what: str) -> None:
        said = ""
        try:
            self._log.seek(0)
            said = self._log.read().decode(errors="replace")[-2000:]
        except (OSError, ValueError):  # the log is closed already
            pass
        self.kill()
        raise PagefindFailed(f"Pagefind failed to index the site (shard {self.shard}): {what}\n{said}".rstrip())


def _holds(path: Path, content: bytes) -> bool:
    """Whether the file at path is these bytes (reading a file costs less than writing and moving one)."""
    try:
        return path.stat().st_size == len(content) and path.read_bytes() == content
    except OSError:
        return False


def _link_bundle(source: Path, target: Path) -> None:
    """A shard's bundle hard-linked into place; the first shard's folder holds the others: not part of it."""
    for dirpath, dirnames, filenames in os.walk(source):
        rel = Path(dirpath).relative_to(source)
        if rel == Path(".") and source.name == SEARCH_DIR:
            dirnames[:] = [d for d in dirnames if not d.startswith("shard-")]
            filenames = [f for f in filenames if f != SHARDS_FILE]
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            os.link(Path(dirpath) / name, target / rel / name)
