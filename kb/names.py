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
    """'Alex Turner (TurnTrout)' -> 'alex turner'; 'J. Zico Kolter' -> 'j zico kolter'; 'Иван Петров' -> 'иван
    петров' (words of every script count: a name in Cyrillic or Han is not empty)."""
    return " ".join(_unicode_words(name))


# Latin letters that NFKD does not split into a base letter and marks, as they are written in ASCII
_LATIN = str.maketrans({"ß": "ss", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "đ": "d", "þ": "th", "ð": "d", "ı": "i"})
_HASHED = 10  # hex digits of a word's hash: distinct words of a catalogue never share one in practice
# An accent written the TeX way in a BibTeX-fed listing ('Sch\\"utt', "Erd{\\H o}s"): the letter is the letter.
_TEX_ACCENT = re.compile(r"\\[`'\"^~=.Hcuvdbk]\s*([A-Za-z])")


def _unicode_words(name: str) -> list[str]:
    """The words of a name in any script: accents dropped, case folded ('Räuker' -> 'rauker', 'Иван' -> 'иван')."""
    if "\\" in name:
        name = _TEX_ACCENT.sub(r"\1", name.replace("{", "").replace("}", ""))
    name = re.sub(r"\(.*?\)", " ", unicodedata.normalize("NFKD", name))
    bare = "".join(c for c in name if not unicodedata.combining(c)).casefold().translate(_LATIN)
    return re.findall(r"[^\W_]+", bare)


@lru_cache(maxsize=1 << 16)
def author_id(name: str) -> str:
    """A name's key and its page's name: 'J. Zico Kolter' -> 'j-zico-kolter'. A word in another script than Latin
    ('张伟', 'Иван') is a stable hash of it (x + hex), so that distinct names keep distinct ids and a part of a name
    still matches as a whole word (`kb list --author Петров`); a name of no word at all is a hash of itself."""
    import hashlib

    def hashed(text: str) -> str:
        return "x" + hashlib.sha256(text.encode()).hexdigest()[:_HASHED]

    words = _unicode_words(name)
    if not words and name.strip():
        return hashed(" ".join(name.split()))
    return "-".join(w if w.isascii() else hashed(w) for w in words)


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
