"""Helpers that read a built site the way a browser would: every link, every script."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (attribute, value)
        self.scripts: list[str | None] = []  # src of each <script>, None for inline
        self.handlers: list[str] = []  # on* attributes

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append((name, value))
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))


def parse(path: Path) -> _Collect:
    c = _Collect()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def broken_links(site: Path) -> list[str]:
    """Internal links (no scheme) that point at no file; the search bundle counts only once built."""
    broken = []
    indexed = (site / "pagefind").is_dir()
    for page in site.rglob("*.html"):
        if "pagefind" in page.parts:
            continue
        for _, value in parse(page).links:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("#") or not parts.path:
                continue
            if not indexed and parts.path.startswith("pagefind/"):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {value}")
    return broken
