"""Polite HTTP for every importer: a real User-Agent, per-host pacing, retries that honour
Retry-After, conditional GET, and a response cache so that a re-run within a day costs nothing."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from importers.records import SourceError

USER_AGENT = "safety-kb/0.1 (+https://github.com/safety-kb/safety-kb; mailto:safety-kb@users.noreply.github.com)"


RETRY_STATUS = {429, 500, 502, 503, 504}
# The largest answer kb reads, counted both as bytes received and as bytes after decompression: the largest real
# answers a source gives (a 100-entry arXiv page, a 200-work OpenAlex page, a blog's full-text feed) are a few MB, so
# anything past this is a mistake or an attack (a gzip bomb), refused while it streams, never held whole.
MAX_BYTES = 32 * 1024 * 1024
# One request, every retry and wait included, ends within this many seconds: a server that accepts the connection
# and never answers (or drips a byte a minute) would otherwise hold the command for retries x read timeout.
TOTAL_TIMEOUT = 120.0
# How often a terminal hears that a slow request is still going.
PROGRESS_EVERY = 2.0


def client(transport: httpx.BaseTransport | None = None, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout, follow_redirects=True, transport=transport)


@dataclass
class Polite:
    """Wraps a client: paces requests per host, retries, caches. One per import run."""

    http: httpx.Client
    source: str
    intervals: dict[str, float] = field(default_factory=dict)  # host -> seconds between requests
    default_interval: float = 1.0
    retries: int = 4
    backoff: float = 2.0
    cache_dir: Path | None = None  # where answers are cached (kb gives $KB_CACHE/http); None: nothing cached
    max_age: float = 24 * 3600
    # A server may ask for an hour or a day (Retry-After: 86400): a command that sleeps that long looks hung, so a
    # longer wait is an error that says when to run again, and what was read is kept in the cache.
    max_retry_wait: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    max_bytes: int = MAX_BYTES
    total_timeout: float = TOTAL_TIMEOUT
    # progress(text): told what a slow request is doing (kb import sets it on a terminal)
    progress: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _pace(self, host: str) -> None:
        with self._lock:
            wait = self._last.get(host, -1e9) + self.intervals.get(host, self.default_interval) - time.monotonic()
            self._last[host] = time.monotonic() + max(wait, 0)
        if wait > 0:
            self.sleep(wait)

    def _cache_path(self, method: str, url: str, body: bytes | None) -> Path | None:
        if not self.cache_dir:
            return None
        key = hashlib.sha256(f"{method} {url}\n".encode() + (body or b"")).hexdigest()[:32]
        return self.cache_dir / key[:2] / key

    def request(self, method: str, url: str, *, json_body: dict | None = None, params: dict | None = None) -> bytes:
        """The body of a successful answer, from the cache when it is fresh or the server says 304."""
        full = self._url(url, params)
        body = json.dumps(json_body, sort_keys=True).encode() if json_body is not None else None
        cached = self._cache_path(method, full, body)
        meta = _read_meta(cached)
        if cached and meta and time.time() - meta["stored"] < self.max_age:
            return cached.read_bytes()
        headers = _conditional(meta)
        host = urlsplit(full).netloc
        deadline = None
        for attempt in range(self.retries + 1):
            self._pace(host)
            deadline = deadline or self.clock() + self.total_timeout  # pacing is ours: it does not count
            if attempt and self.progress:
                self.progress(f"{host}: asking again (attempt {attempt + 1})")
            try:
                response, content = self._send(
                    method,
                    full,
                    body,
                    {**headers, **({"Content-Type": "application/json"} if body is not None else {})},
                    deadline,
                )
            except (_Refused, httpx.HTTPError, httpx.InvalidURL) as e:
                self._raise_unless_worth_retrying(e, full, attempt, deadline)
                self.sleep(self.backoff**attempt)
                continue
            if response.status_code == 304 and meta and cached:
                _write_meta(cached, meta | {"stored": time.time()})
                return cached.read_bytes()
            if response.status_code in RETRY_STATUS and attempt < self.retries:
                pause = self._retry_pause(response, full, attempt)
                if self.clock() + pause < deadline:  # else the answer in hand is the failure said below
                    self.sleep(pause)
                    continue
            if response.status_code >= 400:
                error = SourceError(self.source, f"HTTP {response.status_code} from {host}", full, hint=_hint(response))
                error.status, error.body = response.status_code, content
                raise error
            if cached:
                _store(cached, response, content)
            return content
        raise SourceError(self.source, "gave up after retries", full)

    def _raise_unless_worth_retrying(self, e: Exception, full: str, attempt: int, deadline: float) -> None:
        """A failed attempt said as one SourceError that names the URL (never a traceback), raised; returns only when a
        network failure leaves time and attempts to ask again."""
        host = urlsplit(full).netloc
        if isinstance(e, _Refused):
            raise SourceError(self.source, str(e), full) from None
        if isinstance(e, httpx.UnsupportedProtocol):
            # the URL asked was checked above, so a redirect led here (to file:, ftp:, ...): asking again
            # would be sent the same way
            where = _request_url(e) or full
            raise SourceError(self.source, f"redirected to {where!r}, which is not an http(s) URL", full) from None
        if isinstance(e, httpx.TransportError):
            if self.clock() + self.backoff**attempt >= deadline:
                said = f"no answer from {host} within {self.total_timeout:.0f} s ({e})"
                raise SourceError(self.source, said, full, hint=RESUME) from e
            if attempt == self.retries:
                raise SourceError(self.source, f"cannot reach {host}: {e}", full, hint=RESUME) from e
            return
        if isinstance(e, httpx.TooManyRedirects):
            raise SourceError(self.source, "too many redirects (a redirect loop?)", full) from None
        if isinstance(e, httpx.DecodingError):  # e.g. Content-Encoding: gzip on a body that is not gzip
            raise SourceError(self.source, f"the answer cannot be decoded: {e}", full) from None
        if isinstance(e, httpx.InvalidURL):  # a redirect's Location that is not a URL
            raise SourceError(self.source, f"an invalid URL on the way: {e}", full) from None
        # any other: still one line that names the URL, never a traceback
        raise SourceError(self.source, f"the request failed ({type(e).__name__}: {e})", full) from None

    def _retry_pause(self, response: httpx.Response, full: str, attempt: int) -> float:
        """How long to wait before asking again after a status worth retrying: the server's Retry-After, else the
        backoff; a wait longer than max_retry_wait is an error that says when to run again."""
        wait = _retry_after(response)  # 0 (a date already past) is an answer: ask again now, paced
        if wait is not None and wait > self.max_retry_wait:
            raise SourceError(
                self.source,
                f"HTTP {response.status_code} from {urlsplit(full).netloc}, asking us to wait {wait:.0f} s "
                f"(more than the {self.max_retry_wait:.0f} s kb waits)",
                full,
                hint=f"what was fetched before is saved; run the same command again in {_duration(wait)}",
            )
        return self.backoff**attempt if wait is None else wait

    def _send(self, method: str, url: str, body: bytes | None, headers: dict, deadline: float):
        """(response, its body) of one request, read in pieces: refused once more than max_bytes are received or
        decompressed (a gzip bomb is stopped within one received piece, never inflated whole) or the deadline passes;
        a terminal is told how a long answer goes."""
        left = deadline - self.clock()
        if left <= 0:
            raise httpx.ReadTimeout(f"no answer within {self.total_timeout:.0f} s")
        timeout = httpx.Timeout(min(left, self.http.timeout.read or left))
        host, limit = urlsplit(url).netloc, _size(self.max_bytes)
        with self.http.stream(method, url, content=body, headers=headers, timeout=timeout) as response:
            length = response.headers.get("content-length", "")
            if length.isascii() and length.isdigit() and int(length) > self.max_bytes:
                raise _Refused(f"the answer is {_size(int(length))}, more than the {limit} kb reads")
            chunks, size, started = [], 0, self.clock()
            told = started
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes or response.num_bytes_downloaded > self.max_bytes:
                    unpacked = " once decompressed" if size > response.num_bytes_downloaded else ""
                    raise _Refused(f"the answer is more than the {limit} kb reads{unpacked}: refused while reading")
                if self.clock() > deadline:
                    raise _Refused(f"the answer took more than {self.total_timeout:.0f} s: stopped")
                chunks.append(chunk)
                if self.progress and self.clock() - told >= PROGRESS_EVERY:
                    told = self.clock()
                    self.progress(f"{host}: {size / 1e6:.1f} MB in {told - started:.0f} s")
            return response, b"".join(chunks)

    def _url(self, url: str, params: dict | None) -> str:
        """The URL to ask, checked first: a URL that is not http(s) or not a URL at all is a mistake to fix, not a
        network failure, so it is said as such (and without the advice to run again, which would fail the same)."""
        try:
            full = httpx.URL(url, params=params)
        except (httpx.InvalidURL, TypeError) as e:
            raise SourceError(self.source, f"{url!r} is not a valid URL: {e}") from None
        if full.scheme not in ("http", "https") or not full.host:
            raise SourceError(self.source, f"{url!r} is not an http(s) URL")
        return str(full)

    def forget(self, url: str, params: dict | None = None, json_body: dict | None = None) -> None:
        """Drop the cached answer to a request (a GET, or the POST of json_body), so that the next run asks again: for
        an answer that cannot be used or is known to be a passing fault of the server (arXiv's empty pages, an HTML
        error page served with 200), which the cache would otherwise serve for a day."""
        body = json.dumps(json_body, sort_keys=True).encode() if json_body is not None else None
        cached = self._cache_path("GET" if body is None else "POST", self._url(url, params), body)
        if cached:
            cached.unlink(missing_ok=True)
            cached.with_suffix(".meta").unlink(missing_ok=True)

    def get(self, url: str, params: dict | None = None) -> bytes:
        return self.request("GET", url, params=params)

    def post_json(self, url: str, body: dict) -> bytes:
        return self.request("POST", url, json_body=body)


def _conditional(meta: dict | None) -> dict[str, str]:
    """The headers of a conditional GET for a cached answer: the server says 304 when it has not changed."""
    headers = {}
    if meta and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if meta and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    return headers


def _store(cached: Path, response: httpx.Response, content: bytes) -> None:
    """Keep an answer, with what a conditional GET asks about it later."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(content)
    _write_meta(
        cached,
        {
            "stored": time.time(),
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        },
    )


class _Refused(Exception):
    """An answer kb will not read further (too large, too slow): said as it is, never retried."""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # a date we cannot read is no instruction: back off as if the header were absent
    if when.tzinfo is None:  # "-0000": the date is UTC, with no zone said
        when = when.replace(tzinfo=dt.UTC)
    return max(when.timestamp() - time.time(), 0.0)  # a date in the past: ask again now


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes / 60:.0f} hours"


# Only a passing failure (the network, a rate limit, a server error) is worth running again; the pages already read
# are then served from the cache, so the re-run continues where this one stopped.
RESUME = "what was fetched before the error is saved; run the same command again later to resume"


def _request_url(e: httpx.RequestError) -> str | None:
    try:
        return str(e.request.url)
    except RuntimeError:  # raised without a request
        return None


def _hint(response: httpx.Response) -> str | None:
    if response.status_code in (401, 403):
        return "the server refused us (blocked or needs a key); try again later or use another source"
    if response.status_code in RETRY_STATUS:
        return RESUME
    return None


def _read_meta(cached: Path | None) -> dict | None:
    if not cached or not cached.exists():
        return None
    try:
        return json.loads(cached.with_suffix(".meta").read_text())
    except (OSError, ValueError):
        return None


def _write_meta(cached: Path, meta: dict) -> None:
    cached.with_suffix(".meta").write_text(json.dumps(meta))
