"""What a user asks for, turned into an FTS5 expression and filters the catalogue can run."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_OPERATORS = {"OR", "AND", "NOT"}


@dataclass(frozen=True)
class Query:
    text: str | None = None
    technique: str | None = None
    motivation: str | None = None
    author: str | None = None
    since: int | None = None
    until: int | None = None
    kind: str | None = None
    venue: str | None = None
    limit: int = 20
    sort: str = "year"  # without search text: "year" (newest first) or "citations" (most cited first)


_BRITISH = re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations|er|ers)\b")
_AMERICAN = re.compile(r"(?<=\w{3})iz(e|ed|es|ing|ation|ations|er|ers)\b")


def _spelling(term: str) -> set[str]:
    """British and American spellings of one word: 'generalisation' finds 'generalization' too."""
    return {_BRITISH.sub(r"iz\1", term), _AMERICAN.sub(r"is\1", term)}


def fts_expression(text: str, any_word: bool = False) -> str | None:
    """A search-box string -> a safe FTS5 expression.

    Words are quoted, so punctuation such as '-' or ':' cannot be read as FTS5 syntax; "quoted phrases",
    a trailing '*' for a prefix and the operators OR / AND / NOT (upper case) keep their meaning.
    By default all words must match; any_word joins them with OR, the fallback when that finds nothing.
    """
    parts: list[str] = []
    for phrase, word in _TOKEN.findall(text):
        if word in _OPERATORS:
            if parts and parts[-1] not in _OPERATORS:
                parts.append(word)
            continue
        raw = phrase if phrase else word
        prefix = not phrase and raw.endswith("*")
        terms = re.findall(r"\w+", raw)
        if not terms:
            continue
        quoted = '"' + " ".join(terms) + '"' + ("*" if prefix else "")
        variants = {quoted, *(_spelling(quoted) if not phrase else ())}
        parts.append(quoted if len(variants) == 1 else "(" + " OR ".join(sorted(variants)) + ")")
    while parts and parts[-1] in _OPERATORS:
        parts.pop()
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
