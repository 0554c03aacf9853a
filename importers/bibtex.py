"""A BibTeX or BibLaTeX file (Zotero, Better BibTeX, JabRef, Google Scholar, DBLP, arXiv): one work per entry.

The file is cut into entries at each line that opens one (`@type{` at the start of a line), so an entry with a
syntax error (a brace missing, a field without `=`) fails alone and names its line, and the next entry is read as
usual. `@string` macros are expanded, `@comment` and `@preamble` skipped. Fields are decoded from LaTeX (accents,
escapes, dashes, text commands) to Unicode; URLs, DOIs and eprints are taken as written.

Where the arXiv id is: `eprint` with `archivePrefix = {arXiv}` (arXiv's and Better BibTeX's form) or
`eprinttype = {arxiv}` (BibLaTeX's, which Zotero reads), `journal = {arXiv preprint arXiv:...}` (Google Scholar),
`journal = {CoRR}` with `volume = {abs/...}` (DBLP), a DOI 10.48550/arXiv..., or an arxiv.org URL in `url` or
`howpublished`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from importers.library import Entry, arxiv_id, read_file, records

# What kind of work each entry type is; a type not here is no work of the catalogue (software, a dataset, a patent).
_KINDS = {
    **dict.fromkeys(
        "article inproceedings conference incollection inbook book booklet proceedings collection phdthesis"
        " mastersthesis thesis misc unpublished manual preprint".split(),
        "paper",
    ),
    **dict.fromkeys("techreport technicalreport report".split(), "report"),
    **dict.fromkeys("online electronic www webpage".split(), "web"),
}
_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z][\w-]*)[ \t]*([{(])", re.M)
_FIELD_NAME = re.compile(r"[A-Za-z][\w\-:.+]*")
_MONTHS = {m: m for m in "jan feb mar apr may jun jul aug sep oct nov dec".split()}
_MONTH_NUMBER = {m: n for n, m in enumerate(_MONTHS, 1)}


def label(spec: dict) -> str:
    return f"bibtex {spec['path']}"


def fetch(http, spec: dict) -> Iterator:
    """spec: path. The file is read here; http is not used."""
    where = label(spec)
    text, notices = read_file(spec["path"], where)
    yield from notices
    yield from records(entries(text), f"bibtex:{Path(spec['path']).name}", where, spec["path"])


class _Bad(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def entries(text: str) -> Iterator[Entry]:
    """Every entry of a BibTeX text, in order; an entry that cannot be read is an Entry of kind 'skip: why'."""
    macros = dict(_MONTHS)
    starts = list(_ENTRY_START.finditer(text))
    for n, m in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(text)
        line = text.count("\n", 0, m.start()) + 1
        kind = m[1].lower()
        if kind in ("comment", "preamble"):
            continue
        body = text[m.end() : end]
        close = "}" if m[2] == "{" else ")"
        try:
            key, fields = _Reader(body, close, macros).entry(has_key=kind != "string")
        except _Bad as e:
            where = line + body.count("\n", 0, e.offset)
            at = f" (line {where})" if where != line else ""
            yield Entry(line, _key_before(body), f"skip: {e}{at}", None)
            continue
        if kind == "string":
            macros.update(fields)
            continue
        yield _entry(line, key, kind, fields)


def _key_before(body: str) -> str | None:
    key = body.split(",", 1)[0].strip()
    return key if key and "=" not in key and len(key) < 100 and "\n" not in key else None


class _Reader:
    """Reads one entry's key and fields from the text after its opening brace."""

    def __init__(self, text: str, close: str, macros: dict):
        self.text, self.close, self.macros, self.i = text, close, macros, 0

    def _space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def _peek(self) -> str:
        self._space()
        return self.text[self.i] if self.i < len(self.text) else ""

    def entry(self, has_key: bool) -> tuple[str | None, dict[str, str]]:
        key = None
        if has_key:
            comma = self.text.find(",")
            head = self.text[: comma if comma >= 0 else len(self.text)]
            if "=" not in head:  # an entry may leave its key out
                key = head.strip().rstrip(self.close).strip() or None
                self.i = comma + 1 if comma >= 0 else len(self.text)
        fields: dict[str, str] = {}
        while True:
            c = self._peek()
            if c == self.close:
                return key, fields
            if c == ",":
                self.i += 1
                continue
            if not c:  # the text up to the next entry is used up: said at the entry's own line
                raise _Bad(f"it is not closed (a '{self.close}' is missing)", 0)
            name = _FIELD_NAME.match(self.text, self.i)
            if not name:
                raise _Bad(f"a field name was expected, not {self.text[self.i : self.i + 20]!r}", self.i)
            self.i = name.end()
            if self._peek() != "=":
                raise _Bad(f"field {name[0]!r} has no '='", self.i)
            self.i += 1
            fields[name[0].lower()] = self._value(name[0])
            if not self._peek():
                raise _Bad(f"it is not closed (a '{self.close}' is missing)", 0)
            if self._peek() not in (",", self.close):
                raise _Bad(f"field {name[0]!r}: ',' or '{self.close}' expected after its value", self.i)

    def _value(self, name: str) -> str:
        parts = []
        while True:
            c = self._peek()
            if c == "{":
                parts.append(self._braced())
            elif c == '"':
                parts.append(self._quoted())
            else:
                word = re.compile(r"[\w\-:.+/]+").match(self.text, self.i)
                if not word:
                    raise _Bad(f"field {name!r} has no value", self.i)
                self.i = word.end()
                parts.append(self.macros.get(word[0].lower(), word[0]))
            if self._peek() != "#":
                return "".join(parts)
            self.i += 1

    def _braced(self) -> str:
        depth, start = 0, self.i
        for j in range(self.i, len(self.text)):
            if self.text[j] == "{":
                depth += 1
            elif self.text[j] == "}":
                depth -= 1
                if depth == 0:
                    self.i = j + 1
                    return self.text[start + 1 : j]
        raise _Bad("a '{' is never closed", start)

    def _quoted(self) -> str:
        depth, start = 0, self.i
        for j in range(self.i + 1, len(self.text)):
            c = self.text[j]
            depth += (c == "{") - (c == "}")
            if c == '"' and depth == 0:
                self.i = j + 1
                return self.text[start + 1 : j]
        raise _Bad("a '\"' is never closed", start)


def _entry(line: int, key: str | None, kind: str, fields: dict[str, str]) -> Entry:
    f = {k: v for k, v in fields.items() if v.strip()}
    text = {k: latex_to_text(v) for k, v in f.items() if k not in ("url", "doi", "eprint", "howpublished", "author")}
    authors, more = names(f.get("author", ""))
    archive = (f.get("archiveprefix") or f.get("eprinttype") or "").strip().lower()
    how = f.get("howpublished", "")
    how_url = _url_in(how)
    venue = text.get("journal") or text.get("journaltitle") or text.get("booktitle")
    venue = venue or text.get("institution") or text.get("organization") or text.get("school")
    if not venue and how and not how_url:
        venue = latex_to_text(how)
    eprint = _plain(f.get("eprint"))
    if eprint and not (archive == "arxiv" or (not archive and arxiv_id(eprint))):
        eprint = None  # another archive's (JSTOR, PubMed) or not an id at all
    hints = [text.get(k, "") for k in ("journal", "journaltitle", "number", "note", "volume", "howpublished")]
    if text.get("journal", "").strip().lower() == "corr" and f.get("volume", "").startswith("abs/"):
        hints.append("arXiv:" + f["volume"].removeprefix("abs/"))  # DBLP's form of an arXiv preprint
    return Entry(
        line=line,
        key=key,
        kind=_KINDS.get(kind, f"omit: @{kind} is no kind of work the catalogue holds"),
        title=text.get("title"),
        authors=authors,
        more_authors=more,
        year=text.get("year"),
        date=_date(text.get("date")) or _date_of_parts(text.get("year"), text.get("month"), text.get("day")),
        venue=venue,
        doi=_plain(f.get("doi")),
        arxiv=eprint,
        urls=[u for u in (_plain(f.get("url")), how_url) if u],
        hints=[h for h in hints if h],
    )


def _plain(value: str | None) -> str | None:
    """A verbatim field (URL, DOI, eprint): braces and \\url{} gone, LaTeX escapes of URL characters undone."""
    if value is None:
        return None
    value = re.sub(r"\\url\s*\{([^{}]*)\}", r"\1", value)
    value = re.sub(r"\\([_%&#~$])", r"\1", value)
    return "".join(value.replace("{", "").replace("}", "").split()) or None


def _url_in(text: str) -> str | None:
    m = re.search(r"https?://[^\s{}]+", re.sub(r"\\url\s*\{([^{}]*)\}", r"\1", text))
    return _plain(m[0].rstrip(".,;")) if m else None


def _date(text: str | None) -> str | None:
    return text.strip()[:10] if text and re.match(r"^\s*[0-9]{4}(-[0-9]{2}){0,2}", text) else None


def _date_of_parts(year: str | None, month: str | None, day: str | None) -> str | None:
    if not year or not month or not day or not re.fullmatch(r"\s*[0-9]{4}\s*", year):
        return None
    m = month.strip().lower()[:3]
    number = _MONTH_NUMBER.get(m) or (int(month) if month.strip().isdigit() else None)
    if not number or not day.strip().isdigit():
        return None
    return f"{year.strip()}-{number:02d}-{int(day):02d}"


# -- names ------------------------------------------------------------------------------------


def _split_unbraced(text: str, sep: re.Pattern) -> list[str]:
    """text cut at each match of sep that is outside braces."""
    parts, depth, start = [], 0, 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            m = sep.match(text, i)
            if m and m.end() > i:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return parts


def _one_group(text: str) -> bool:
    """Whether text is one braced group, '{OpenAI}' (not '{A}nna {B}ell')."""
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "{") - (c == "}")
        if depth == 0:
            return i == len(text) - 1 and text.startswith("{")
    return False


_AND = re.compile(r"\s+and\s+", re.I)
_COMMA = re.compile(r"\s*,\s*")


def names(field: str) -> tuple[list[str], bool]:
    """(the names as 'Given Family', whether the list ends with 'others')."""
    out, more = [], False
    for raw in _split_unbraced(" ".join(field.split()), _AND):
        raw = raw.strip()
        if not raw:
            continue
        if raw.lower() == "others":
            more = True
            continue
        if _one_group(raw):
            out.append(latex_to_text(raw))  # {OpenAI}: one name, kept whole
            continue
        parts = [latex_to_text(p) for p in _split_unbraced(raw, _COMMA)]
        if len(parts) == 1:
            name = parts[0]
        elif len(parts) == 2:  # von Last, First
            name = f"{parts[1]} {parts[0]}"
        else:  # von Last, Jr, First
            name = f"{', '.join(parts[2:])} {parts[0]} {parts[1]}"
        if name.strip():
            out.append(" ".join(name.split()))
    return out, more


# -- LaTeX to text ----------------------------------------------------------------------------

_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_LETTERS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "textendash": "–",
    "textemdash": "—",
    "textquoteright": "’",
    "textquoteleft": "‘",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "ldots": "…",
    "dots": "…",
    "textasciitilde": "~",
    "textbackslash": "\\",
    "textbraceleft": "{",
    "textbraceright": "}",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "&": "&",
    "%": "%",
    "$": "$",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    " ": " ",
}
# \"o, \"{o}, {\"o}, \'{\i}, \v{c}, \c c: a symbol accent takes the next letter; a letter accent needs a brace or space
_ACCENT = re.compile(r"""\\(?:([\"'`^~=.])\s*|([uvHckrdb])(?:\s+|(?=\{)))\{?\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}?""")
_NAMED = re.compile(r"\\([A-Za-z]+|[&%$#_{} ])(?:\{\})?")
# commands whose argument is the text itself; \href's first argument (the address) goes
_KEEP_ARGUMENT = re.compile(
    r"\\(?:emph|textit|textbf|textsc|texttt|textrm|textsf|textnormal|textup|mathrm|mathit|mathbf|mbox|text|url"
    r"|uppercase|lowercase|MakeUppercase|MakeLowercase|NoCaseChange|bibstring)\s*(?=\{)"
)


def latex_to_text(text: str) -> str:
    """LaTeX as people type it in .bib files, made plain Unicode text (braces gone, white space single)."""
    text = text.replace("\\\\", " ")  # a forced line break
    text = re.sub(r"\\href\s*\{[^{}]*\}", "", text)
    text = _KEEP_ARGUMENT.sub("", text)
    text = _ACCENT.sub(_accented, text)
    text = _NAMED.sub(lambda m: _LETTERS.get(m[1], m[1]), text)
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = re.sub(r"(?<!\\)~", " ", text)
    text = re.sub(r"(?<!\\)\$", "", text)  # math delimiters: the formula's text stays
    text = text.replace("{", "").replace("}", "")
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _accented(m: re.Match) -> str:
    letter = m[3]
    if letter.startswith("\\"):
        letter = letter[1]  # a dotless i or j under an accent is the plain letter with it
    return unicodedata.normalize("NFC", letter + _ACCENTS[m[1] or m[2]])
