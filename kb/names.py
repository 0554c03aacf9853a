"""Slugs and name normalisation: the keys that join records from different sources."""

import re
import unicodedata
from functools import lru_cache

_STOPWORDS = frozenset(
    "a an and are as at by do for from in into is it of on or the to via what when with without".split()
)


def ascii_fold(text: str) -> str:
    """Strip accents so that 'Räuker' and 'Rauker' compare equal."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slugify(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", ascii_fold(text).lower())
    return "-".join(words)


@lru_cache(maxsize=1 << 16)  # a catalogue meets the same few thousand names over and over
def normalise_name(name: str) -> str:
    """'Alex Turner (TurnTrout)' -> 'alex turner'; 'J. Zico Kolter' -> 'j zico kolter'."""
    name = re.sub(r"\(.*?\)", " ", name)
    return " ".join(re.findall(r"[a-z0-9]+", ascii_fold(name).lower()))


@lru_cache(maxsize=1 << 16)
def author_id(name: str) -> str:
    return normalise_name(name).replace(" ", "-")


def work_id(title: str, year: int | None, words: int = 4) -> str:
    """A readable id from a title: the first few content words and the year.

    'Representation Engineering: A Top-Down Approach...' (2023) -> 'representation-engineering-top-down-2023'.
    """
    content = [w for w in slugify(title).split("-") if w and w not in _STOPWORDS]
    stem = "-".join(content[:words]) or "untitled"
    return f"{stem}-{year}" if year else stem


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


CASELESS_IDS = frozenset({"doi", "arxiv", "openalex"})  # a guid, a forum or Scholar id: case is part of it


def identity(scheme: str, value: str) -> tuple[str, str]:
    """The key an identifier is known by: case does not count where the scheme's registry ignores it."""
    return (scheme, value.lower() if scheme in CASELESS_IDS else value)
