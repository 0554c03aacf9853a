"""Lines for a person at a terminal: wrapped to its width, with colour where it is wanted, and light Markdown.

`kb show` and `kb search` are typed more than anything else and their answer should come at once: rich's
console, panels and Markdown took 50-85 ms to import, two to three times a bare sqlite3 lookup. These few
functions give the same layout from the standard library's textwrap. Colour follows the usual conventions: only
when stdout is a terminal, never with NO_COLOR set or TERM=dumb, always with FORCE_COLOR.

Every text reaching here has been through kb.text.safe: its own control sequences are gone, so the only
escapes written are these styles.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap

_CODES = {"bold": "1", "dim": "2", "cyan": "36", "green": "32", "yellow": "33", "match": "1;33"}
_DEFAULT_WIDTH = 80


def colour() -> bool:
    if os.environ.get("FORCE_COLOR"):
        return True
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def width() -> int:
    """COLUMNS when set (as shutil and rich read it), else the terminal's, else 80."""
    try:
        return max(int(os.environ["COLUMNS"]), 20)
    except (KeyError, ValueError):
        pass
    try:
        return max(os.get_terminal_size(sys.stdout.fileno()).columns, 20)
    except (OSError, ValueError):
        return _DEFAULT_WIDTH


class Styler:
    """`style(text, "bold")` wraps a text in that style's escape and a reset, or returns it as it is."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, name: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_CODES[name]}m{text}\x1b[0m"


def wrap(text: str, cols: int, indent: str = "", hanging: str | None = None) -> list[str]:
    """A paragraph as lines of at most `cols` characters: words too long for a line (URLs) are cut."""
    return textwrap.wrap(
        " ".join(text.split()),
        cols,
        initial_indent=indent,
        subsequent_indent=indent if hanging is None else hanging,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def highlight(lines: list[str], style: Styler, opening: str = "«", closing: str = "»") -> list[str]:
    """The catalogue's «matched words» in the match style, also when a match was wrapped across two lines."""
    out, inside = [], False
    for line in lines:
        parts, text = [], line
        if inside:
            parts.append("\x1b[" + _CODES["match"] + "m" if style.enabled else "")
        for ch in text:
            if ch == opening:
                inside = True
                parts.append("\x1b[" + _CODES["match"] + "m" if style.enabled else "")
            elif ch == closing:
                inside = False
                parts.append("\x1b[0m" if style.enabled else "")
            else:
                parts.append(ch)
        if inside and style.enabled:
            parts.append("\x1b[0m")
        out.append("".join(parts))
    return out


_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^#{1,6}\s+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def markdown(body: str, cols: int, style: Styler, indent: str = "  ") -> list[str]:
    """A summary's Markdown laid out for reading: paragraphs and list items re-wrapped, headings and **strong**
    text bold, code and tables as written. The text stays the author's: no link or emphasis is rewritten."""
    lines: list[str] = []
    block: list[str] = []  # the lines of the paragraph or list item being read
    lead = ""  # a list item's marker, as its first line's indent

    def flush():
        nonlocal block, lead
        if block:
            text = " ".join(block)
            first = indent + lead
            if lead and len(first) <= cols // 2:
                wrapped = wrap(text, cols, first, " " * len(first))
            elif lead:  # a marker too wide to hang the item's words under (a long number): one paragraph
                wrapped = wrap(lead + text, cols, indent)
            else:
                wrapped = wrap(text, cols, indent)
            lines.extend(_strong(line, style) for line in wrapped)
        block, lead = [], ""

    fenced = False
    for raw in body.strip("\n").splitlines():
        if _FENCE.match(raw):
            flush()
            fenced = not fenced
            lines.append(style(indent + raw.strip(), "dim"))
        elif fenced or raw.lstrip().startswith("|") or raw.startswith("    ") and not block:
            flush()  # code and tables keep their lines; one longer than the terminal is cut, not re-flowed
            lines.extend(style(piece, "dim") for piece in _cut(indent + raw.rstrip(), cols))
        elif not raw.strip():
            flush()
            if lines and lines[-1]:
                lines.append("")
        elif _HEADING.match(raw):
            flush()
            lines.extend(style(line, "bold") for line in wrap(_HEADING.sub("", raw), cols, indent))
        elif item := _ITEM.match(raw):
            flush()
            lead = item.group(1) + item.group(2) + " "
            block = [raw[item.end() :]]
        else:
            block.append(raw.strip())
    flush()
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _strong(line: str, style: Styler) -> str:
    return _STRONG.sub(lambda m: style(m.group(2), "bold"), line) if style.enabled else line


def _cut(line: str, cols: int) -> list[str]:
    return [line[i : i + cols] for i in range(0, len(line), cols)] or [""]
