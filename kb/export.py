"""Citations of works: BibTeX, CSL-JSON and RIS, for reference managers (Zotero, BibDesk, Better BibTeX).

Works come in as the catalogue's work dicts (`kb.catalogue.export(conn)["works"]`); nothing here reads data/.
"""

from __future__ import annotations

import json
import re
import unicodedata

FORMATS = ("bibtex", "csl-json", "ris")
EXTENSIONS = {"bibtex": "bib", "csl-json": "json", "ris": "ris"}

_CONFERENCE = re.compile(
    r"\b(NeurIPS|NIPS|ICML|ICLR|ICCV|CVPR|ECCV|ACL|EMNLP|NAACL|EACL|COLING|AAAI|IJCAI|AISTATS|COLT|UAI|FAccT|"
    r"CoLM|Conference|Proceedings|Workshop|Symposium|Findings)\b",
    re.I,
)
_WEB = re.compile(r"\b(LessWrong|Alignment Forum|Thread|blog)\b", re.I)
_PREPRINT = re.compile(r"^\s*(arXiv|bioRxiv|medRxiv|SSRN)\b", re.I)


def kind_of(w: dict) -> str:
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


def split_name(name: str) -> tuple[str, str]:
    """'Andy Zou' -> ('Zou', 'Andy'); 'Ludwig van Beethoven' -> ('van Beethoven', 'Ludwig'); 'Zou, Andy' as written."""
    if "," in name:
        family, given = (p.strip() for p in name.split(",", 1))
        return family, given
    parts = name.split()
    if len(parts) == 1:
        return parts[0], ""
    start = len(parts) - 1
    while start > 1 and parts[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(parts[start:]), " ".join(parts[:start])


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# function words Better BibTeX's shorttitle skips
_SKIP = set(
    "a an the of on in at to for from by with and or but nor as is are was were be via vs versus into onto"
    " about over under without within do does not".split()
)


def cite_key(w: dict) -> str:
    """Better BibTeX's default key, [auth:lower][shorttitle3_3][year]: the first author's family name,
    the first three words of the title that are not function words, capitalised, and the year."""
    family = split_name(w["authors"][0]["name"])[0] if w["authors"] else ""
    auth = re.sub(r"[^a-z]", "", _ascii(family.split()[-1] if family else "").lower())
    # words split at spaces, their punctuation dropped ('Top-Down' is one word, TopDown)
    words = [re.sub(r"[^A-Za-z0-9]", "", x) for x in _ascii(w["title"]).split()]
    words = [x for x in words if x and x.lower() not in _SKIP][:3]
    short = "".join(x[:1].upper() + x[1:] for x in words)
    return f"{auth}{short}{w['year'] or ''}" or w["id"]


def cite_keys(works: list[dict]) -> dict[str, str]:
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


def latex_escape(text: str) -> str:
    """LaTeX's special characters escaped; other characters (é, ü, –) kept as UTF-8, which biblatex reads."""
    return _LATEX_RE.sub(lambda m: _LATEX[m[0]], " ".join(text.split()))


def _protect_title(text: str) -> str:
    # styles lower-case titles: words with a capital after the first letter (LLMs, RepE, GPT-2) keep theirs
    return re.sub(r"\b(\w+[A-Z]\w*|[A-Z]{2,}\w*)\b", r"{\1}", latex_escape(text))


_BIBTEX_TYPE = {
    "preprint": "misc",
    "conference": "inproceedings",
    "journal": "article",
    "report": "techreport",
    "web": "online",
}


def bibtex_entry(w: dict, key: str) -> str:
    kind = kind_of(w)
    authors = [a["name"] for a in w["authors"]]
    names = [", ".join(x for x in split_name(n) if x) for n in authors] + (["others"] if w["more_authors"] else [])
    fields: list[tuple[str, str]] = [
        ("title", _protect_title(w["title"])),
        ("author", " and ".join(latex_escape(n) for n in names)),
    ]
    if w["year"]:
        fields.append(("year", str(w["year"])))
    if w.get("date"):
        fields.append(("date", w["date"]))
    venue = w.get("venue")
    if venue and kind == "conference":
        fields.append(("booktitle", latex_escape(venue)))
    elif venue and kind == "journal":
        fields.append(("journal", latex_escape(venue)))
    elif venue and kind == "report":
        fields.append(("institution", latex_escape(venue)))
    elif venue and kind == "web":
        fields.append(("organization", latex_escape(venue)))
    arxiv = w["ids"].get("arxiv")
    if arxiv:  # as arXiv asks: https://info.arxiv.org/help/faq/references.html
        fields += [("eprint", arxiv), ("archivePrefix", "arXiv")]
        if w.get("categories"):
            fields.append(("primaryClass", w["categories"][0]))
    if w["ids"].get("doi"):
        fields.append(("doi", w["ids"]["doi"]))
    if w.get("url"):
        fields.append(("url", w["url"]))
    if w.get("abstract"):
        fields.append(("abstract", latex_escape(w["abstract"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{_BIBTEX_TYPE[kind]}{{{key},\n{body}\n}}\n"


def bibtex(works: list[dict], keys: dict[str, str] | None = None) -> str:
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


def _date_parts(w: dict) -> dict | None:
    if w.get("date"):
        return {"date-parts": [[int(x) for x in w["date"].split("-")]]}
    return {"date-parts": [[w["year"]]]} if w["year"] else None


def csl_item(w: dict, key: str) -> dict:
    kind = kind_of(w)
    item: dict = {"id": key, "type": _CSL_TYPE[kind], "title": w["title"]}
    item["author"] = [
        {"family": f, "given": g} if g else {"literal": f} for f, g in (split_name(a["name"]) for a in w["authors"])
    ]
    if issued := _date_parts(w):
        item["issued"] = issued
    venue = w.get("venue")
    if venue and kind in ("conference", "journal", "web"):
        item["container-title"] = venue
    if venue and kind == "report":
        item["publisher"] = venue
    if arxiv := w["ids"].get("arxiv"):
        item["number"] = f"arXiv:{arxiv}"
        if kind == "preprint":
            item["publisher"] = "arXiv"
    if doi := w["ids"].get("doi"):
        item["DOI"] = doi
    if w.get("url"):
        item["URL"] = w["url"]
    if w.get("abstract"):
        item["abstract"] = w["abstract"]
    return item


def csl_json(works: list[dict], keys: dict[str, str] | None = None) -> str:
    keys = keys or cite_keys(works)
    return json.dumps([csl_item(w, keys[w["id"]]) for w in works], ensure_ascii=False, indent=2) + "\n"


# -- RIS ----------------------------------------------------------------------------------

_RIS_TYPE = {"preprint": "UNPB", "conference": "CONF", "journal": "JOUR", "report": "RPRT", "web": "BLOG"}


def ris_record(w: dict, key: str) -> str:
    kind = kind_of(w)
    lines = [("TY", _RIS_TYPE[kind]), ("ID", key), ("TI", w["title"])]
    lines += [("AU", ", ".join(x for x in split_name(a["name"]) if x)) for a in w["authors"]]
    if w["year"]:
        lines.append(("PY", str(w["year"])))
    if w.get("date"):
        lines.append(("DA", w["date"].replace("-", "/")))
    if w.get("venue"):
        lines.append(("T2" if kind == "conference" else "JO" if kind == "journal" else "PB", w["venue"]))
    if doi := w["ids"].get("doi"):
        lines.append(("DO", doi))
    if arxiv := w["ids"].get("arxiv"):
        lines.append(("M1", f"arXiv:{arxiv}"))
    if w.get("url"):
        lines.append(("UR", w["url"]))
    if w.get("abstract"):
        lines.append(("AB", " ".join(w["abstract"].split())))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {' '.join(value.split())}\n" for tag, value in lines)


def ris(works: list[dict], keys: dict[str, str] | None = None) -> str:
    keys = keys or cite_keys(works)
    return "\n".join(ris_record(w, keys[w["id"]]) for w in works)


# -- many files over one catalogue -------------------------------------------------------------


# Every field of a work that its BibTeX, CSL-JSON and RIS entries are made from (a test holds the formatters to it):
# what a site compares to know whether a citation file must be written again.
CITED_FIELDS = ("id", "title", "authors", "more_authors", "year", "date", "venue", "kind", "ids", "categories")
CITED_FIELDS += ("url", "abstract")


class Entries:
    """Each work's entry in each format, formatted once. The site writes one file per technique and format, and a
    work filed under a technique and its ancestors would otherwise be formatted once for each of them."""

    def __init__(self, works: dict[str, dict], keys: dict[str, str]):
        self.works, self.keys = works, keys
        self._made: dict[tuple[str, str], str] = {}

    def entry(self, fmt: str, work_id: str) -> str:
        made = self._made.get((fmt, work_id))
        if made is None:
            w, key = self.works[work_id], self.keys[work_id]
            if fmt == "bibtex":
                made = bibtex_entry(w, key)
            elif fmt == "ris":
                made = ris_record(w, key)
            else:  # one CSL item as it sits in a list written with indent=2: csl_json's bytes exactly
                made = "  " + json.dumps(csl_item(w, key), ensure_ascii=False, indent=2).replace("\n", "\n  ")
            self._made[(fmt, work_id)] = made
        return made

    def text(self, fmt: str, work_ids: list[str]) -> str:
        """The same text as bibtex / csl_json / ris of these works with these keys."""
        entries = [self.entry(fmt, i) for i in work_ids]
        if fmt == "csl-json":
            return "[\n" + ",\n".join(entries) + "\n]\n" if entries else "[]\n"
        return "\n".join(entries)


# -- Highwire Press tags: what Zotero's connector and Google Scholar read from a work's page -------------


def highwire(w: dict, base_url: str | None = None) -> list[tuple[str, str]]:
    """(name, content) pairs for <meta name=... content=...>: citation_title, one citation_author per
    author, citation_publication_date, the venue, identifiers and the PDF where known."""
    kind = kind_of(w)
    tags = [("citation_title", w["title"])]
    tags += [("citation_author", ", ".join(x for x in split_name(a["name"]) if x)) for a in w["authors"]]
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
    if base_url:
        tags.append(("citation_abstract_html_url", f"{base_url}works/{w['id']}.html"))
    return tags


def render(works: list[dict], fmt: str) -> str:
    """The works in one of FORMATS."""
    return {"bibtex": bibtex, "csl-json": csl_json, "ris": ris}[fmt](works)
