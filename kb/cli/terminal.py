"""Lines for a person at a terminal: wrapped to its width, with colour where it is wanted, and light Markdown.

`kb show` and `kb search` are typed more than anything else and their answer should come at once: rich's
console, panels and Markdown took 50-85 ms to import, two to three times a bare sqlite3 lookup. These few
functions give the same layout from the standard library. Colour follows the usual conventions (no-color.org):
only when stdout is a terminal, never with NO_COLOR set to anything or TERM=dumb, always with FORCE_COLOR.

Widths are counted in terminal cells, not characters: a CJK character takes two, a combining accent none, and a
tab is expanded before it is counted. Every text reaching here has been through kb.text.safe: its own control
sequences are gone, so the only escapes written are these styles.
"""

from __future__ import annotations

import os
import re
import sys

_CODES = {"bold": "1", "dim": "2", "cyan": "36", "green": "32", "yellow": "33", "match": "1;33"}
_RESET = "\x1b[0m"
_DEFAULT_WIDTH = 80
_TAB = 4


def colour() -> bool:
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def width() -> int:
    """COLUMNS when set (as shutil and rich read it), else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return max(columns, 20)
    try:
        columns = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return _DEFAULT_WIDTH
    return max(columns, 20) if columns else _DEFAULT_WIDTH  # 0: a terminal that does not say its size


class Styler:
    """`style(text, "bold")` wraps a text in that style's escape and a reset, or returns it as it is."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, name: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_CODES[name]}m{text}{_RESET}"

    def opening(self, name: str) -> str:
        return f"\x1b[{_CODES[name]}m" if self.enabled else ""

    def closing(self) -> str:
        return _RESET if self.enabled else ""


def cells(text: str) -> int:
    """How many terminal columns a text (without tabs) takes."""
    if text.isascii():
        return len(text)
    import unicodedata  # only for text that needs it: a cold `kb show` of an ASCII work never loads it

    n = 0
    for ch in text:
        if ch in _MARKS or unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


# private-use characters mark **strong** spans while a paragraph is wrapped, so that a span may cross lines; they
# take no cell, since they become styles
_BOLD_ON, _BOLD_OFF = "\ue000", "\ue001"
_MARKS = _BOLD_ON + _BOLD_OFF


def wrap(text: str, cols: int, indent: str = "", hanging: str | None = None) -> list[str]:
    """A paragraph as lines of at most `cols` cells. A word longer than a line (a URL, a long id or path) is never
    cut: it goes whole on a line of its own and the terminal folds it, so that it stays one thing to click or copy."""
    hanging = indent if hanging is None else hanging
    lines: list[str] = []
    current, used, empty = indent, cells(indent), True
    for word in text.expandtabs(_TAB).split():
        size = cells(word)
        if not empty and used + 1 + size <= cols:
            current, used = f"{current} {word}", used + 1 + size
            continue
        if not empty:
            lines.append(current)
            current, used = hanging, cells(hanging)
        empty = False
        current, used = current + word, used + size
    if empty:
        return [indent.rstrip()]
    lines.append(current)
    return lines


def fit(plain: str, styled: str, cols: int, indent: str = "", hanging: str = "    ") -> list[str]:
    """One line in its styles where the plain text fits the terminal; else the plain text wrapped (a style cannot be
    cut at a line's end)."""
    if cells(indent + plain) <= cols:
        return [indent + styled]
    return wrap(plain, cols, indent, hanging)


def _cut(text: str, cols: int) -> list[str]:
    """A line of code or a table in pieces of at most `cols` cells (a wide character alone where nothing else fits)."""
    pieces, piece, used = [], "", 0
    for ch in text:
        size = cells(ch)
        if piece and used + size > cols:
            pieces.append(piece)
            piece, used = "", 0
        piece, used = piece + ch, used + size
    return pieces + [piece]


def highlight(
    lines: list[str], style: Styler, opening: str = "«", closing: str = "»", name: str = "match"
) -> list[str]:
    """The text between the markers in a style (the catalogue's «matched words»), the markers removed; a span
    wrapped across lines is closed at each line's end and opened again on the next."""
    out, inside = [], False
    for line in lines:
        text = line.lstrip(" ")
        parts = [line[: len(line) - len(text)]] + ([style.opening(name)] if inside else [])
        for ch in text:
            if ch == opening:
                inside = True
                parts.append(style.opening(name))
            elif ch == closing:
                inside = False
                parts.append(style.closing())
            else:
                parts.append(ch)
        if inside:
            parts.append(style.closing())
        out.append("".join(parts))
    return out


def paragraphs(text: str, cols: int, indent: str = "  ") -> list[str]:
    """Plain text (an abstract: no Markdown) as wrapped paragraphs, a blank line between them."""
    lines: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if lines:
            lines.append("")
        lines += wrap(block, cols, indent)
    return lines


_ITEM = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])(\s+|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s+|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_QUOTE = re.compile(r"^ {0,3}>\s?")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def markdown(body: str, cols: int, style: Styler, indent: str = "  ") -> list[str]:
    """A summary's Markdown laid out for reading: paragraphs, list items and quotes re-wrapped, headings and
    **strong** text bold (in colour; as written without), code and tables kept line for line. Every word of the
    author's text is shown; links and emphasis are left as written."""
    layout = _Layout(cols, style, indent)
    raws = body.strip("\n").splitlines()
    table = _table_rows(raws)
    for i, raw in enumerate(raws):
        layout.read(raw, in_table=i in table)
    layout.flush()
    lines = layout.lines
    while lines and not lines[-1]:
        lines.pop()
    return lines


class _Layout:
    """The lines laid out so far and the block being read (a paragraph, list item or quote), one Markdown line at
    a time."""

    def __init__(self, cols: int, style: Styler, indent: str):
        self.cols, self.style, self.indent = cols, style, indent
        self.lines: list[str] = []
        self.block: list[str] = []  # the lines of the paragraph, list item or quote being read
        self.first = self.hang = indent  # where the block's first line starts, and its later lines
        self.in_item = False  # after a list item: an indented paragraph belongs to it
        self.fence = ""  # the fence that opened the code being read ("" outside code)

    def flush(self) -> None:
        if self.block:
            text = " ".join(self.block).replace(_BOLD_ON, "").replace(_BOLD_OFF, "")
            if self.style.enabled:
                text = _STRONG.sub(lambda m: f"{_BOLD_ON}{m.group(2)}{_BOLD_OFF}", text)
            wrapped = wrap(text, self.cols, self.first, self.hang)
            self.lines.extend(highlight(wrapped, self.style, _BOLD_ON, _BOLD_OFF, "bold"))
        self.block, self.first, self.hang = [], self.indent, self.indent

    def verbatim(self, raw: str) -> None:
        for piece in _cut(self.indent + raw.rstrip().expandtabs(_TAB), self.cols):
            self.lines.append(self.style(piece, "dim"))

    def heading(self, text: str) -> None:
        self.lines.extend(self.style(line, "bold") for line in wrap(text, self.cols, self.indent))

    def read(self, raw: str, in_table: bool) -> None:
        if self.fence:
            self.verbatim(raw)
            if raw.strip().startswith(self.fence) and not raw.strip().strip(self.fence[0]):
                self.fence = ""
        elif opened := _FENCE.match(raw):
            self.flush()
            self.fence = opened.group(1)
            self.verbatim(raw.strip())
        elif not raw.strip():
            self.flush()
            if self.lines and self.lines[-1]:
                self.lines.append("")
        elif self.block and not self.in_item and _SETEXT.match(raw) and not _ITEM.match(raw):
            text, self.block = " ".join(self.block), []  # the paragraph above was a heading ('Title' over '=====')
            self.heading(text)
        elif _HEADING.match(raw):
            self.flush()
            self.in_item = False
            self.heading(_HEADING.sub("", raw))
        elif in_table or raw.lstrip().startswith("|"):
            self.flush()  # a table keeps its lines: re-flowed, its columns would mean nothing
            self.verbatim(raw)
        else:
            self.text(raw)

    def text(self, raw: str) -> None:
        """A line of prose: a quote, a list item, indented code, or more of the block."""
        if quote := _QUOTE.match(raw):
            if self.block and not self.first.endswith("> "):
                self.flush()
            self.first = self.hang = self.indent + "> "
            self.block.append(raw[quote.end() :].strip())
        elif item := _ITEM.match(raw):
            self.flush()
            self.in_item = True
            marker = item.group(1) + item.group(2) + " "
            if cells(self.indent + marker) <= self.cols // 2:
                self.first, self.hang = self.indent + marker, " " * cells(self.indent + marker)
                self.block = [raw[item.end() :].strip()]
            else:  # a marker too wide to hang the item's words under: one paragraph
                self.block = [raw.strip()]
        elif raw.startswith("    ") and not self.block and not self.in_item:
            self.verbatim(raw)  # indented code
        elif not self.block and self.in_item and raw.startswith("  "):
            self.first = self.hang = " " * (cells(self.indent) + 2)  # a later paragraph of a list item, under its words
            self.block = [raw.strip()]
        else:
            if not self.block:
                self.in_item = False
            self.block.append(raw.strip())


_DELIMITER_ROW = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$")


def _table_rows(raws: list[str]) -> set[int]:
    """The lines of tables (a header row, its '--|--' row, the rows up to a blank line), with or without outer '|'."""
    rows: set[int] = set()
    for i, raw in enumerate(raws):
        if i and _DELIMITER_ROW.match(raw) and "|" in raws[i - 1]:
            rows.update((i - 1, i))
            j = i + 1
            while j < len(raws) and raws[j].strip():
                rows.add(j)
                j += 1
    return rows
