"""Polite HTTP for every importer: a real User-Agent, per-host pacing, retries that honour
Retry-After, conditional GET, and a response cache so that a re-run within a day costs nothing."""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from importers.records import SourceError

USER_AGENT = "safety-kb/0.1 (+https://github.com/safety-kb/safety-kb; mailto:safety-kb@users.noreply.github.com)"


def cache_root() -> Path:
    """$KB_CACHE, else ~/.cache/safety-kb: read when used, so tests and users can move it."""
    return Path(os.environ.get("KB_CACHE") or Path.home() / ".cache" / "safety-kb")


RETRY_STATUS = {429, 500, 502, 503, 504}


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
    cache_dir: Path | None = field(default_factory=lambda: cache_root() / "http")
    max_age: float = 24 * 3600
    sleep: callable = time.sleep
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
        full = str(httpx.URL(url, params=params))
        body = json.dumps(json_body, sort_keys=True).encode() if json_body is not None else None
        cached = self._cache_path(method, full, body)
        meta = _read_meta(cached)
        if meta and time.time() - meta["stored"] < self.max_age:
            return cached.read_bytes()
        headers = {}
        if meta and meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta and meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
        host = urlsplit(full).netloc
        for attempt in range(self.retries + 1):
            self._pace(host)
            try:
                response = self.http.request(
                    method,
                    full,
                    content=body,
                    headers={**headers, **({"Content-Type": "application/json"} if body is not None else {})},
                )
            except httpx.TransportError as e:
                if attempt == self.retries:
                    raise SourceError(self.source, f"cannot reach {host}: {e}", full, hint=RESUME) from e
                self.sleep(self.backoff**attempt)
                continue
            if response.status_code == 304 and meta:
                _write_meta(cached, meta | {"stored": time.time()})
                return cached.read_bytes()
            if response.status_code in RETRY_STATUS and attempt < self.retries:
                self.sleep(_retry_after(response) or self.backoff**attempt)
                continue
            if response.status_code >= 400:
                error = SourceError(self.source, f"HTTP {response.status_code} from {host}", full, hint=_hint(response))
                error.status, error.body = response.status_code, response.content
                raise error
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_bytes(response.content)
                _write_meta(
                    cached,
                    {
                        "stored": time.time(),
                        "etag": response.headers.get("etag"),
                        "last_modified": response.headers.get("last-modified"),
                    },
                )
            return response.content
        raise SourceError(self.source, "gave up after retries", full)

    def get(self, url: str, params: dict | None = None) -> bytes:
        return self.request("GET", url, params=params)

    def post_json(self, url: str, body: dict) -> bytes:
        return self.request("POST", url, json_body=body)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    when = email.utils.parsedate_to_datetime(value)
    return max(when.timestamp() - time.time(), 0.0) if when else None


# Only a passing failure (the network, a rate limit, a server error) is worth running again; the pages already read
# are then served from the cache, so the re-run continues where this one stopped.
RESUME = "what was fetched before the error is saved; run the same command again later to resume"


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
