"""Citations of works: BibTeX, CSL-JSON and RIS, for reference managers (Zotero, BibDesk, Better BibTeX).

Works come in as the catalogue's work dicts (`kb.catalogue.export(conn)["works"]`); nothing here reads data/.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

# a work record: the catalogue's (kb.catalogue.workrecord) or any dict with its keys
Work = Mapping[str, Any]

FORMATS = ("bibtex", "csl-json", "ris")
EXTENSIONS = {"bibtex": "bib", "csl-json": "json", "ris": "ris"}

_CONFERENCE = re.compile(
    r"\b(NeurIPS|NIPS|ICML|ICLR|ICCV|CVPR|ECCV|ACL|EMNLP|NAACL|EACL|AACL|IJCNLP|COLING|AAAI|IJCAI|AISTATS|COLT|UAI|"
    r"FAccT|CLeaR|PMLR|"
    r"CoLM|Conference|Proceedings|Workshop|Symposium|Findings)\b",
    re.I,
)
_WEB = re.compile(r"\b(LessWrong|Alignment Forum|Thread|blog)\b", re.I)
_PREPRINT = re.compile(r"^\s*(arXiv|bioRxiv|medRxiv|SSRN)\b", re.I)


def kind_of(w: Work) -> str:
    """One of preprint, conference, journal, report, web: what decides the entry type in every format."""
    venue = w.get("venue") or ""
    if w["kind"] in ("post", "comment"):
        return "web"
    if w["kind"] == "report":
        return "report"
    if not venue or _PREPRINT.match(venue):
        return "preprint"
    if _CONFERENCE.search(venue):
        return "conference"
    if _WEB.search(venue):
        return "web"
    return "journal"


# -- names and keys -----------------------------------------------------------------------

_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "le", "la", "ter", "ten"}

# Generational suffixes, BibTeX's "Jr" part. Only these: a lone "V" is too often an initial ('Karthik V') to read as
# "the fifth", and a suffix is taken only as the last word after at least two others ('Robert L. Logan IV'), or after
# a comma ('King, Jr.'), so that nobody called 'Ivan Iv' loses a name.
_SUFFIX = re.compile(r"(Jr|Sr|JR|SR)\.?|II|III|IV")

# An author that is an organisation (OpenAlex gives 'Department of Health and Human Services') is kept whole: split
# as a person it becomes 'Services, Department of Health and Human', and BibTeX cuts an author list at every 'and'.
# The rule is meant to be conservative, as a person taken for an organisation only loses the sorting by family name
# while the opposite garbles the name, yet long names are people as often as not: so no count of words decides
# ('Pedro Henrique Martins Oliveira Santos' is one person). What decides is a sign no person's name carries:
#   - the word 'and' or '&' (no person is called 'and', and BibTeX would split there);
#   - a lower-case English function word ('Center for AI Safety', 'Ministry of Defence'); the particles of people's
#     names (van, de, da, ...) are not among them;
#   - a word that names a kind of organisation (below), in any case and with or without its full stop ('Inc.').
_CORPORATE_JOINERS = {"and", "&"}
_CORPORATE_FUNCTION_WORDS = {"of", "for", "the", "on", "at"}
_CORPORATE_WORDS = set(
    "department institute institution university universität université universidad college school academy"
    " academies association society committee commission council consortium team group inc ltd llc gmbh corp"
    " corporation company foundation laboratory laboratories lab labs project collaboration agency ministry"
    " organisation organization initiative alliance federation".split()
)


class Name(NamedTuple):
    """An author's name in the parts citation formats want. `literal` is an organisation's (or a one-word) name,
    written as it is: then `family` is the whole name and `given` and `suffix` are empty."""

    family: str
    given: str = ""
    suffix: str = ""
    literal: bool = False


_WORD_BREAK = re.compile(r"[\s,]+")  # 'Smith,and Jones' would still give BibTeX its 'and'


def is_corporate(name: str) -> bool:
    words = _WORD_BREAK.split(name)
    if not _CORPORATE_FUNCTION_WORDS.isdisjoint(words):
        return True
    lower = {w.lower() for w in words}
    if not _CORPORATE_JOINERS.isdisjoint(lower):
        return True
    return not _CORPORATE_WORDS.isdisjoint(w.strip(".,;:()") for w in lower)


# A site build asks for every work's first author, and authors recur across works: each name is parsed once.
@functools.lru_cache(maxsize=1 << 16)
def parse_name(name: str) -> Name:
    """'Andy Zou' -> Zou, Andy; 'Ludwig van Beethoven' -> van Beethoven, Ludwig; 'Martin Luther King Jr.' -> King,
    Martin Luther, Jr.; 'Zou, Andy', 'King, Martin Luther, Jr.' and 'King, Jr., Martin Luther' as written;
    'Department of Health and Human Services' and 'OpenAI' literal."""
    name = " ".join(name.split())
    if is_corporate(name):
        return Name(name, literal=True)
    if "," in name:
        parts = [p.strip() for p in name.split(",")]
        if len(parts) == 3 and _SUFFIX.fullmatch(parts[1]):  # BibTeX's own order: King, Jr., Martin Luther
            return Name(parts[0], parts[2], parts[1])
        if _SUFFIX.fullmatch(parts[-1]):
            if len(parts) == 2:  # 'Martin Luther King, Jr.'
                inner = parse_name(parts[0])
                return Name(inner.family, inner.given, parts[-1])
            return Name(parts[0], ", ".join(parts[1:-1]), parts[-1])
        return Name(parts[0], ", ".join(parts[1:]))
    parts = name.split()
    suffix = ""
    if len(parts) >= 3 and _SUFFIX.fullmatch(parts[-1]):
        suffix = parts.pop()
    if len(parts) == 1:
        return Name(parts[0], literal=True)
    start = len(parts) - 1
    while start > 1 and parts[start - 1].lower() in _PARTICLES:
        start -= 1
    return Name(" ".join(parts[start:]), " ".join(parts[:start]), suffix)


def inverted_name(name: str) -> str:
    """'Family, Given, Suffix', the order RIS and Highwire tags ask for; an organisation's name as it is."""
    n = parse_name(name)
    return n.family if n.literal else ", ".join(x for x in (n.family, n.given, n.suffix) if x)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# function words Better BibTeX's shorttitle skips
_SKIP = set(
    "a an the of on in at to for from by with and or but nor as is are was were be via vs versus into onto"
    " about over under without within do does not".split()
)


def _key_author(name: str) -> str:
    n = parse_name(name)
    if n.literal and len(n.family.split()) > 1:
        # an organisation's last word says little ('Services', 'Team'): its initials, as JabRef keys institutions
        words = [x for x in _ascii(n.family).split() if x.lower() not in _SKIP]
        return "".join(x[:1] for x in words)
    # the family name without its particles ('van Beethoven' -> beethoven) and never a suffix ('King Jr.' -> king)
    return n.family.split()[-1] if n.family else ""


_NOT_LOWER, _NOT_ALNUM = re.compile(r"[^a-z]"), re.compile(r"[^A-Za-z0-9]")


def cite_key(w: Work) -> str:
    """Better BibTeX's default key, [auth:lower][shorttitle3_3][year]: the first author's family name,
    the first three words of the title that are not function words, capitalised, and the year."""
    family = _key_author(w["authors"][0]["name"]) if w["authors"] else ""
    auth = _NOT_LOWER.sub("", _ascii(family).lower())
    # words split at spaces, their punctuation dropped ('Top-Down' is one word, TopDown)
    words = [_NOT_ALNUM.sub("", x) for x in _ascii(w["title"]).split()]
    words = [x for x in words if x and x.lower() not in _SKIP][:3]
    short = "".join(x[:1].upper() + x[1:] for x in words)
    return f"{auth}{short}{w['year'] or ''}" or w["id"]


def cite_keys(works: Sequence[Work]) -> dict[str, str]:
    """Work id -> key, unique: the second and later works with one key get a, b, ... (in id order, so a
    work keeps its key as long as the works beside it do)."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for w in sorted(works, key=lambda w: w["id"]):
        key = cite_key(w)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out[w["id"]] = key if n == 0 else key + _suffix(n - 1)
    return out


def _suffix(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("a") + r) + letters
    return letters


# -- BibTeX -------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX))
# BibTeX counts braces in a value without regard to backslashes, so '\{' alone leaves the entry open (and '\}' alone
# closes the field early, after which the rest of the title is read as more fields). A brace with its partner is
# written \{ ... \}; one without is written as a command that prints it and holds no lone brace.
_LONE_BRACE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def _lone_braces(text: str) -> set[int]:
    """The offsets of the braces in text that have no partner, as parentheses pair up."""
    lone: set[int] = set()
    opened: list[int] = []
    for i, c in enumerate(text):
        if c == "{":
            opened.append(i)
        elif c == "}":
            if opened:
                opened.pop()
            else:
                lone.add(i)
    return lone | set(opened)


def latex_escape(text: str) -> str:
    """LaTeX's special characters escaped; other characters (é, ü, –) kept as UTF-8, which biblatex reads. The
    result's braces balance, whatever the text's did."""
    text = " ".join(text.split())
    # most texts (a whole abstract, in every work's .bib) have no brace: skip the walk over their characters
    lone = _lone_braces(text) if "{" in text or "}" in text else set()
    return _LATEX_RE.sub(lambda m: _LONE_BRACE[m[0]] if m.start() in lone else _LATEX[m[0]], text)


# A word with a capital after its first letter (LLMs, RepE, GPT-2) in escaped text: not the name of an escape's
# command (\textbraceleft) and not the tail of a word joined by an escaped underscore ('x\_ABC' keeps its '\_').
_CASED_WORD = re.compile(r"(?<!\\)(?<![^\W_])([^\W_]+[A-Z][^\W_]*|[A-Z]{2,}[^\W_]*)(?![^\W_])")


def _protect_title(text: str) -> str:
    # styles lower-case titles: words with a capital after the first letter keep theirs
    return _CASED_WORD.sub(r"{\1}", latex_escape(text))


# Fields biblatex reads verbatim (no LaTeX in them): '\%' there would be a backslash in the link. URLs need their
# '%', '#', '&', '_' and '~' as they are; only what cannot be in a URL and would break the entry is percent-encoded:
# braces (BibTeX counts them), backslashes and white space. A DOI may hold any printable character, and the form
# https://doi.org/ resolves is the percent-encoded one, so a DOI takes the same treatment.
_VERBATIM = {"doi", "url", "eprint"}
_URL_UNSAFE = re.compile(r"[{}\\\s]")


def verbatim_escape(text: str) -> str:
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), text.strip())


def _bibtex_name(name: str) -> str:
    n = parse_name(name)
    if n.literal:
        # braced, BibTeX takes the name as one last name: no 'and' splits it and no word of it is read as a first name
        one_word = " " not in n.family and n.family.lower() != "and"
        return latex_escape(n.family) if one_word else "{" + latex_escape(n.family) + "}"
    # a comma inside a part would be read as the start of the next part
    family, given, suffix = (f"{{{latex_escape(x)}}}" if "," in x else latex_escape(x) for x in n[:3])
    if suffix:  # BibTeX's 'von Last, Jr, First'
        return f"{family}, {suffix}, {given}"
    return f"{family}, {given}" if given else family


# Entry types as Zotero's BibTeX importer reads them (zotero/translators, BibTeX.js, bibtex2zoteroTypeMap): article ->
# journal article, inproceedings -> conference paper, techreport -> report, online -> web page. It has no type for a
# preprint: @misc (a "document", as Zotero exports its own preprints) with the repository as publisher, and
# howpublished for the BibTeX styles (plain, plainnat) that print neither eprint nor publisher for @misc.
_BIBTEX_TYPE = {
    "preprint": "misc",
    "conference": "inproceedings",
    "journal": "article",
    "report": "techreport",
    "web": "online",
}


def _bibtex_value(field: str, value: str) -> str:
    """Every field's text made safe in one place, so that no field (a DOI, a category) can go out unescaped."""
    if field == "author":  # made of names escaped one by one
        return value
    if field == "title":
        return _protect_title(value)
    if field in _VERBATIM:
        return verbatim_escape(value)
    return latex_escape(value)


def bibtex_entry(w: Work, key: str) -> str:
    kind = kind_of(w)
    names = [_bibtex_name(a["name"]) for a in w["authors"]] + (["others"] if w["more_authors"] else [])
    fields: list[tuple[str, str]] = [("title", w["title"]), ("author", " and ".join(names))]
    if w["year"]:
        fields.append(("year", str(w["year"])))
    if w.get("date"):
        fields.append(("date", w["date"]))
    venue = w.get("venue")
    if venue and kind == "conference":
        fields.append(("booktitle", venue))
    elif venue and kind == "journal":
        fields.append(("journal", venue))
    elif venue and kind == "report":
        fields.append(("institution", venue))
    elif venue and kind == "web":
        fields.append(("organization", venue))  # Zotero: the publisher of the web page
    arxiv = w["ids"].get("arxiv")
    if arxiv and kind == "preprint":
        fields += [("publisher", "arXiv"), ("howpublished", f"arXiv preprint arXiv:{arxiv}")]
    if arxiv:
        # eprinttype is what BibLaTeX and Zotero read (Zotero keeps "arXiv: ID" in Extra from eprinttype + eprint
        # only); archivePrefix and primaryClass are arXiv's own form (https://info.arxiv.org/help/faq/references.html)
        fields += [("eprint", arxiv), ("eprinttype", "arxiv"), ("archivePrefix", "arXiv")]
        if w.get("categories"):
            fields.append(("primaryClass", w["categories"][0]))
    if w["ids"].get("doi"):
        fields.append(("doi", w["ids"]["doi"]))
    if w.get("url"):
        fields.append(("url", w["url"]))
    if w.get("abstract"):
        fields.append(("abstract", w["abstract"]))
    body = ",\n".join(f"  {name} = {{{_bibtex_value(name, value)}}}" for name, value in fields)
    return f"@{_BIBTEX_TYPE[kind]}{{{key},\n{body}\n}}\n"


def bibtex(works: Sequence[Work], keys: dict[str, str] | None = None) -> str:
    keys = keys or cite_keys(works)
    return "\n".join(bibtex_entry(w, keys[w["id"]]) for w in works)


# -- CSL-JSON -----------------------------------------------------------------------------

_CSL_TYPE = {
    "preprint": "article",  # CSL's type for preprints and working papers
    "conference": "paper-conference",
    "journal": "article-journal",
    "report": "report",
    "web": "post-weblog",
}


def _date_parts(w: Work) -> dict | None:
    if w.get("date"):
        return {"date-parts": [[int(x) for x in w["date"].split("-")]]}
    return {"date-parts": [[w["year"]]]} if w["year"] else None


def _csl_name(name: str) -> dict:
    n = parse_name(name)
    if n.literal or not (n.given or n.suffix):
        return {"literal": n.family}
    return {"family": n.family, "given": n.given} | ({"suffix": n.suffix} if n.suffix else {})


def csl_item(w: Work, key: str) -> dict:
    kind = kind_of(w)
    item: dict = {"id": key, "type": _CSL_TYPE[kind], "title": w["title"]}
    item["author"] = [_csl_name(a["name"]) for a in w["authors"]]
    if issued := _date_parts(w):
        item["issued"] = issued
    venue = w.get("venue")
    if venue and kind in ("conference", "journal", "web"):
        item["container-title"] = venue
    if venue and kind == "report":
        item["publisher"] = venue
    if arxiv := w["ids"].get("arxiv"):
        if kind in ("preprint", "report"):  # Zotero: a preprint's archive ID, a report's number (CSL number)
            item["number"] = f"arXiv:{arxiv}"
        else:  # a paper type without a number field: Zotero keeps CSL's note as Extra, as its own "arXiv: ID" line
            item["note"] = f"arXiv: {arxiv}"
        if kind == "preprint":
            item["publisher"] = "arXiv"  # Zotero: the preprint's repository
    if doi := w["ids"].get("doi"):
        item["DOI"] = doi
    if w.get("url"):
        item["URL"] = w["url"]
    if w.get("abstract"):
        item["abstract"] = w["abstract"]
    return item


def csl_json(works: Sequence[Work], keys: dict[str, str] | None = None) -> str:
    keys = keys or cite_keys(works)
    return json.dumps([csl_item(w, keys[w["id"]]) for w in works], ensure_ascii=False, indent=2) + "\n"


# -- RIS ----------------------------------------------------------------------------------

# RIS types and tags as Zotero's RIS importer maps them (zotero/translators, RIS.js: importTypeMap, fieldMap). It has no
# type for a preprint (TY UNPB is unknown to it and becomes a journal article): RPRT, a report whose institution (PB)
# is the repository, whose number (SN) is the arXiv id and whose type (M3) says preprint; EndNote reads RPRT too.
# A journal's name goes in T2 (JO is read as the journal's abbreviation), a conference's in T2 (conference name), a
# blog's in T2 (blog title). M1 is read as the issue of a journal article, so the arXiv id goes in DB/AN (archive,
# loc. in archive), which Zotero keeps for papers, reports and preprints alike.
_RIS_TYPE = {"preprint": "RPRT", "conference": "CONF", "journal": "JOUR", "report": "RPRT", "web": "BLOG"}


def ris_record(w: Work, key: str) -> str:
    kind = kind_of(w)
    lines = [("TY", _RIS_TYPE[kind]), ("ID", key), ("TI", w["title"])]
    lines += [("AU", inverted_name(a["name"])) for a in w["authors"]]
    if w["year"]:
        lines.append(("PY", str(w["year"])))
    if w.get("date"):
        lines.append(("DA", w["date"].replace("-", "/")))
    venue = w.get("venue")
    arxiv = w["ids"].get("arxiv")
    if kind == "preprint":
        server = venue or ("arXiv" if arxiv else None)
        lines += [("M3", "Preprint")] + ([("PB", server)] if server else [])
        if arxiv:
            lines.append(("SN", f"arXiv:{arxiv}"))
    elif venue:
        lines.append(("PB" if kind == "report" else "T2", venue))
    if doi := w["ids"].get("doi"):
        lines.append(("DO", doi))
    if arxiv:
        lines += [("DB", "arXiv"), ("AN", f"arXiv:{arxiv}")]
    if w.get("url"):
        lines.append(("UR", w["url"]))
    if w.get("abstract"):
        lines.append(("AB", " ".join(w["abstract"].split())))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {' '.join(value.split())}\n" for tag, value in lines)


def ris(works: Sequence[Work], keys: dict[str, str] | None = None) -> str:
    keys = keys or cite_keys(works)
    return "\n".join(ris_record(w, keys[w["id"]]) for w in works)


# -- many files over one catalogue -------------------------------------------------------------


# Every field of a work that its BibTeX, CSL-JSON and RIS entries are made from (a test holds the formatters to it):
# what a site compares to know whether a citation file must be written again.
CITED_FIELDS: tuple[str, ...] = ("id", "title", "authors", "more_authors", "year", "date", "venue", "kind", "ids")
CITED_FIELDS += ("categories", "url", "abstract")


def entry(fmt: str, w: Work, key: str) -> str:
    """One work's entry in a format (EXTENSIONS' keys), as the text of a list of works holds it."""
    if fmt == "bibtex":
        return bibtex_entry(w, key)
    if fmt == "ris":
        return ris_record(w, key)
    # one CSL item as it sits in a list written with indent=2: csl_json's bytes exactly
    return "  " + json.dumps(csl_item(w, key), ensure_ascii=False, indent=2).replace("\n", "\n  ")


def joined(fmt: str, entries: list[str]) -> str:
    """Entries (`entry`'s) as one text: the same text as bibtex / csl_json / ris of their works. The site formats
    each work's entry once and joins them into every citation file that lists it (kb.website.context._Entries)."""
    if fmt == "csl-json":
        return "[\n" + ",\n".join(entries) + "\n]\n" if entries else "[]\n"
    return "\n".join(entries)


# -- Highwire Press tags: what Zotero's connector and Google Scholar read from a work's page -------------


def highwire(w: Work, base_url: str | None = None) -> list[tuple[str, str]]:
    """(name, content) pairs for <meta name=... content=...>: citation_title, one citation_author per
    author, citation_publication_date, the venue, identifiers and the PDF where known."""
    kind = kind_of(w)
    tags = [("citation_title", w["title"])]
    tags += [("citation_author", inverted_name(a["name"])) for a in w["authors"]]
    date = w.get("date") or (str(w["year"]) if w["year"] else None)
    if date:
        tags.append(("citation_publication_date", date.replace("-", "/")))
    venue = w.get("venue")
    if venue and kind == "conference":
        tags.append(("citation_conference_title", venue))
    elif venue and kind == "journal":
        tags.append(("citation_journal_title", venue))
    elif venue and kind == "report":
        tags.append(("citation_technical_report_institution", venue))
    if arxiv := w["ids"].get("arxiv"):
        tags.append(("citation_arxiv_id", arxiv))
        tags.append(("citation_pdf_url", f"https://arxiv.org/pdf/{arxiv}"))
    if doi := w["ids"].get("doi"):
        tags.append(("citation_doi", doi))
    if w.get("abstract"):
        tags.append(("citation_abstract", " ".join(w["abstract"].split())))
    if base_url and not is_local(base_url):  # a preview's address would be saved into libraries as the work's page
        tags.append(("citation_abstract_html_url", f"{base_url}works/{w['id']}.html"))
    return tags


def is_local(url: str) -> bool:
    """Whether an address is this machine's (a preview), never a page anyone else can open."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1", "0.0.0.0") or host.endswith(".localhost") or host.startswith("127.")


def render(works: Sequence[Work], fmt: str) -> str:
    """The works in one of FORMATS, without a control or bidi character in any field (kb.text.safe): an export is
    printed to terminals and read by other programs, and a catalogue may hold what an older kb stored."""
    from kb.text import safe

    return {"bibtex": bibtex, "csl-json": csl_json, "ris": ris}[fmt](safe(works))
