"""Query syntax: what a user types (search text, a pasted identifier) turned into what the catalogue runs.

Nothing here touches the catalogue: `parse` makes FTS5 expressions, `identifier_candidates` reads the
forms people paste for a work (arXiv, DOI, LessWrong, OpenAlex ids and URLs).
"""

from __future__ import annotations

import re
from collections import namedtuple

_TOKEN = re.compile(r'(\w+):"([^"]*)"|"([^"]*)"|(\S+)')
_OPERATORS = {"OR", "AND", "NOT"}

# field a user types -> the work_fts column (named as in `work`, whose rows the index reads)
FIELDS = {
    "title": "title",
    "abstract": "abstract",
    "author": "author_names",
    "authors": "author_names",
    "summary": "summary_text",
    "technique": "technique_names",
    "motivation": "motivation_names",
}


class QuerySyntaxError(ValueError):
    """The search text cannot be read; the message says what is wrong and where."""


# The years a filter takes, and the most works a query can ask for (SQLite's largest integer: a larger one cannot be
# bound to the query, and was a traceback).
YEARS = (0, 9999)
MOST = 2**63 - 1

# The kinds of work a query can ask for (the records' kinds; here so that the CLI's readers need no pydantic).
WORK_KINDS = ("paper", "post", "comment", "report")
# Who may give a tag (kb.records' Tag.by): a person's tag is curated, what filters use; an automatic tagger's is a
# suggestion, shown apart and marked, filtered on only when asked. "authors" is the old form of a stated motivation.
CURATED = ("authors", "summariser", "curator")
SUGGESTED = ("rule", "model")
# How a motivation stands in the work: the authors' own words state it (with catastrophic stakes), gesture at it
# without them, or a reader infers it; a work's own status is the strongest of its curated motivations' statuses,
# or "none-stated" (kb.records.motivation_status).
MOTIVATION_STATUSES = ("stated", "partly-stated", "inferred")
WORK_STATUSES = (*MOTIVATION_STATUSES, "none-stated")
STATUS_WORDS = {  # a work's status in words: kb show, its page, the search filter's values
    "stated": "stated by the authors",
    "partly-stated": "partly stated by the authors",
    "inferred": "inferred by readers; the authors state none",
    "none-stated": "none stated by the authors",
}

# Named tuples, not dataclasses: importing dataclasses imports inspect, about a fifth of a cold `kb show`.
_QUERY_FIELDS = (
    "text",
    "technique",
    "motivation",
    "author",
    "since",
    "until",
    "kind",
    "venue",
    "limit",
    "sort",
    "stated",
    "include_suggested",
)


class Query(namedtuple("Query", _QUERY_FIELDS, defaults=(None,) * 8 + (20, None, None, None))):
    """What to find: search text (None: every work), filters (slugs, an author's name, years, a kind, part of a
    venue), at most `limit` works (None: every match; default 20), in `sort` order (None: best match first, newest
    first without text); `stated`: only works whose authors state a motivation (the one asked for, if one is);
    `include_suggested`: the tag filters take automatic taggers' suggestions too (curated tags only by default)."""

    __slots__ = ()


class Parsed(namedtuple("Parsed", ("include", "exclude"))):
    """FTS5 expressions: works must match `include` (when set) and must not match `exclude` (when set)."""

    __slots__ = ()


_BRITISH = re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations|er|ers)\b")
_AMERICAN = re.compile(r"(?<=\w{3})iz(e|ed|es|ing|ation|ations|er|ers)\b")


def _spelling(term: str) -> set[str]:
    """British and American spellings of one word: 'generalisation' finds 'generalization' too."""
    return {_BRITISH.sub(r"iz\1", term), _AMERICAN.sub(r"is\1", term)}


def _term(raw: str, phrase: bool, column: str | None) -> str | None:
    prefix = not phrase and raw.endswith("*")
    # \w+ keeps only what the index holds: '-' or ':' inside a word cannot be read as FTS5 syntax
    terms = re.findall(r"\w+", raw)
    if not terms:
        return None
    quoted = '"' + " ".join(terms) + '"' + ("*" if prefix else "")
    variants = {quoted, *(_spelling(quoted) if not phrase else ())}
    expr = quoted if len(variants) == 1 else "(" + " OR ".join(sorted(variants)) + ")"
    return f"{column} : {expr}" if column else expr


def _check_quotes(text: str) -> None:
    if text.count('"') % 2:
        at = text.rfind('"')
        raise QuerySyntaxError(f'unbalanced quote: the " at character {at + 1} is never closed')


def parse(text: str, any_word: bool = False) -> Parsed:
    """A search-box string -> FTS5 expressions, or QuerySyntaxError saying what is wrong.

    Words are quoted; "quoted phrases", a trailing '*' for a prefix, field:word and field:"a phrase"
    (fields: see FIELDS) and the operators OR, AND and NOT (upper case) keep their meaning. All words
    must match unless joined by OR; NOT word excludes works that match it, also at the start
    ('NOT probe' is every work without 'probe'). any_word joins the included words with OR, the
    fallback when every word together finds nothing.
    """
    _check_quotes(text)
    include: list[str] = []
    exclude: list[str] = []
    negate = False
    for field, field_phrase, phrase, word in _TOKEN.findall(text):
        if word in _OPERATORS:
            if word == "NOT":
                negate = True
            elif include and include[-1] not in _OPERATORS and not negate:
                include.append(word)
            continue
        column = None
        if field or (word and re.match(r"^[A-Za-z]\w*:\S", word) and not re.match(r"^https?:", word, re.I)):
            name, _, rest = (field, None, field_phrase) if field else word.partition(":")
            if name.lower() not in FIELDS:
                known = ", ".join(sorted(FIELDS))
                raise QuerySyntaxError(f"unknown field {name + ':'!r}; search fields are {known}")
            column = FIELDS[name.lower()]
            term = _term(rest, bool(field), column)
        else:
            term = _term(phrase or word, bool(phrase), None)
        if term is None:
            continue
        if negate:
            exclude.append(term)
            negate = False
            if include and include[-1] in _OPERATORS:
                include.pop()
        else:
            include.append(term)
    while include and include[-1] in _OPERATORS:
        include.pop()
    if not include and not exclude and text.strip():  # "?" or "..." would otherwise list every work
        raise QuerySyntaxError(f"nothing to search for in {text.strip()!r}: a query needs a word of letters or digits")
    return Parsed(_join(include, any_word), " OR ".join(exclude) or None)


def _join(parts: list[str], any_word: bool) -> str | None:
    if not parts:
        return None
    if any_word:
        return " OR ".join(p for p in parts if p not in _OPERATORS)
    # FTS5 does not AND a phrase and a (group) implicitly: write every AND out
    joined = parts[:1]
    for prev, part in zip(parts, parts[1:]):
        if prev not in _OPERATORS and part not in _OPERATORS:
            joined.append("AND")
        joined.append(part)
    return " ".join(joined)


def fts_expression(text: str, any_word: bool = False) -> str | None:
    """The FTS5 expression of the words a work must match (see `parse`); None when there are none."""
    return parse(text, any_word).include


# -- identifiers people paste ---------------------------------------------------------------

_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z.-]*/\d{7}"
ARXIV_ID = re.compile(rf"{_ARXIV_NEW}|{_ARXIV_OLD}", re.I)  # as data/ stores it: no prefix, no version
_ARXIV = re.compile(rf"^(?:arxiv:\s*)?({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?$", re.I)
_ARXIV_URL = re.compile(
    rf"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?(?:\.pdf)?/?$", re.I
)
_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.I)
_ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.({_ARXIV_NEW}|{_ARXIV_OLD})$", re.I)
_FORUM = re.compile(
    r"^https?://(?:www\.)?(lesswrong\.com|alignmentforum\.org|greaterwrong\.com)/posts/(\w{17})\b", re.I
)
_OPENALEX = re.compile(r"^(?:openalex:\s*|https?://(?:api\.)?openalex\.org/(?:works/)?)?(W\d+)$", re.I)


def identifier_candidates(text: str) -> list[tuple[str, str]]:
    """(scheme, value) pairs an identifier as pasted may stand for, values as the catalogue keeps them (DOIs,
    arXiv and OpenAlex ids lower-cased, forum ids as they are): 'arXiv:2310.01405',
    'https://arxiv.org/abs/2310.01405v2', '2310.01405v2', 'doi:10.1/x', 'https://doi.org/10.1/x', a LessWrong
    or Alignment Forum post URL, 'W123' or an OpenAlex URL.
    An empty list when the text is no identifier form."""
    s = text.strip()
    if m := _ARXIV.match(s) or _ARXIV_URL.match(s):
        return [("arxiv", m[1].lower())]
    if m := _DOI.match(s):
        doi = m[1].rstrip(".").lower()
        if a := _ARXIV_DOI.match(doi):
            return [("arxiv", a[1].lower()), ("doi", doi)]
        return [("doi", doi)]
    if m := _FORUM.match(s):
        scheme = "alignmentforum" if m[1].lower() == "alignmentforum.org" else "lesswrong"
        return [(scheme, m[2]), ("lesswrong", m[2])]
    if m := _OPENALEX.match(s):
        return [("openalex", m[1].lower())]
    return []
