"""Every identifier form, written once: arXiv (new and old style, with or without a version), DOI, LessWrong and
Alignment Forum post ids, OpenAlex work ids.

Here, in importers/, because importers never import kb while kb may import importers: one module serves the
parsers (reading ids out of answers and links), the merge (identity), data/'s schema (what may be stored) and the
query reader (what a user pastes). Pure and light: `kb show` imports it at start-up.

The stored forms: an arXiv id without prefix or version, lower case (`2310.01405`, `hep-th/9901001`); a DOI without
`https://doi.org/`, lower case; a forum post id as the site writes it (case matters); an OpenAlex id `w123`.
"""

from __future__ import annotations

import re

# New style: YYMM.NNNN (0704 to 1412) or YYMM.NNNNN (since 1501), read as loosely as arXiv's own API reads them (it
# answers 0808.05394 with "not found", not with an error). Old style: archive[.SUBJECT-CLASS]/YYMMNNN, as in
# hep-th/9901001, math.GT/0309136, cond-mat/0011267.
ARXIV_NEW = r"\d{4}\.\d{4,5}"
ARXIV_OLD = r"[a-z]+(?:-[a-z]+)*(?:\.[a-z]{2})?/\d{7}"
_ARXIV_BARE = rf"(?:{ARXIV_NEW}|{ARXIV_OLD})"
VERSION = r"v\d+"
ARXIV_ID = re.compile(_ARXIV_BARE, re.I)  # fullmatch: an id as data/ stores it, no prefix, no version
ARXIV_ID_VERSIONED = re.compile(rf"({_ARXIV_BARE})(?:{VERSION})?", re.I)  # fullmatch: an id as arXiv may give it
_VERSION_AT_END = re.compile(rf"{VERSION}$", re.I)
ARXIV_DOI_PREFIX = "10.48550/arxiv."  # arXiv's own DOIs: 10.48550/arXiv.<id>

# A DOI as a registry writes it; loose on purpose (registrants are 4+ digits today, but an odd DOI from a source must
# not stop an import). The strict form is what a user pastes or a link holds.
DOI = re.compile(r"10\.[\d.]+/\S+")
_DOI_STRICT = r"10\.\d{4,9}/"
FORUM_POST_ID = r"[A-Za-z0-9]{17}"
FORUM_SITES = {"lesswrong.com": "lesswrong", "alignmentforum.org": "alignmentforum", "greaterwrong.com": "lesswrong"}
OPENALEX_WORK = r"W\d+"

# what a user pastes: the whole text is one identifier
_PASTED_ARXIV = re.compile(rf"(?:arxiv:\s*)?({_ARXIV_BARE})(?:{VERSION})?", re.I)
_PASTED_ARXIV_URL = re.compile(
    rf"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/({_ARXIV_BARE})(?:{VERSION})?(?:\.pdf)?/?", re.I
)
_PASTED_DOI = re.compile(rf"(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/)?({_DOI_STRICT}\S+)", re.I)
_PASTED_FORUM = re.compile(
    rf"(?:https?://)?(?:www\.)?(lesswrong\.com|alignmentforum\.org|greaterwrong\.com)/posts/({FORUM_POST_ID})\b.*", re.I
)
_PASTED_OPENALEX = re.compile(
    rf"(?:openalex:\s*|(?:https?://)?(?:api\.)?openalex\.org/(?:works/)?)?({OPENALEX_WORK})", re.I
)

# what a text links to: identifiers found anywhere in it (hrefs, plain text)
_LINKED = (  # (scheme, pattern whose group 1 is the identifier)
    ("arxiv", re.compile(rf"arxiv\.org/(?:abs|pdf|html)/({_ARXIV_BARE})(?:{VERSION})?", re.I)),
    ("doi", re.compile(rf"doi\.org/({_DOI_STRICT}[^\s\"'<>]+[^\s\"'<>.,;)])", re.I)),
    # a post's address, or its address inside a sequence (/s/SEQUENCE/p/POST), which libraries often keep
    ("lesswrong", re.compile(rf"lesswrong\.com/(?:posts|s/[A-Za-z0-9]+/p)/({FORUM_POST_ID})", re.I)),
    ("alignmentforum", re.compile(rf"alignmentforum\.org/(?:posts|s/[A-Za-z0-9]+/p)/({FORUM_POST_ID})", re.I)),
)


# A ForumMagnum site's address of a post, alone or inside a sequence (/s/SEQUENCE/p/POST), on the site or a mirror
# (GreaterWrong): the forum the post's id belongs to. The Alignment Forum's posts are LessWrong's under one id.
_FORUM_POST_URL = re.compile(
    rf"(?:https?://)?(?:www\.)?(lesswrong\.com|alignmentforum\.org|greaterwrong\.com|forum\.effectivealtruism\.org"
    rf"|ea\.greaterwrong\.com)/(?:posts|s/[A-Za-z0-9]+/p)/({FORUM_POST_ID})(?:[/?#]|$)",
    re.I,
)
EA_FORUM = "forum.effectivealtruism.org"
FORUM_OF_SITE = {EA_FORUM: EA_FORUM, "ea.greaterwrong.com": EA_FORUM}


def forum_post_from_url(url: str) -> tuple[str, str] | None:
    """(forum, post id) of a forum post's address under any of its forms, the forum named by its main site
    ("lesswrong.com" for LessWrong, the Alignment Forum and GreaterWrong; "forum.effectivealtruism.org"); None when the
    address is not a forum post's."""
    m = _FORUM_POST_URL.match(url.strip())
    return (FORUM_OF_SITE.get(m[1].lower(), "lesswrong.com"), m[2]) if m else None


def strip_version(arxiv: str) -> str:
    """`2310.01405v2` -> `2310.01405`; `quant-ph/0201082v1` -> `quant-ph/0201082`; anything else as it is."""
    return _VERSION_AT_END.sub("", arxiv) if ARXIV_ID_VERSIONED.fullmatch(arxiv) else arxiv


def is_arxiv_id(value: str, versioned: bool = False) -> bool:
    """Whether `value` is an arXiv id as stored (no version), or with `versioned` as arXiv may give it."""
    return bool((ARXIV_ID_VERSIONED if versioned else ARXIV_ID).fullmatch(value))


def arxiv_from_doi(doi: str) -> str | None:
    """The arXiv id an arXiv DOI (10.48550/arXiv.2310.01405) names, in its stored form; None for any other DOI."""
    if doi.lower().startswith(ARXIV_DOI_PREFIX):
        rest = doi[len(ARXIV_DOI_PREFIX) :]
        if ARXIV_ID_VERSIONED.fullmatch(rest):
            return strip_version(rest).lower()
    return None


def arxiv_from_url(url: str) -> str | None:
    """The arXiv id of an arXiv abs/pdf/html URL (scheme optional), in its stored form; None otherwise."""
    m = _PASTED_ARXIV_URL.fullmatch(url.strip())
    return m[1].lower() if m else None


def pasted(text: str) -> list[tuple[str, str]]:
    """(scheme, value) pairs an identifier as pasted may stand for, values in their stored forms: 'arXiv:2310.01405',
    'https://arxiv.org/abs/2310.01405v2' (or without the scheme), '2310.01405v2', 'doi:10.1/x',
    'https://doi.org/10.1/x', a LessWrong or Alignment Forum post URL, 'W123' or an OpenAlex URL. An empty list when
    the text is no identifier form."""
    s = text.strip()
    if m := _PASTED_ARXIV.fullmatch(s) or _PASTED_ARXIV_URL.fullmatch(s):
        return [("arxiv", m[1].lower())]
    if m := _PASTED_DOI.fullmatch(s):
        doi = m[1].rstrip(".").lower()
        if arxiv := arxiv_from_doi(doi):
            return [("arxiv", arxiv), ("doi", doi)]
        return [("doi", doi)]
    if m := _PASTED_FORUM.fullmatch(s):
        return [(FORUM_SITES[m[1].lower()], m[2]), ("lesswrong", m[2])]
    if m := _PASTED_OPENALEX.fullmatch(s):
        return [("openalex", m[1].lower())]
    return []


def linked(text: str | None) -> list[tuple[str, str]]:
    """(scheme, identifier) of each work a text links to (arXiv, DOI, forum posts), in order, no repeats; arXiv ids
    without their version."""
    found: list[tuple[str, str]] = []
    for scheme, pattern in _LINKED:
        for m in pattern.finditer(text or ""):
            key = (scheme, strip_version(m[1]) if scheme == "arxiv" else m[1])
            if key not in found:
                found.append(key)
    return found
