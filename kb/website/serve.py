"""`kb site serve`: the built site on 127.0.0.1, optionally rebuilt when data/ or the templates change."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the quiet default for a local preview
        pass

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code == 404 and page.exists():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


def server(out: Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), functools.partial(_Handler, directory=str(out)))


def watch(
    signature: Callable[[], object], rebuild: Callable[[], None], stop: threading.Event, every: float = 1.0
) -> None:
    """Poll signature() and call rebuild() when it changes, until stop is set."""
    last = signature()
    while not stop.wait(every):
        now = signature()
        if now != last:
            last = now
            try:
                rebuild()
            except Exception as e:  # a broken edit must not stop the preview; the old site stays
                from kb.website.render import JournalPending

                kept = "" if isinstance(e, JournalPending) else ", the previous site is kept"
                print(f"rebuild failed{kept}: {e}", flush=True)


def run_forever(httpd: ThreadingHTTPServer) -> None:
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


def preview(ws, out: Path | None, port: int, rebuild: Callable[[], object], watching: bool = False):
    """Serve the built site on 127.0.0.1:port; with watching, call rebuild() whenever data/ or site/ changes.

    Returns the server (call run_forever on it). Raises OSError when the port is taken."""
    from kb import catalogue
    from kb.website import assets_dir

    httpd = server(out or ws.site_dir, port)
    if watching:

        def signature():
            files = sorted(p for p in assets_dir().rglob("*") if p.is_file())
            return catalogue.source_signature(ws.data_dir), [(str(p), p.stat().st_mtime_ns) for p in files]

        threading.Thread(target=watch, args=(signature, rebuild, threading.Event()), daemon=True).start()
    return httpd
