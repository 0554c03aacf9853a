"""Query syntax: what a user types (search text, a pasted identifier) turned into what the catalogue runs.

Nothing here touches the catalogue: `parse` makes FTS5 expressions, `identifier_candidates` reads the
forms people paste for a work (arXiv, DOI, LessWrong, OpenAlex ids and URLs).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from importers import identifiers

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
# Who may give a tag (kb.store.records' Tag.by): a person's tag is curated, what filters use; an automatic tagger's is a
# suggestion, shown apart and marked, filtered on only when asked. "authors" is the old form of a stated motivation.
CURATED = ("authors", "summariser", "curator")
SUGGESTED = ("rule", "model")
# How a motivation stands in the work: the authors' own words state it (with catastrophic stakes), gesture at it
# without them, or a reader infers it; a work's own status is the strongest of its curated motivations' statuses,
# or "none-stated" (kb.store.records.motivation_status).
MOTIVATION_STATUSES = ("stated", "partly-stated", "inferred")
WORK_STATUSES = (*MOTIVATION_STATUSES, "none-stated")
STATUS_WORDS = {  # a work's status in words: kb show, its page, the search filter's values
    "stated": "stated by the authors",
    "partly-stated": "partly stated by the authors",
    "inferred": "inferred by readers; the authors state none",
    "none-stated": "none stated by the authors",
}

# The relations between works a query can ask for (the records' types, as WORK_KINDS).
RELATIONS = ("discusses", "replies-to", "critiques", "extends", "replicates", "cites")


# Named tuples, not dataclasses: importing dataclasses imports inspect, about a fifth of a cold `kb show`. A
# typing.NamedTuple spells the fields out for a type checker, for the price of importing typing (about 2.5 ms of a
# cold `kb show` or `kb search`, by python -X importtime, December 2026).
class Query(NamedTuple):
    """What to find: search text (None: every work), filters (slugs, an author's name, years, a kind, part of a
    venue, a relation type: works holding such a relation, whose own text or whose relation's target matches the
    text), at most `limit` works (None: every match; default 20), in `sort` order (None: best match first, newest
    first without text); `stated`: only works whose authors state a motivation (the one asked for, if one is);
    `include_suggested`: the tag filters take automatic taggers' suggestions too (curated tags only by default)."""

    text: str | None = None
    technique: str | None = None
    motivation: str | None = None
    author: str | None = None
    since: int | None = None
    until: int | None = None
    kind: str | None = None
    venue: str | None = None
    limit: int | None = 20
    sort: str | None = None
    relation: str | None = None
    stated: bool | None = None
    include_suggested: bool | None = None


class Parsed(NamedTuple):
    """FTS5 expressions: works must match `include` (when set) and must not match `exclude` (when set); `relation`:
    a relation type written as `relation:TYPE`, a filter."""

    include: str | None
    exclude: str | None
    relation: str | None = None


# Words that carry no subject in a question ("which papers compare linear probes and LAT?"): dropped from an
# unquoted query, unless every word is one of them. Upper-case AND, OR and NOT stay operators.
STOP_WORDS = frozenset(
    """a an the and or of in on for to with by from at as into about than then is are was were be been being
    do does did can could should would will may might must has have had how what which who whom whose why when
    where that this these those there here it its any some all each other such we i me my you your they them
    their our us find show list give tell look looking papers paper works work articles article posts post
    studies study research researchers literature anything something someone whether if so also""".split()
)

# Questions that ask for works related to a subject: the phrase, and the relation types it asks for, in order.
# A failed replication is written down as a critique, so asking for replications asks for both.
_ASKS_RELATION = (
    (r"(?:critiques?|criticisms?|critics|critiqu\w*|criticis\w*|criticiz\w*|rebuttals?|objections?)", ("critiques",)),
    (r"(?:(?:failed|fails?|failure|attempts?) to )?(?:replicat\w*|reproduc\w*)", ("replicates", "critiques")),
    (r"(?:extensions?|extend\w*|builds? (?:up)?on|built (?:up)?on|building (?:up)?on|follow[- ]?ups?)", ("extends",)),
    (r"(?:responses?|replies|reply|replying|answers?)(?= to\b)", ("replies-to",)),
)
_ASKS = [(re.compile(rf"(?<![\w:\"]){phrase}(?![\w:\"])", re.I), types) for phrase, types in _ASKS_RELATION]


def asks_relation(text: str) -> tuple[str, tuple[str, ...]] | None:
    """A question for works related to a subject ("critiques of CCS", "CCS failed to replicate", "work that builds
    on sleeper agents"): (the subject's words, the relation types asked for), or None. Only plain words: a query
    with quotes, fields or upper-case operators is read as written."""
    if '"' in text or ":" in text or any(w in _OPERATORS for w in text.split()):
        return None
    for pattern, types in _ASKS:
        m = pattern.search(text)
        if m:
            rest = (text[: m.start()] + " " + text[m.end() :]).strip()
            if re.search(r"\w", " ".join(w for w in re.findall(r"\w+", rest) if w.lower() not in STOP_WORDS)):
                return rest, types
    return None


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
    relation = None
    negate = False
    tokens = _TOKEN.findall(text)
    # stop words go only when some other word is left: a query of nothing but them is searched as typed
    plain = [w for f, _, p, w in tokens if w and not f and w not in _OPERATORS and ":" not in w]
    meaningful = [w for w in plain if _words(w) and not _is_stop(w)]
    for field, field_phrase, phrase, word in tokens:
        if word and not negate and meaningful and word in plain and _is_stop(word):
            continue
        if word in _OPERATORS:
            if word == "NOT":
                negate = True
            elif include and include[-1] not in _OPERATORS and not negate:
                include.append(word)
            continue
        column = None
        if field or (word and re.match(r"^[A-Za-z]\w*:\S", word) and not re.match(r"^https?:", word, re.I)):
            name, _, rest = (field, None, field_phrase) if field else word.partition(":")
            if name.lower() == "relation":
                relation = _relation(rest)
                continue
            if name.lower() not in FIELDS:
                known = ", ".join(sorted([*FIELDS, "relation"]))
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
    if not include and not exclude and not relation and text.strip():  # "?" or "..." would list every work
        raise QuerySyntaxError(f"nothing to search for in {text.strip()!r}: a query needs a word of letters or digits")
    return Parsed(_join(include, any_word), " OR ".join(exclude) or None, relation)


def _words(raw: str) -> list[str]:
    return re.findall(r"\w+", raw)


def _is_stop(raw: str) -> bool:
    words = _words(raw)
    return bool(words) and all(w.lower() in STOP_WORDS for w in words)


def _relation(value: str) -> str:
    value = value.strip().lower()
    if value not in RELATIONS:
        raise QuerySyntaxError(f"unknown relation {value!r}; relations are {', '.join(RELATIONS)}")
    return value


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


def identifier_candidates(text: str) -> list[tuple[str, str]]:
    """(scheme, value) pairs an identifier as pasted may stand for, values as the catalogue keeps them (DOIs,
    arXiv and OpenAlex ids lower-cased, forum ids as they are): 'arXiv:2310.01405',
    'https://arxiv.org/abs/2310.01405v2', '2310.01405v2', 'doi:10.1/x', 'https://doi.org/10.1/x', a LessWrong
    or Alignment Forum post URL, 'W123' or an OpenAlex URL.
    An empty list when the text is no identifier form."""
    return identifiers.pasted(text)
