"""Imported records -> data/: one work per real work, every identifier kept, each merge explained.

The identity rules, in the order they are tried (README's "Importing" section says the same); `kb show ID
--provenance` names the rule that merged each record ("same identifier", "same address", "same page on one
organisation's sites", "same title, ...", "same title cut short or extended", "same title but for function words",
"same title cut short, extended or one word changed", "renamed paper, ..."). Evidence beyond the title is required,
and missing dates or authors are absence of evidence, never evidence against; "the same text" is `same_text`: most
of the shorter text's opening runs of words in the other, or one sentence (SAME_RUN words) in common near the opening
of both.

1. **The same identifier is the same work.** Any kind: DOI, arXiv, LessWrong/AF, Scholar, OpenAlex, a feed
   item's guid (`feed`, scoped to its feed unless it is a URL), or a canonical URL (the work's `url` or any of
   its `urls`; a cross-post keeps every URL it was seen under). DOIs, arXiv and OpenAlex ids are compared
   without case, the others exactly; an arXiv DOI (10.48550/arXiv.ID) is also that arXiv id; an Alignment Forum id
   is the LessWrong id of the same value; a forum post's address in a sequence (/s/SEQ/p/ID) or on a mirror
   (GreaterWrong) is its /posts/ID address; a cache-busting time stamp (`?t=1730199416`) is no part of an address,
   and two guids that are one address (a trailing slash, a time stamp) are one guid. A URL is no identity
   for a record whose arXiv or forum id differs from the work's (two comments on one post), whose guid differs
   from the work's guid of the same feed, or whose #fragment differs from the work's (a changelog's entries on one
   page); a page and one of its #entries (one side without a fragment) are one only under one title.
   **The same page on one organisation's sites**: posts whose addresses end in the same page name, with folders
   whose numbers agree (the same, or none on one side: red.anthropic.com/2025/NAME and anthropic.com/research/NAME),
   on sites of one family (`site_family`: epochai.org, epoch.ai and epochai.substack.com by their names;
   anthropic.com and claude.com by the table site_families.toml; anthropic.com/news and /research), unless rule 3's
   `_against` holds. A name of SLUG_WORDS words or more is enough whatever the titles, except other titles dated
   more than POST_WINDOW_TEXT apart (a name used again); a shorter name ("memory") joins only one site or the sites
   of a listed family (`_listed_sites`), with the same title (not generic) or the same day and a title word in
   common. A platform's subdomains (PLATFORMS: alice.netlify.app, bob.netlify.app) are two sites. Of several posts
   of one page the strongest evidence wins (the same title, the name alone, the day), then the lowest id.
2. **One source never merges two of its own records**, whatever their titles: two guids of one feed (unless both
   name one #entry of a page under one title: a changelog feed that gives an entry a new guid later; or the feed
   lists one post again under a new address, "re-listed by its feed": the same title, not generic, on the same
   site, texts that do not disagree, and the same page name, or within RELIST_WINDOW texts that agree or page names
   sharing a word of the title), two
   comment ids, two arXiv ids are two works. OpenAlex alone lists a paper's versions (preprint, published) as
   records of its own, so two OpenAlex papers may be one by rule 3; and a researcher's library file (BibTeX,
   CSL-JSON, RIS) lists each work once, so two of its entries with one title, or an entry imported again, are
   matched by rule 3 like any other record.
3. **Equal titles, and evidence besides.** Titles equal after `match_text` (NFKC, dashes, apostrophes, case, accents,
   punctuation, a forum's "[Linkpost]" label, a venue's "Position:" label), across sources; the same kind family (a
   blog post announcing a paper is never the paper), years at most one apart (YEARS_IN_ORDER for papers with the same
   authors in order: a preprint and its journal version), no conflicting arXiv/forum id or publisher DOI (a preprint
   server's DOI beside a publisher's is two versions, OpenAlex and Scholar ids are many per work). Then:
   - papers: one person in common (the same surname and agreeing given names: "G Hopper" is "Grace Hopper",
     "J Smith" is not "A Smith");
   - posts: the same text within POST_WINDOW_TEXT (or with a date unknown, the title not generic), else an
     author in common within POST_WINDOW_AUTHOR, else, with no authors or no text to compare, the same day;
     authors on both sides with none in common keep them apart unless the texts are the same;
   - posts, the title not generic and nothing against them (authors on both sides share one, or one side has none):
     one text says near its opening that it is a copy ("Cross-posted from", "This is a link post for", "a guest post
     on") within POST_WINDOW_TEXT, or both are on one organisation's sites (`site_family`) within POST_WINDOW_AUTHOR,
     or either with a date unknown ("one says it is a copy", "one organisation's sites");
   - a generic title (under three words, or only words such as "Introduction", "Reply", "Editorial") needs a
     person with the same given name, the same year for papers, and never merges posts on the day alone.
   - posts whose titles are one cut short or extended (the longer opens with the shorter's first word and keeps
     its words in order, NEAR_TITLE_WORDS at least, not generic; the same numbers): the same text, within
     POST_WINDOW_TEXT where both are dated. A title with words put before it ("Reply to ...") is another post.
   - posts whose titles differ only in FUNCTION_WORDS ("Claude in Amazon Bedrock: ..." and "Claude on ...": the
     same other words in order, NEAR_TITLE_WORDS at least; a version, a month or a product is no function word),
     both dated: the same text within POST_WINDOW_TEXT, or both on one organisation's sites within
     POST_WINDOW_AUTHOR (one post whose page was renamed).
   - never posts whose texts both name web addresses and share none (`_against`): one template filled in twice (a
     feed generator's "This feed is no longer maintained ... Recommended alternative: <the site's feed>").
   - papers whose titles are one cut short or extended (the shorter's words in order in the longer, which opens the
     same way; NEAR_PAPER_WORDS at least, not generic) or the same long title (CHANGED_WORD_TITLE words) with one word
     changed, both dated: the same numbers, nothing of `_against`, and a person in common where both list authors.
4. **A renamed paper** (its arXiv v1 title elsewhere): another source's paper (or OpenAlex's other version), found
   by an author's surname or its abstract's opening, with the same numbers in the title (digits, "II"), a year apart
   at most (YEARS_IN_ORDER with the same authors in order), no conflicting identifier, and one of: the same authors in
   the same order (two at least) and half the title's words; the same RENAMED_ORDER authors or more in order and a
   title word; the same first author and the same abstract; the same abstract and a title word when one side lists no
   authors; RENAMED_PEOPLE people in common, all but one of the shorter author list, and a third of the title's words.
   A name is the same person in "Last, First" order or with TeX accents (`Sch\\"utt`).
5. **A post is not the work it is about.** Links to an arXiv id, a DOI or a forum post in a post's text, or a
   forum linkpost's link, become `discusses` relations; a post without authors under a paper's title, exact, before
   its subtitle, cut after NEAR_PAPER_WORDS, extended at its end, or with one qualifier put in (`_presents`: a lab's
   page presenting its paper, or another's post about it), and a post by
   one of the paper's authors under that title or the same words but for FUNCTION_WORDS and plurals
   (`_same_subject`: "Steering Llama-2 with contrastive activation additions"), a presenting label ("Paper: ...")
   set aside, `discusses` that paper and stays its own work (CONTRIBUTING.md, "One work per real work", says why).
   A generic title ("Interpretability Dreams": two words) needs the same title on the same day and a word of its own.

One import merges its records in a canonical order (the earliest first; `Merger.add_all`), so its outcome does not
depend on the order sources answered. A source's own record of a work it made corrects its title, authors and
abstract when the source changed them (never a curated work's, never a value another source gave).

Curated values win; an import only fills what is missing, adds identifiers and relations, and records in
the work's provenance what it contributed and how it was recognised (`kb show ID --provenance`). Importing
the same thing twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from importers.identifiers import arxiv_from_doi, forum_post_from_url
from importers.records import Link, linked_ids
from kb.ingest import merge_extras
from kb.names import ascii_fold, author_id, identity, normalise_name, work_id
from kb.store.datadir import Dataset
from kb.store.records import Author, Provenance, Relation, Work
from kb.text import has_markup, safe

FILLABLE = ("year", "date", "venue", "volume", "pages", "abstract", "url")
# What a source may change in a work it gave, when the source itself changes it (a corrected title in a feed).
EDITABLE = ("title", "authors", "abstract")
POST_DATE_SLACK = dt.timedelta(days=1)  # a feed and a forum may stamp one post in different time zones
# How far apart two copies of one post may be dated, by the evidence besides their equal titles. Measured
# (`python bench/dedup.py --windows`) on the labelled real pairs: the four cross-posts dated on both sides are 0, 1, 3
# and 4 days apart (a lab's post and its forum copy, a blog page and its wiki copy; a fifth pair, 204 days, is one
# page whose mirror feed stamps its items 2025-01-01, recognised by its address); ../shared records none. Different
# posts of one feed are 0 to 439 days apart (median 20), so nearness of dates alone is no evidence: a window only
# bounds other evidence. An author in common (or one organisation's two sites) is weak evidence, so its window is the
# largest delay measured with a few days' slack; the same text (or a text saying it is a copy) is strong, so its
# window also admits the blog cross-posts weeks later that the issue reports from unrecorded feeds (none measured here:
# four pairs cannot bound it, so it is kept at the four months chosen before).
POST_WINDOW_AUTHOR = dt.timedelta(days=7)  # measured copies: at most 4 days apart
POST_WINDOW_TEXT = dt.timedelta(days=120)  # the same text: a blog post cross-posted to a forum weeks later
# A feed's own post listed again under a new address (Merger._relisted): the copies measured are 0 to 6 days apart
# (`python bench/dedup.py --windows`); a weekly series of one title is 7 days apart, so the window stops short of it.
RELIST_WINDOW = dt.timedelta(days=6)
# Two texts are the same when this share of the shorter one's word runs (SHINGLE words each, from its first
# TEXT_WORDS words) occur in the other: a feed's summary is the post's opening, often cut short.
SHINGLE, TEXT_WORDS, SAME_TEXT = 5, 80, 0.6
# Or when a run of SAME_RUN words (a sentence) starts within the first OPENING words of both: a cross-post opens with
# a note ("Cross-posted from ...", a link line with two addresses, a podcast line) and may skip a list the original has.
SAME_RUN, OPENING = 12, 50
# Two texts of one post re-listed by its feed agree when they share this share of their words (Surge AI's summary
# edited from "chart understanding" to "chart reasoning": 0.8); a series' items of one title share few.
TEXTS_AGREE = 0.5
# A post's title cut short or given a subtitle elsewhere ("... #40: California AI Legislation Plus, NVIDIA ..."): the
# shorter title's words all in the longer one, at least this many of them, and the same text.
NEAR_TITLE_WORDS = 4
# A title this short, or made only of these words, names many works: equal titles then need more than a surname.
GENERIC_WORDS = 3
GENERIC_VOCABULARY = frozenset(
    "a an the and of on to in for with introduction editorial preface foreword discussion reply response comment"
    " comments conclusion conclusions review book erratum corrigendum correction abstract abstracts untitled index"
    " contents letter note notes update updates news overview summary report announcement".split()
)
# DOIs of preprint servers: a paper's preprint record and its published record carry two DOIs of one work.
PREPRINT_DOI = re.compile(
    r"10\.48550/arxiv\.|10\.2139/ssrn\.|10\.1101/|10\.21203/rs\.|10\.20944/preprints|"
    r"10\.2196/preprints\.|10\.36227/techrxiv\.|10\.31219/osf\.io|10\.26434/chemrxiv",
    re.I,
)
KIND_FAMILY = {"paper": "paper", "report": "paper", "post": "post", "comment": "post"}
# dashes and hyphens that NFKC leaves alone; folded to "-" before words are split
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
# Query parameters that follow a link around rather than name what it points to.
_TRACKING = re.compile(r"utm(_.*)?$|fbclid$|gclid$|mc_[ce]id$", re.I)
# A cache-busting parameter: a time stamp (Unix seconds or milliseconds) that a site or a CDN appends to make caches
# fetch a file again (acl1.txt?t=1730199416); the same file under any value. Names whose only role is that one
# (cb=, nocache=) anywhere; the short names t=, ts= and _= also name a forum's topic (viewtopic.php?t=123456789) or a
# script's argument, so only on a static file's address (_STATIC_FILE), where a query selects nothing. Either way the
# value must be a time a cache could have been busted at: from CACHE_BUSTER_SINCE to a year after today.
_CACHE_BUSTER = re.compile(r"(cb|cachebust(?:er)?|nocache|timestamp)=(\d{9,13})$", re.I)
_CACHE_BUSTER_SHORT = re.compile(r"(t|ts|_)=(\d{9,13})$", re.I)
_STATIC_FILE = re.compile(r"\.(?:txt|md|html?|xml|json|pdf|css|js|png|jpe?g|gif|svg|webp)$", re.I)
CACHE_BUSTER_SINCE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Kinds of identifier that name one work wherever they come from: a different one is a different work.
DISTINCT_IDS = ("arxiv", "lesswrong", "alignmentforum")
# Kinds a work may rightly hold two values of, so a different value is no evidence of another work: OpenAlex keeps a
# paper's preprint and its published version as two records (two W ids); Scholar lists one paper under two entries.
MANY_IDS = ("openalex", "scholar", "s2")
# Sources that list a paper's versions as records of their own (OpenAlex: the preprint and the published paper), so
# that two of their records may be one work; any other source's two records with two identifiers are two works.
VERSIONED_SOURCES = ("openalex",)
# arXiv's own DOIs (DataCite, 10.48550/arXiv.ID) name the preprint: a publisher's DOI for it is no conflict.
ARXIV_DOI = "10.48550/arxiv."
# The forums whose post ids are one: an Alignment Forum post is a LessWrong post under the same id.
FORUM_SCHEMES = ("lesswrong", "alignmentforum")
# Blog platforms whose sites are their subdomains (epochai.substack.com is Epoch's); medium.com/@name is name's too.
# Hosting services likewise: alice.netlify.app and bob.netlify.app are two people's sites, not one organisation's.
PLATFORMS = frozenset(
    "substack.com ghost.io wordpress.com github.io medium.com blogspot.com beehiiv.com netlify.app vercel.app"
    " pages.dev notion.site gitlab.io herokuapp.com web.app firebaseapp.com wixsite.com webflow.io tumblr.com"
    " hashnode.dev readthedocs.io bearblog.dev mataroa.blog micro.blog neocities.org surge.sh glitch.me fly.dev"
    " onrender.com azurewebsites.net amazonaws.com cloudfront.net typepad.com weebly.com squarespace.com".split()
)
# Sites that carry many organisations' pages (forums, mirrors, preprint servers, code hosts): no organisation's name.
NO_FAMILY = frozenset(
    "lesswrong alignmentforum greaterwrong effectivealtruism arxiv doi github githubusercontent appspot".split()
)
FAMILY_NAME = 4  # a shorter site name ("ai", "blog") names no organisation
# Sites one organisation publishes under unrelated names (anthropic.com and claude.com): a data file, not code.
SITE_FAMILIES = "site_families.toml"
# A page's own name in its address, the same on two of one organisation's sites (epochai.org/blog/NAME and
# epoch.ai/blog/NAME, anthropic.com/news/NAME and /research/NAME): at least this many words, so that "update" or
# "about" never names one page.
SLUG_WORDS = 3
_PAGE_FILE = re.compile(r"^(?:index\.html?|amp)$", re.I)
# How a copy of a post says it is one, near its opening: "Cross-posted from ...", "This is a link post for ...",
# "(This is a guest post on X's blog ...)", "Originally published at ...".
_DECLARED_COPY = re.compile(
    r"\bcross\W?post(?:ed)?\b|\blink\W?post\b|\bguest post on\b|\boriginally (?:posted|published)\b|\breposted from\b",
    re.I,
)
COPY_OPENING = 300  # characters of a text in which a copy says so
SAME_SOURCE = "the same source delivered both"
DECLARED_COPY = "one says it is a copy"
# Two versions of a paper with the same authors in the same order may be dated this many years apart (an arXiv
# preprint of 2023 and its journal version of 2025, one OpenAlex record each); other evidence allows one year.
YEARS_IN_ORDER = 2
# The same authors in the same order, this many at least and the lists complete, make a renamed paper with one title
# word in common (a team rarely writes two papers in one order whose titles share a word, unless a number tells them
# apart; a team with an author added is not enough: ROME and MEMIT share a first author, three others and "editing").
RENAMED_ORDER = 4
# A paper's title cut short or extended elsewhere ("Grad-CAM: Why did you say that? Visual explanations ..."): the
# shorter title's words all in the longer, in order, at least this many; or titles this long with one word changed
# ("... Finding Small, Trainable ..." and "... Finding Sparse, Trainable ...").
NEAR_PAPER_WORDS, CHANGED_WORD_TITLE = 6, 8


# A version's label that some sources append to the title (JMIR's preprint records in OpenAlex): not the title's.
_MARKER = re.compile(r"\s*\((?:preprint|pre-print|accepted manuscript)\)\s*$", re.I)
# A forum's label for a copy of a post published elsewhere ("[Linkpost] ...", "Crosspost: ..."): not the title's.
_COPY = r"(?:link\W?post|cross\W?post(?:ed)?)"
_COPY_MARKER = re.compile(rf"^\s*(?:[\[(]\s*{_COPY}\s*[\])]|{_COPY}\s*[:\-\u2013\u2014])\s*", re.I)
# A forum post's label before the title of the paper it presents ("Paper: ...", "New paper: ...", "[Paper] ...",
# "Preprint: ..."): rule 5 reads the title after it. Not removed by match_text: such a post is not the paper.
_PRESENTS = r"(?:new\s+)?(?:paper|preprint)"
_PRESENTING_LABEL = re.compile(rf"^\s*(?:[\[(]\s*{_PRESENTS}\s*[\])]|{_PRESENTS}\s*:)\s*", re.I)
# Words that join a title's words and change no subject ("Claude in Amazon Bedrock" and "Claude on Amazon Bedrock",
# "Steering Llama 2 with/via ..."): two titles of the same other words, in order, name one thing.
FUNCTION_WORDS = frozenset("a an the and of on in at to for with via by from as into onto".split())
# A venue's label for a track, before the paper's own title (ICML's position papers: "Position: ..."): not the title's.
_TRACK_LABEL = re.compile(r"^\s*position\s*:\s*", re.I)
# An apostrophe joins the word it sits in: "Siren’s" is "Sirens" whichever apostrophe a source typed.
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u02bc"), None)


def match_text(text: str) -> str:
    """The one normalisation of text for matching, used alike for stored titles and incoming records.

    NFKC folds compatibility forms ("²" -> "2", full-width letters, ligatures), dashes of every kind become
    word breaks, accents go, case goes, and what is left is words of letters and digits joined by spaces.
    """
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_APOSTROPHES)
    text = _TRACK_LABEL.sub("", _COPY_MARKER.sub("", _MARKER.sub("", text), count=1), count=1)
    return " ".join(re.findall(r"[a-z0-9]+", ascii_fold(text).lower()))


def canonical_url(url: str) -> str:
    """A URL as an identifier: scheme, "www.", a trailing slash, the fragment and tracking parameters do not count;
    the rest of the query does, in any order (a forum comment is `/posts/ID?commentId=C`)."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    if not host:
        return ""
    query = sorted(
        p
        for p in parts.query.split("&")
        if p and not _TRACKING.match(p.split("=", 1)[0]) and not _cache_buster(p, parts.path)
    )
    path = parts.path.rstrip("/")
    forum = forum_post_from_url(url)
    if forum:  # a forum post under any of its addresses (in a sequence, on a mirror, on the Alignment Forum)
        host, path = forum[0], f"/posts/{forum[1]}"
    return f"{host}{path}" + (f"?{'&'.join(query)}" if query else "")


def _cache_buster(parameter: str, path: str) -> bool:
    """Whether a query parameter only busts a cache (_CACHE_BUSTER): a plausible Unix time, in seconds or milliseconds,
    under a name with no other role, or under a short name (t=, ts=, _=) on a static file's address."""
    found = _CACHE_BUSTER.match(parameter) or (_STATIC_FILE.search(path) and _CACHE_BUSTER_SHORT.match(parameter))
    if not found:
        return False
    value = int(found.group(2))
    latest = dt.datetime.now(dt.UTC) + dt.timedelta(days=366)
    return any(CACHE_BUSTER_SINCE.timestamp() <= v <= latest.timestamp() for v in (value, value / 1000))


def site_family(url: str) -> frozenset[str]:
    """The names under which an address's site is one organisation's: epoch.ai is {"epoch", "epochai"}, epochai.org
    and epochai.substack.com are {"epochai"}, so the three are one family; a forum or a mirror is none."""
    parts = urlsplit(url.strip())
    labels = (parts.hostname or "").removeprefix("www.").split(".")
    if len(labels) < 2 or labels[-2] in NO_FAMILY:
        return frozenset()
    if ".".join(labels[-2:]) in PLATFORMS:
        user = parts.path.split("/")[1] if parts.path.startswith("/@") else ""
        names = {user.removeprefix("@")} if user else ({labels[-3]} if len(labels) > 2 else set())
    else:
        names = {labels[-2], labels[-2] + labels[-1]} | _organisation_sites().get(".".join(labels[-2:]), set())
    return frozenset(n for n in names if len(n) >= FAMILY_NAME)


@lru_cache(maxsize=1)
def _organisation_sites() -> dict[str, set[str]]:
    """Each site listed in site_families.toml (beside this module) -> the names of the families it belongs to: sites
    one organisation publishes under unrelated names (anthropic.com and claude.com). The table is data, read once."""
    import tomllib
    from pathlib import Path

    table = tomllib.loads((Path(__file__).with_name(SITE_FAMILIES)).read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for family in table.get("family", []):
        for site in family["sites"]:
            out.setdefault(site.lower().removeprefix("www."), set()).add(family["name"])
    return out


def _page_name(url: str) -> tuple[str, frozenset[str]] | None:
    """A page's own name in its address (the last part of the path, less "index.html") and the numbers of the folders
    above it (a dated folder: red.anthropic.com/2025/NAME/), or None for an address with a query or a fragment."""
    parts = urlsplit(url.strip())
    segments = [x for x in parts.path.split("/") if x and not _PAGE_FILE.match(x)]
    if not segments or parts.query or parts.fragment:
        return None
    folders = frozenset(n for segment in segments[:-1] for n in re.findall(r"\d+", segment))
    return re.sub(r"\.html?$", "", segments[-1].lower()), folders


def _page_keys(url: str) -> list[tuple[str, ...]]:
    """The keys a page is known by across one organisation's sites: its own name in the address under each name of
    the site's family (Merger._same_page says when two pages of one key are one)."""
    page = _page_name(url)
    return [("page", name, page[0]) for name in sorted(site_family(url))] if page else []


def _page_reused(w: Work, record) -> bool:
    """Whether one page name on two sites is more likely two posts: other titles, dated more than POST_WINDOW_TEXT
    apart (anthropic.com/news/claude-in-microsoft-foundry, "Claude now available in Microsoft Foundry", and
    claude.com/blog/claude-in-microsoft-foundry, "... is now generally available", seven months later)."""
    if match_text(w.title) == match_text(record.title) or not (w.date and record.date):
        return False
    return abs(w.date - dt.date.fromisoformat(str(record.date)[:10])) > POST_WINDOW_TEXT


def _same_folders(one: str, two: str) -> bool:
    """Whether two addresses' folders agree in their numbers: the same ones, or none on one side (a site that dates
    its paths and one that does not); /2024/july-update and /2025/july-update are two pages."""
    a, b = (_page_name(u) or ("", frozenset()) for u in (one, two))
    return a[1] == b[1] or not (a[1] and b[1])


def _declared_copy(text: str | None) -> bool:
    """Whether a text says near its opening that it is a copy of a post published elsewhere."""
    return bool(_DECLARED_COPY.search((text or "")[:COPY_OPENING]))


def _with_fragment(url: str) -> str:
    return f"{canonical_url(url)}#{urlsplit(url.strip()).fragment}"


def _guid_source(w: Work) -> str | None:
    """The feed whose guid the work holds (a work keeps one `feed` id: the first feed's that gave one), so that a
    guid is compared only with other guids of that feed."""
    if "feed" not in w.ids or not w.provenance:
        return None
    added = [p.source for p in w.provenance[1:] if "ids.feed" in p.fields]
    return added[0] if added else w.provenance[0].source


def _same_guid(one: str, two: str) -> bool:
    """Two feed guids that are addresses name one item when the addresses are one (tracking and cache-busting
    parameters aside) with the same #fragment (a changelog's entries differ by their fragments alone)."""
    if not all(urlsplit(g.strip()).scheme in ("http", "https") for g in (one, two)):
        return False
    return _with_fragment(one) == _with_fragment(two)


@dataclass
class Report:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (work id, how it was recognised)
    skipped: list[str] = field(default_factory=list)  # already there, nothing new
    edited: dict[str, list[str]] = field(default_factory=dict)  # work id -> fields its source changed (title, ...)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


@lru_cache(maxsize=1 << 16)  # an import compares the same few thousand names over and over
def _name_words(name: str) -> tuple[str, ...]:
    """A person's name as words, given names first: a library's "Hendrycks, Dan" is "Dan Hendrycks"."""
    surname, comma, given = name.partition(",")
    return tuple(normalise_name(f"{given} {surname}" if comma and given.strip() else name).split())


def _surname(name: str) -> str:
    parts = _name_words(name)
    return parts[-1] if parts else ""


def _sources(w: Work) -> set[str]:
    return {p.source for p in w.provenance}


def _urls(w: Work) -> list[str]:
    return [u for u in (w.url, *w.urls.values()) if u]


def _id_keys(scheme: str, value: str) -> list[tuple[str, str]]:
    """The keys an identifier is known by: an arXiv DOI (10.48550/arXiv.ID) also names the arXiv id."""
    keys = [identity(scheme, value)]
    if scheme in FORUM_SCHEMES:  # an Alignment Forum post is the LessWrong post of the same id
        keys += [identity(other, value) for other in FORUM_SCHEMES if other != scheme]
    arxiv = arxiv_from_doi(value) if scheme == "doi" else None
    return keys + [identity("arxiv", arxiv)] if arxiv else keys


def _arrival_key(record) -> tuple:
    when = str(record.date or (f"{record.year}-99" if record.year else "9999"))
    return (when, record.source, sorted((record.ids or {}).items()), record.title, record.url or "")


RENAMED_OVERLAP = 0.5  # the share of a renamed paper's title words (of both titles' words) that must stay
# A paper renamed and re-authored between versions (a student added, two names swapped): at least RENAMED_PEOPLE
# people in common, all but one of the shorter author list, and this share of the title's words.
RENAMED_PEOPLE, RENAMED_OVERLAP_PEOPLE = 3, 1 / 3


def _generic(title: str) -> bool:
    """A title many works share ("Introduction", "On probes", "Reply to comments")."""
    return _generic_words(match_text(title).split())


def _generic_words(words: list[str]) -> bool:
    """_generic of a title already split into words by match_text."""
    return len(words) < GENERIC_WORDS or all(w in GENERIC_VOCABULARY or w.isdigit() for w in words)


def _given(name: str) -> list[str]:
    return list(_name_words(name)[:-1])


def _same_person(a: str, b: str, strict: bool = False) -> bool:
    """One person under two spellings: the same surname, and given names that agree ("G Hopper" is "Grace Hopper";
    "J Smith" is not "A Smith"). strict: both must give a given name, and full ones must be equal."""
    if _surname(a) != _surname(b) or not _surname(a):
        return False
    mine, theirs = _given(a), _given(b)
    if not mine or not theirs:
        return not strict
    first, other = mine[0], theirs[0]
    if first[0] != other[0]:
        return False
    if len(first) > 1 and len(other) > 1:
        return first == other or (not strict and (first.startswith(other) or other.startswith(first)))
    return not strict or len(mine) + len(theirs) > 2  # an initial alone matches only outside generic titles


def _people_in_common(ours: list[str], theirs: list[str], strict: bool = False) -> bool:
    return any(_same_person(a, b, strict) for a in ours for b in theirs)


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[n : n + SHINGLE]) for n in range(max(len(words) - SHINGLE + 1, 1))}


def same_text(a: str | None, b: str | None) -> bool:
    """Whether two texts are one text, perhaps one cut short: most of the shorter one's opening runs of words occur
    in the other."""
    one, two = match_text(a or "").split(), match_text(b or "").split()
    if len(one) > len(two):
        one, two = two, one
    if len(one) < SHINGLE * 2:  # a few words ("Read more", a date) are no text to compare
        return False
    mine = _shingles(one[:TEXT_WORDS])
    return len(mine & _shingles(two)) >= SAME_TEXT * len(mine) or _same_opening(one, two)


def _opening_runs(text: str | None) -> set[tuple[str, ...]]:
    """The runs of SAME_RUN words that start within the first OPENING words of a text (_same_opening)."""
    words = match_text(text or "").split()
    return {tuple(words[n : n + SAME_RUN]) for n in range(min(OPENING, len(words) - SAME_RUN + 1))}


def _same_opening(one: list[str], two: list[str]) -> bool:
    """A sentence's worth of words (SAME_RUN) in common, starting near the opening (OPENING) of both texts."""
    runs = {tuple(two[n : n + SAME_RUN]) for n in range(min(OPENING, len(two) - SAME_RUN + 1))}
    return any(tuple(one[n : n + SAME_RUN]) in runs for n in range(min(OPENING, len(one) - SAME_RUN + 1)))


# Roman numerals that number a part or a sequel ("Part II"); "i" and "v" are left out, being words too.
_ROMAN = frozenset("ii iii iv vi vii viii ix".split())


def _numbers(words) -> set[str]:
    return {t for t in words if t.isdigit() or t in _ROMAN}


def _extends(longer: list[str], shorter: list[str]) -> bool:
    """Whether a title is another cut short or given words (a subtitle, a word inserted): it opens the same way and
    keeps the other's words in order. A title prefixed ("Reply to ...", "Thoughts on ...") is another post."""
    if not shorter or not longer or longer[0] != shorter[0]:
        return False
    rest = iter(longer)
    return all(word in rest for word in shorter)


def _title_overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _post_evidence(w: Work, record, generic: bool) -> tuple[str | None, str]:
    """Posts of equal titles are one post by the strongest evidence they give, each within its window of dates:
    the same text (weeks), an author in common (days), one of them a declared copy or both on one organisation's
    sites (weeks), else nothing against it (the same day, not for a generic title). Authors on both sides with none
    in common keep them apart unless the texts are the same."""
    if not (w.date and record.date):
        if not generic and same_text(w.abstract, record.abstract):  # a missing date is no evidence against it
            return None, "the same text (a date unknown)"
        same_year = bool(w.year and record.year and w.year == record.year) and not generic
        if same_year and not (w.date or record.date):
            return None, "year, no dates to compare"
        if same_year and w.authors and record.authors and _people_in_common(w.authors, record.authors, strict=True):
            return None, "an author in common, the same year (one date unknown)"  # a library entry of a forum post
        copy = _copy_evidence(w, record, generic)
        return (None, f"{copy} (a date unknown)") if copy else ("no dates to compare", "")
    gap = abs(w.date - dt.date.fromisoformat(str(record.date)[:10]))
    if same_text(w.abstract, record.abstract) and gap <= POST_WINDOW_TEXT:
        return None, f"the same text, {gap.days} day(s) apart"
    if w.authors and record.authors:
        if not _people_in_common(w.authors, record.authors, strict=generic):
            return "no author in common", ""
        return (None, f"an author in common, {gap.days} day(s) apart") if gap <= POST_WINDOW_AUTHOR else ("dates", "")
    if generic:
        return "not enough evidence besides the title", ""
    if gap <= POST_DATE_SLACK:
        return None, "the same day"
    copy = _copy_evidence(w, record, generic)
    window = POST_WINDOW_TEXT if copy == DECLARED_COPY else POST_WINDOW_AUTHOR  # a copy says so: as strong as its text
    if copy and gap <= window:
        return None, f"{copy}, {gap.days} day(s) apart"
    return "not enough evidence besides the title", ""


def _copy_evidence(w: Work, record, generic: bool) -> str | None:
    """What makes posts of one distinctive title one post when their texts differ and nothing speaks against it
    (authors on both sides with one in common, or authors on one side only): one text says it is a copy ("Cross-posted
    from ...", "This is a link post for ..."), or both are on one organisation's sites (epochai.org and
    epochai.substack.com)."""
    if generic or (w.authors and record.authors and not _people_in_common(w.authors, record.authors)):
        return None
    if _declared_copy(w.abstract) or _declared_copy(record.abstract):
        return DECLARED_COPY
    families = {name for url in _urls(w) for name in site_family(url)}
    if record.url and families & site_family(record.url):
        return "one organisation's sites"
    return None


def _own_text(record) -> list[str]:
    """A record's text as words, when it says more than its title (a feed often gives the title again as summary)."""
    words = match_text(record.abstract or "").split()
    return [] if len(words) < SHINGLE * 2 or words == match_text(record.title).split() else words


def _texts_disagree(w: Work, record) -> bool:
    """Whether two records of one title have texts of their own that are not one text: not the same (same_text) and
    sharing under half their words (TEXT_WORDS of each; a summary edited in a few words still agrees)."""
    one, two = _own_text(w), _own_text(record)
    if not (one and two) or same_text(w.abstract, record.abstract):
        return False
    return _title_overlap(set(one[:TEXT_WORDS]), set(two[:TEXT_WORDS])) < TEXTS_AGREE


def _texts_agree(w: Work, record) -> bool:
    """Whether two records have texts of their own (more than the title again) that do not disagree: a summary
    edited in a few words agrees; no text on one side is no evidence either way."""
    return bool(_own_text(w) and _own_text(record)) and not _texts_disagree(w, record)


def _slug_words(url: str) -> set[str]:
    """The words of a page's own name in its address, without numbers (/events/137 has none)."""
    page = _page_name(url)
    return {word for word in re.findall(r"[a-z0-9]+", page[0]) if not word.isdigit()} if page else set()


def _day(date) -> dt.date:
    return dt.date.fromisoformat(str(date)[:10])


def _listed_sites(one: str, two: str) -> bool:
    """Whether two addresses are on one site (one host, or one registered name off a platform) or on sites of a family
    listed in site_families.toml: what a short page name ("update", "about") may join. A family guessed from the
    names of hosts (epochai.org and epoch.ai) needs a longer name."""
    hosts = [(urlsplit(u.strip()).hostname or "").removeprefix("www.") for u in (one, two)]
    if hosts[0] == hosts[1]:
        return bool(hosts[0])
    names = [".".join(h.split(".")[-2:]) for h in hosts]
    if any(name in PLATFORMS for name in names):
        return False
    listed = _organisation_sites()
    return names[0] == names[1] or bool(listed.get(names[0], set()) & listed.get(names[1], set()))


def _in_order(ours: list[str], theirs: list[str]) -> bool:
    """The same authors (two at least) in the same order."""
    return len(ours) == len(theirs) >= 2 and all(_same_person(a, b) for a, b in zip(ours, theirs, strict=True))


def _renamed_evidence(w: Work, record, titles: tuple[set[str], set[str]]) -> str | None:
    """What makes a paper under another title (titles: the words of the work's and of the record's) the same paper
    (Merger._renamed_candidates), or None."""
    overlap = _title_overlap(*titles)
    a_title_word = bool((titles[0] & titles[1]) - GENERIC_VOCABULARY)
    ours, theirs = list(w.authors), list(record.authors)
    in_order = not (w.more_authors or record.more_authors) and _in_order(ours, theirs)
    if in_order and overlap >= RENAMED_OVERLAP:
        return "the same authors in order"
    if in_order and len(ours) >= RENAMED_ORDER and a_title_word:
        return f"the same {len(ours)} authors in order and a title word"
    first = bool(ours and theirs) and _same_person(ours[0], theirs[0])
    if (first or (a_title_word and not (ours and theirs))) and same_text(w.abstract, record.abstract):
        if first:
            return "the same first author and the same abstract"
        return "the same abstract and a title word (authors on one side only)"
    shorter, longer = sorted((ours, theirs), key=len)
    people = sum(any(_same_person(a, b) for b in longer) for a in shorter)
    if people >= RENAMED_PEOPLE and people >= len(shorter) - 1 and overlap >= RENAMED_OVERLAP_PEOPLE:
        return f"{people} authors in common"
    return None


def _years_apart(w: Work, record) -> bool:
    """Years too far apart for one paper or post: more than one, or more than YEARS_IN_ORDER for papers with the same
    authors in order (a preprint and its journal version)."""
    if not (w.year and record.year) or abs(w.year - record.year) <= 1:
        return False
    in_order = KIND_FAMILY.get(w.kind) == "paper" and _in_order(list(w.authors), list(record.authors))
    return not in_order or abs(w.year - record.year) > YEARS_IN_ORDER


def _presents(ours: list[str], paper: list[str], paper_title: str) -> bool:
    """Whether a post's title (as words) names a paper for rule 5 (a page about a paper): equal after match_text, or,
    NEAR_TITLE_WORDS words at least, not generic, with the same numbers, one of: the paper's title before a subtitle
    (`_openings`: "Weak-to-strong generalization" for "Weak-to-Strong Generalization: Eliciting ...") or cut
    anywhere after NEAR_PAPER_WORDS words ("Constitutional Classifiers: Defending against universal jailbreaks");
    the paper's title with words added at its end ("Auditing games for sandbagging detection" for "Auditing Games for
    Sandbagging"); or either with one qualifier put in (`_qualified`: "Planning behavior in a recurrent neural
    network ..."). Words put in at two places, or more than a qualifier, make another subject: "Scaling laws for
    autoregressive generative modeling of neural language models and images" is not "Scaling Laws for Neural
    Language Models", and a post "AI safety via debate and ..." names no paper "AI safety via debate: ..." by
    its first words alone unless they end at the paper's subtitle."""
    if ours == paper:
        return True
    shorter = min((ours, paper), key=len)
    if len(shorter) < NEAR_TITLE_WORDS or _generic(" ".join(shorter)) or _numbers(ours) != _numbers(paper):
        return False
    if len(ours) > len(paper):
        return ours[: len(paper)] == paper or _qualified(ours, paper)
    cut_short = paper[: len(ours)] == ours and len(ours) >= NEAR_PAPER_WORDS  # the papers' bound for a cut
    return cut_short or ours in _openings(paper_title) or _qualified(paper, ours)


# A qualifier put into a title keeps its subject ("Planning behavior in ...", "... in Large Language Models",
# "Towards evaluations-based safety cases ..."): at most this many words, none of them a function word or a negation.
QUALIFIER_WORDS = 2
_NEGATIONS = frozenset("not no non without".split())


def _qualified(longer: list[str], shorter: list[str]) -> bool:
    """Whether a title (as words) is another with one qualifier (QUALIFIER_WORDS at most) put in after its opening."""
    extra = len(longer) - len(shorter)
    if not 0 < extra <= QUALIFIER_WORDS:
        return False
    at = next((n for n, (a, b) in enumerate(zip(longer, shorter, strict=False)) if a != b), len(shorter))
    inserted = longer[at : at + extra]
    return (
        at > 0
        and longer[at + extra :] == shorter[at:]
        and not any(word in FUNCTION_WORDS or word in _NEGATIONS for word in inserted)
    )


_SUBTITLE = re.compile(r"\s*(?::|\?|!|\s[-\u2013\u2014]\s|\u2014)\s*")


def _openings(title: str) -> list[list[str]]:
    """A title's openings before each subtitle mark (':', '?', '!', a spaced dash or an em dash), as words."""
    return [match_text(title[: m.start()]).split() for m in _SUBTITLE.finditer(title)]


def _presented_words(title: str) -> list[str]:
    """A post's title as words, without a label saying that it presents a paper ("Paper: ...", "[Preprint] ...")."""
    return match_text(_PRESENTING_LABEL.sub("", title, count=1)).split()


def _content_words(words: list[str]) -> list[str]:
    """A title's words without FUNCTION_WORDS, in order."""
    return [word for word in words if word not in FUNCTION_WORDS]


def _singular(word: str) -> str:
    """A word without a plural's "s" ("additions" is "addition"; "class", "its" and short words stay)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def _same_subject(a: list[str], b: list[str]) -> bool:
    """Whether two titles (as words) say the same words but for FUNCTION_WORDS and plurals, in order, NEAR_TITLE_WORDS
    of them at least and not generic: "Steering Llama-2 with contrastive activation additions" and "Steering Llama 2
    via Contrastive Activation Addition". Numbers, versions, months and product names are no function words, so
    "Grok 4.6 on Amazon Bedrock" and "Grok on Amazon Bedrock" are two subjects."""
    one, two = ([_singular(word) for word in _content_words(words)] for words in (a, b))
    return one == two and len(one) >= NEAR_TITLE_WORDS and not _generic(" ".join(one))


_ADDRESS = re.compile(r"https?://[^\s<>\"')\]]+", re.I)


def _addresses(text: str | None) -> set[str]:
    """The web addresses a text names, as identifiers (canonical_url), without a sentence's closing punctuation."""
    return {canonical_url(url.rstrip(".,;:!?")) for url in _ADDRESS.findall(text or "")} - {""}


def _template_texts(one: str | None, two: str | None) -> bool:
    """Whether two texts are two uses of one template, not one post: both name addresses and share none (a feed
    generator's "This scraper is retired ... Recommended alternative: https://hamel.dev/index.xml" and the same notice
    for https://openai.com/blog/rss.xml). One post copied keeps its links, or drops them on one side."""
    mine, theirs = _addresses(one), _addresses(two)
    return bool(mine and theirs) and not mine & theirs


def _one_word_changed(one: list[str], two: list[str]) -> bool:
    """Titles of CHANGED_WORD_TITLE words at least, equal but for one word put in another's place."""
    return len(one) == len(two) >= CHANGED_WORD_TITLE and sum(a != b for a, b in zip(one, two, strict=True)) == 1


# Fields shown on one line: whitespace runs (a newline, a tab) become one space as well
_ONE_LINE = frozenset({"title", "venue", "authors"})


def _cleaned(record):
    """The record with control characters, escape sequences and invisible reordering characters gone from every
    string it holds (title to ids, URLs, links and affiliations): nothing hostile is stored."""
    import dataclasses

    if not dataclasses.is_dataclass(record):
        return record
    fields = {}
    for f in dataclasses.fields(record):
        value = _clean_value(getattr(record, f.name))
        if f.name in _ONE_LINE:
            value = (
                [" ".join(v.split()) for v in value] if isinstance(value, list) else value and " ".join(value.split())
            )
        fields[f.name] = value
    return dataclasses.replace(record, **fields)


def _clean_value(value):
    import dataclasses

    if isinstance(value, str):
        return safe(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _cleaned(value)
    if isinstance(value, dict):  # keys are schemes or author names (affiliations): one line, as the names are
        return {
            " ".join(_clean_value(k).split()) if isinstance(k, str) else k: _clean_value(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_clean_value(v) for v in value)
    return value


def _one_line_fields(record):
    yield "title", record.title
    for a in record.authors:
        yield "author", a


@dataclass
class _Link:
    type: str
    scheme: str
    value: str


class Merger:
    def __init__(self, ds: Dataset, today: dt.date | None = None):
        self.today = today or dt.date.today()
        self.works: dict[str, Work] = {w.id: w for w in ds.works}
        self.authors: dict[str, Author] = {a.id: a for a in ds.authors}
        self.by_id: dict[tuple[str, str], str] = {}
        self.by_title: dict[str, list[str]] = {}  # match_text(title) -> work ids
        self.by_author: dict[str, set[str]] = {}  # an author's surname -> papers (renamed versions)
        self.by_title_start: dict[str, set[str]] = {}  # a post title's first word -> posts (titles cut short)
        self.by_paper_start: dict[str, set[str]] = {}  # a paper title's first word -> papers (titles cut short)
        self.by_opening: dict[tuple[str, ...], set[str]] = {}  # a run of words opening an abstract -> papers
        self.by_page: dict[tuple[str, ...], list[str]] = {}  # a page's name on one organisation's sites -> posts
        self.by_content: dict[str, set[str]] = {}  # a post title's words but FUNCTION_WORDS -> posts
        self._words: dict[tuple[str, str], tuple[list[str], set[str]]] = {}  # (work, title) -> its words
        for w in ds.works:
            self._index(w)
        self.report = Report()
        self._pending_links: list[tuple[str, Link | _Link, str]] = []

    def _index(self, w: Work) -> None:
        for scheme, value in w.ids.items():
            first, *aliases = _id_keys(scheme, value)
            self.by_id[first] = w.id
            for key in aliases:
                self.by_id.setdefault(key, w.id)
        for url in _urls(w):
            if canonical_url(url):
                self.by_id.setdefault(("url", canonical_url(url)), w.id)
            if urlsplit(url).fragment:  # a changelog's entry: its page and its #fragment name it
                self.by_id.setdefault(("url#", _with_fragment(url)), w.id)
            if w.kind == "post":
                for page in _page_keys(url):
                    if w.id not in self.by_page.setdefault(page, []):
                        self.by_page[page].append(w.id)
        same = self.by_title.setdefault(match_text(w.title), [])
        if w.id not in same:
            same.append(w.id)
        if KIND_FAMILY.get(w.kind) == "paper":
            for name in w.authors:
                self.by_author.setdefault(_surname(name), set()).add(w.id)
            for run in _opening_runs(w.abstract):
                self.by_opening.setdefault(run, set()).add(w.id)
            if match_text(w.title):
                self.by_paper_start.setdefault(match_text(w.title).split()[0], set()).add(w.id)
        if w.kind == "post" and match_text(w.title):
            self._index_post_title(w)

    def _index_post_title(self, w: Work) -> None:
        """A post under its title's first word, the first word after a presenting label ("Paper: Understanding ..."
        under "understanding") and its title's words but FUNCTION_WORDS."""
        words = match_text(w.title).split()
        for first in {words[0], *_presented_words(w.title)[:1]}:
            self.by_title_start.setdefault(first, set()).add(w.id)
        content = _content_words(words)
        if content:
            self.by_content.setdefault(" ".join(content), set()).add(w.id)

    def lookup(self, scheme: str, value: str) -> str | None:
        """The work an identifier names, or None."""
        return self.by_id.get(identity(scheme, value))

    def match(self, record) -> tuple[str | None, str | None]:
        """(work id, which rule recognised it and on what) by the identity rules above, or (None, None): a new work.
        The rule's name leads what is said, so `kb show --provenance` tells how each record was merged."""
        for scheme, value in record.ids.items():
            key = next((k for k in _id_keys(scheme, value) if k in self.by_id), None)
            if key:
                return self.by_id[key], f"same identifier: {scheme} {value}"
        found = self.by_id.get(("url#", _with_fragment(record.url))) if record.url else None
        found = found or (self.by_id.get(("url", canonical_url(record.url))) if record.url else None)
        if found and not self._url_veto(self.works[found], record):
            return found, f"same address: {record.url}"
        page, evidence = self._same_page(record)
        if page:
            return page, f"same page on one organisation's sites{evidence}: {record.url}"
        candidates = [self.works[i] for i in self.by_title.get(match_text(record.title), [])]
        for w in sorted(candidates, key=lambda w: w.id):  # by id, not by arrival: the same answer in any order
            why, evidence = self._title_evidence(w, record)
            if why is None:
                return w.id, f"same title, {evidence} ({w.title!r})"
        for w in self._near_title_candidates(record):
            return w.id, f"same title cut short or extended, the same text ({w.title!r})"
        for w, evidence in self._small_word_candidates(record):
            return w.id, f"same title but for function words, {evidence} ({w.title!r})"
        for w in self._near_paper_candidates(record):
            return w.id, f"same title cut short, extended or one word changed ({w.title!r})"
        for w, evidence in self._renamed_candidates(record):
            return w.id, f"renamed paper, {evidence} ({w.title!r})"
        return None, None

    def _same_page(self, record) -> tuple[str | None, str]:
        """(the post whose address names the same page on another of one organisation's sites, what besides the name
        made it one): an old and a new domain, a /news and a /research path, the organisation's newsletter, or the
        page moved within one feed under the same title. The name has SLUG_WORDS words at least, or a shorter name
        ("memory", "alignment-faking") joins only one site or sites of a listed family (`_listed_sites`) with the same
        title, or the same day and a title word in common; the numbers of the folders agree (_same_folders). Every
        such post is weighed and the strongest evidence wins (the same title, then the page name alone, then the
        day), ties going to the lowest id, so the answer does not depend on the order the posts arrived in. (None,
        "") when there is none or something else keeps them apart."""
        if record.kind != "post" or not record.url:
            return None, ""
        found_: list[tuple[int, str, str]] = []  # (rank of the evidence, work, what is said)
        for key in _page_keys(record.url):
            for found in self.by_page.get(key, ()):
                w = self.works[found]
                urls = [u for u in _urls(w) if key in _page_keys(u)]
                if not any(_same_folders(u, record.url) for u in urls):
                    continue
                against = self._against(w, record)
                relisted = against == SAME_SOURCE and self._relisted(w, record)  # its two guids are one post's
                if (against and not relisted) or (not relisted and self._url_veto(w, record)):
                    continue
                same_title = match_text(w.title) == match_text(record.title)
                if len(re.findall(r"[a-z0-9]+", key[2])) >= SLUG_WORDS and not _page_reused(w, record):
                    found_.append((0 if same_title else 1, found, ""))
                    continue
                short = any(_listed_sites(u, record.url) for u in urls) and self._short_page_evidence(w, record)
                if short:
                    found_.append((0 if same_title else 2, found, f" ({short})"))
        if not found_:
            return None, ""
        _, found, evidence = min(found_)
        return found, evidence

    @staticmethod
    def _short_page_evidence(w: Work, record) -> str | None:
        """What makes two pages under a short name (under SLUG_WORDS words) one page: the same title (not generic),
        or both dated within POST_DATE_SLACK with a title word in common that is not a generic one ("Bringing memory
        to Claude" and "Bringing memory to teams at work"): a day is shared by many posts of one organisation."""
        if match_text(w.title) == match_text(record.title) and not _generic(record.title):
            return "a short page name, the same title"
        words = (set(match_text(t).split()) - GENERIC_VOCABULARY - FUNCTION_WORDS for t in (w.title, record.title))
        same_day = w.date and record.date and abs(w.date - _day(record.date)) <= POST_DATE_SLACK
        if same_day and set.intersection(*words):
            return "a short page name, the same day and a title word"
        return None

    @staticmethod
    def _relisted(w: Work, record) -> str | None:
        """Whether a feed lists again, under a new address and guid, a post it listed before (a draft address made
        final, a post moved from /research/ to /news/): the same feed, the same title (not generic), the same site,
        no #fragment (a changelog's entries have their own rule), and evidence besides the title: the same page
        name, or dated within RELIST_WINDOW (measured: copies 0 to 6 days apart; posts of one title in one feed 57
        and 279 days apart, a weekly series 7) with texts that agree (`_texts_agree`) or page names that share a
        word of the title (a slug renamed: /built-multi-agent-research-system and /multi-agent-research-system;
        a series numbered /events/123, /events/130 shares none). Returns the evidence, or None."""
        if (
            record.kind != "post"
            or not str(record.source).startswith("feed:")
            or record.source not in _sources(w)
            or match_text(w.title) != match_text(record.title)
            or _generic(record.title)
            or not (record.url and w.url)
            or urlsplit(record.url).fragment
            or urlsplit(w.url).fragment
            or not (site_family(w.url) & site_family(record.url))
            or _texts_disagree(w, record)
        ):
            return None
        if set(_page_keys(w.url)) & set(_page_keys(record.url)):
            return "re-listed by its feed under a new address of the same page name"
        if not (w.date and record.date):
            return None
        gap = abs(w.date - _day(record.date))
        if gap > RELIST_WINDOW:
            return None
        if _texts_agree(w, record):
            return f"re-listed by its feed under a new address, {gap.days} day(s) apart (the same text)"
        title = set(match_text(record.title).split())
        if _slug_words(w.url) & _slug_words(record.url) & title:
            return f"re-listed by its feed under a new address, {gap.days} day(s) apart (page names alike)"
        return None

    def _url_veto(self, w: Work, record) -> bool:
        """Whether a shared address is no identity here: another arXiv or forum id (two comments on one post), two
        guids of one feed, or two #fragments of one page (a changelog's entries)."""
        if self._conflicting_id(w, record, DISTINCT_IDS):
            return True
        mine = urlsplit(record.url).fragment
        theirs = {urlsplit(u).fragment for u in _urls(w) if canonical_url(u) == canonical_url(record.url)}
        if _guid_source(w) == record.source and self._conflicting_id(w, record, ("feed",)):
            # two guids of one feed are two items, unless both name one #entry of a page under one title: a
            # changelog feed whose generator gives an entry a new guid in a later version (Claude Code's v1.0.68)
            return not (mine and mine in theirs and match_text(w.title) == match_text(record.title))
        if not theirs or mine in theirs:
            return False
        if mine and theirs - {""}:
            return True
        # a page and one of its #entries (a collection page and its changelog items): one only under one title
        return match_text(w.title) != match_text(record.title)

    def _against(self, w: Work, record) -> str | None:
        """What keeps a work and a record of alike titles apart whatever else they share, or None."""
        family = KIND_FAMILY.get(w.kind)
        if family != KIND_FAMILY.get(record.kind):
            return "another kind of work"
        versions = family == "paper" and record.source in VERSIONED_SOURCES
        if record.source in _sources(w) and not versions and not getattr(record, "library", False):
            return SAME_SOURCE
        if self._conflicting_id(w, record, tuple(s for s in record.ids if s not in MANY_IDS and s != "feed")):
            return "a conflicting identifier"
        if _years_apart(w, record):
            return "years apart"
        if family == "post" and _template_texts(w.abstract, record.abstract):
            return "texts naming different addresses (one template, two posts)"
        return None

    def _title_evidence(self, w: Work, record) -> tuple[str | None, str]:
        """(why an equal title is not enough, None when it is; the evidence that made it enough)."""
        against = self._against(w, record)
        relisted = self._relisted(w, record) if against == SAME_SOURCE else None
        if relisted:
            return None, relisted
        if against:
            return against, ""
        family = KIND_FAMILY.get(w.kind)
        generic = _generic(record.title)
        if family == "post":
            return _post_evidence(w, record, generic)
        if w.authors and record.authors:
            if not _people_in_common(w.authors, record.authors, strict=generic):
                return "no author in common", ""
            if generic and not (w.year and record.year == w.year):
                return "a generic title in different years", ""
            return None, "year and an author in common"
        return ("a generic title and no authors to compare", "") if generic else (None, "year, no authors to compare")

    def _presents(self, post_: Work, paper: Work) -> bool:
        """Rule 5: whether a post presents a paper. Its title without a presenting label ("Paper: ...") is the
        paper's, exact or cut short or extended (`_presents`); or, for a post by one of the paper's authors, the
        same words but for function words and plurals (`_same_subject`). A post with authors none of whom wrote the
        paper is linked only by what its text links (rule 5's first sentence). A generic title needs the same title
        on the same day, with a word of its own."""
        if post_.id == paper.id:
            return False
        ours, theirs = self._presented(post_), self._title_words(paper)[0]
        if _generic_words(self._title_words(post_)[0]) or _generic_words(theirs):
            # a short title ("Interpretability Dreams") names many works: the same title on the same day, and words of
            # its own (a title only of words like "Introduction" or "Reply" links nothing)
            same_day = post_.date and paper.date and abs(post_.date - paper.date) <= POST_DATE_SLACK
            own_words = any(word not in GENERIC_VOCABULARY and not word.isdigit() for word in theirs)
            return bool(same_day) and own_words and ours == theirs
        if not post_.authors:
            return _presents(ours, theirs, paper.title)
        if not (paper.authors and _people_in_common(post_.authors, paper.authors)):
            return False
        return _presents(ours, theirs, paper.title) or _same_subject(ours, theirs)

    def _presented(self, w: Work) -> list[str]:
        """A post's title words without a presenting label (_presented_words), computed once per title."""
        key = (w.id, "presented " + w.title)
        if key not in self._words:
            self._words[key] = (_presented_words(w.title), set())
        return self._words[key][0]

    def _title_words(self, w: Work) -> tuple[list[str], set[str]]:
        """A work's title words, in order and as a set (computed once per title)."""
        key = (w.id, w.title)
        if key not in self._words:
            words = match_text(w.title).split()
            self._words[key] = (words, set(words))
        return self._words[key]

    def _near_title_candidates(self, record) -> list[Work]:
        """Posts of another source whose title is the record's cut short or given a subtitle (all the shorter title's
        words, at least NEAR_TITLE_WORDS and not generic, in the longer; the same numbers) and that have the same
        text, dated within POST_WINDOW_TEXT where both are dated: a forum copy of a newsletter issue, a page's
        title on two sites."""
        words = match_text(record.title).split()
        if record.kind != "post" or len(words) < NEAR_TITLE_WORDS:
            return []
        out = []
        for work_id_ in sorted(self.by_title_start.get(words[0], ())):
            w = self.works[work_id_]
            theirs = self._title_words(w)[0]
            shorter, longer = sorted((words, theirs), key=len)
            if (
                theirs == words
                or not _extends(longer, shorter)
                or len(shorter) < NEAR_TITLE_WORDS
                or _generic(" ".join(shorter))
                or _numbers(words) != _numbers(theirs)
                or self._against(w, record)
                or not same_text(w.abstract, record.abstract)
            ):
                continue
            if w.date and record.date and abs(w.date - dt.date.fromisoformat(str(record.date)[:10])) > POST_WINDOW_TEXT:
                continue
            out.append(w)
        return out

    def _small_word_candidates(self, record) -> list[tuple[Work, str]]:
        """Posts of another source whose title is the record's but for function words ("Claude in Amazon Bedrock:
        ..." and "Claude on Amazon Bedrock: ...": the same other words in order, NEAR_TITLE_WORDS at least, not
        generic), with nothing against them (_against; an author in common where both list authors), and the same
        text within POST_WINDOW_TEXT, or both on one organisation's sites within POST_WINDOW_AUTHOR: one post whose
        page was renamed. With (work, evidence) for each."""
        words = match_text(record.title).split()
        content = _content_words(words)
        if record.kind != "post" or len(content) < NEAR_TITLE_WORDS or _generic(record.title):
            return []
        out = []
        for work_id_ in sorted(self.by_content.get(" ".join(content), ())):
            w = self.works[work_id_]
            if (
                self._title_words(w)[0] == words
                or self._against(w, record)
                or (w.authors and record.authors and not _people_in_common(w.authors, record.authors))
                or not (w.date and record.date)
            ):
                continue
            gap = abs(w.date - dt.date.fromisoformat(str(record.date)[:10]))
            sites = record.url and {n for url in _urls(w) for n in site_family(url)} & site_family(record.url)
            if same_text(w.abstract, record.abstract) and gap <= POST_WINDOW_TEXT and _own_text(record):
                out.append((w, f"the same text, {gap.days} day(s) apart"))
            elif sites and gap <= POST_WINDOW_AUTHOR:
                out.append((w, f"one organisation's sites, {gap.days} day(s) apart"))
        return out

    def _renamed_candidates(self, record) -> list[tuple[Work, str]]:
        """Papers of another source (or OpenAlex's other version) whose title changed between versions (arXiv v1's
        title on another site): found by their authors' surnames or by their abstract's opening, not years apart
        (_years_apart), with the same numbers in the title and no conflicting identifier, and the evidence of
        _renamed_evidence."""
        if KIND_FAMILY.get(record.kind) != "paper":
            return []
        words = set(match_text(record.title).split())
        hits: dict[str, int] = {}  # work -> surnames of the record's authors it shares
        for name in {_surname(name) for name in record.authors}:
            for work_id_ in self.by_author.get(name, ()):
                hits[work_id_] = hits.get(work_id_, 0) + 1
        first = self.by_author.get(_surname(record.authors[0]), set()) if record.authors else set()
        chosen = {i for i, n in hits.items() if n >= 2 or i in first}  # the first author or several in common
        chosen |= {i for run in _opening_runs(record.abstract) for i in self.by_opening.get(run, ())}
        out = []
        for work_id_ in sorted(chosen):
            w = self.works[work_id_]
            theirs = self._title_words(w)[1]
            if (
                KIND_FAMILY.get(w.kind) != "paper"
                or theirs == words
                or not ((words & theirs) - GENERIC_VOCABULARY or work_id_ in first)  # every rule needs one of these
                or (record.source in _sources(w) and record.source not in VERSIONED_SOURCES)
                or _numbers(words) != _numbers(theirs)
                or _years_apart(w, record)
                or self._conflicting_id(w, record, tuple(s for s in record.ids if s not in MANY_IDS))
            ):
                continue
            evidence = _renamed_evidence(w, record, (theirs, words))
            if evidence:
                out.append((w, evidence))
        return out

    def _near_paper_candidates(self, record) -> list[Work]:
        """Papers whose title is the record's cut short or extended (all the shorter title's words, NEAR_PAPER_WORDS
        at least and not generic, in order in the longer, which opens the same way) or the same long title with one
        word changed (both dated); the same numbers, nothing against them (_against), and an author in common where
        both list authors."""
        words = match_text(record.title).split()
        if KIND_FAMILY.get(record.kind) != "paper" or len(words) < NEAR_PAPER_WORDS:
            return []
        out = []
        for work_id_ in sorted(self.by_paper_start.get(words[0], ())):
            w = self.works[work_id_]
            theirs = self._title_words(w)[0]
            shorter, longer = sorted((words, theirs), key=len)
            near = len(shorter) >= NEAR_PAPER_WORDS and _extends(longer, shorter)
            dated = bool(w.year and record.year)  # a word changed is weaker: the years must be known (and close)
            if (
                theirs == words
                or not (near or (dated and _one_word_changed(words, theirs)))
                or _generic(" ".join(shorter))
                or _numbers(words) != _numbers(theirs)
                or self._against(w, record)
                or (w.authors and record.authors and not _people_in_common(w.authors, record.authors))
            ):
                continue
            out.append(w)
        return out

    @staticmethod
    def _conflicting_id(w: Work, record, schemes=None) -> str | None:
        """The kind of identifier (among schemes; all when None) the work and the record hold different values of,
        or None. A preprint server's DOI beside a publisher's is no conflict: they name two versions of one paper."""
        for scheme, value in record.ids.items():
            theirs = w.ids.get(scheme)
            if theirs is None or (schemes is not None and scheme not in schemes):
                continue
            if identity(scheme, theirs) == identity(scheme, value) or (scheme == "feed" and _same_guid(theirs, value)):
                continue
            if scheme == "doi" and (PREPRINT_DOI.match(theirs) or PREPRINT_DOI.match(value)):
                continue
            return scheme
        return None

    def add_all(self, records) -> list[str | None]:
        """Merge records in a canonical order (the earliest first: an original before its cross-posts, a preprint
        before its published version; then by source, identifiers and title), so that one import's outcome does
        not depend on the order its sources or their answers came in. Returns the work of each record, in the
        order given."""
        order = sorted(range(len(records)), key=lambda n: _arrival_key(records[n]))
        out: list[str | None] = [None] * len(records)
        for n in order:
            out[n] = self.add(records[n])
        given = {work: n for n, work in reversed(list(enumerate(out)))}  # the report lists them as they were given
        self.report.added.sort(key=lambda work: given.get(work, len(out)))
        return out

    def add(self, record) -> str | None:
        """Merge one record; returns the id of the work it became or joined (None: it was unusable)."""
        from pydantic import ValidationError

        record = _cleaned(record)
        marked = next((f for f, v in _one_line_fields(record) if has_markup(v)), None)
        if marked:  # kb validate would refuse the work: this record is skipped, not the whole import
            self.report.errors.append(f"{record.source}: skipped {record.title[:80]!r}: its {marked} looks like markup")
            return None
        try:
            return self._add(record)
        except ValidationError as e:  # one bad record is reported and skipped; the rest go on
            problems = "; ".join(
                ": ".join(x for x in (".".join(map(str, err["loc"])), err["msg"]) if x) for err in e.errors()
            )
            self.report.errors.append(f"{record.source}: skipped {record.title[:80]!r}: {problems}")
            return None

    def _add(self, record) -> str:
        for name, profile in (getattr(record, "author_profiles", None) or {}).items():
            self.author(name, **profile)
        found, how = self.match(record)
        if found is None or how is None:  # match gives both or neither
            return self._new(record)
        work = self.works[found]
        updates, contributed = self._filled(work, record)
        extra, fields = merge_extras.extra_updates(
            work, record
        )  # categories, dated citation count (kb.ingest.merge_extras)
        updates.update(extra)
        contributed += fields
        if how.startswith(("same identifier", "same address")):  # the source's own record of the work, not a
            # look-alike found by its title, may correct what the source gave (_edits checks that it gave it)
            edits = self._edits(work, record)
            updates.update(edits)
            changed = [name for name in EDITABLE if name in edits]
            contributed += [name for name in changed if name not in contributed]
            if changed:
                self.report.edited[found] = list(dict.fromkeys([*self.report.edited.get(found, []), *changed]))
        self._remember_links(found, record)
        first_time = record.source not in _sources(work)  # each source's first merge says by which rule
        if not contributed and not first_time:
            self.report.skipped.append(found)
            return found
        provenance = [
            *work.provenance,
            Provenance(source=record.source, fetched_at=self.today, fields=contributed, matched_by=how),
        ]
        self.works[found] = self._validated(work, {**updates, "provenance": provenance})
        if "title" in updates:
            self.by_title[match_text(work.title)].remove(found)
        self._index(self.works[found])
        self.report.merged.append((found, how))
        if found not in self.report.added and found not in self.report.updated:
            self.report.updated.append(found)
        return found

    def _filled(self, work: Work, record) -> tuple[dict, list[str]]:
        """What a record adds to the work it matched, and the fields it contributed: identifiers and addresses the
        work lacks, empty fields filled, fuller author lists, a withdrawal."""
        updates: dict = {}
        contributed: list[str] = []
        ids = dict(work.ids)
        for scheme, value in record.ids.items():
            if scheme not in ids:
                ids[scheme] = value
                contributed.append(f"ids.{scheme}")
        if ids != work.ids:
            updates["ids"] = ids
        urls = self._more_urls(work, record)
        if urls != work.urls:
            updates["urls"] = urls
            contributed.append("urls")
        for name in FILLABLE:
            value = getattr(record, name, None)
            if getattr(work, name) not in (None, "") or value in (None, ""):
                continue
            year = updates.get("year", work.year)
            if name == "date" and year and not str(value).startswith(str(year)):
                continue  # another version's date (a preprint's, years one apart): no date beats a wrong one
            updates[name] = value
            contributed.append(name)
            if name == "abstract":  # an abstract says which version it is: the source that gave it
                updates["abstract_source"] = record.source
        if record.authors and (
            not work.authors
            or (work.more_authors and not record.more_authors and len(record.authors) > len(work.authors))
        ):
            updates.update(authors=list(record.authors), more_authors=record.more_authors)
            contributed.append("authors")
        if record.withdrawn and not work.withdrawn:
            updates["withdrawn"] = True
            contributed.append("withdrawn")
        return updates, contributed

    def _new(self, record) -> str:
        base = work_id(record.title, record.year)
        new_id, n = base, 2
        while new_id in self.works:
            new_id, n = f"{base}-{n}", n + 1
        data = {
            "id": new_id,
            "kind": record.kind,
            "title": record.title,
            "authors": list(record.authors),
            "more_authors": record.more_authors,
            "withdrawn": record.withdrawn,
            "ids": dict(record.ids),
            **{k: getattr(record, k) for k in FILLABLE if getattr(record, k, None) not in (None, "")},
            **({"abstract_source": record.source} if record.abstract else {}),
            **merge_extras.new_fields(record),
            "provenance": [{"source": record.source, "fetched_at": self.today.isoformat()}],
        }
        if data.get("date") and data.get("year") and not str(data["date"]).startswith(str(data["year"])):
            data.pop("date")
        work = Work.model_validate(data)
        self.works[new_id] = work
        self._index(work)
        self.report.added.append(new_id)
        self._remember_links(new_id, record)
        return new_id

    @staticmethod
    def _edits(work: Work, record) -> dict:
        """The title, authors and abstract the source now gives differently, where this source is the one that gave
        the work's value (it made the work, or its provenance lists the field as this source's last): a curated
        work, or a value another source or a person gave, is never changed."""
        made = work.provenance[0] if work.provenance else None  # an import made the work: no fields, no match
        if made is None or made.fields or made.matched_by or any(p.source == "curated" for p in work.provenance):
            return {}  # written by hand: no source's edit changes it
        edits = {}
        for name in EDITABLE:
            value = list(record.authors) if name == "authors" else getattr(record, name, None)
            if value in (None, "", []) or value == getattr(work, name):
                continue
            owners = [made.source] + [p.source for p in work.provenance[1:] if name in p.fields]
            if owners[-1] == record.source:
                edits[name] = value
        if "authors" in edits:
            edits["more_authors"] = record.more_authors
        if "abstract" in edits:
            edits["abstract_source"] = record.source
        return edits

    @staticmethod
    def _more_urls(work: Work, record) -> dict[str, str]:
        """The work's urls plus the record's, when it is new: a cross-post keeps every address it has."""
        urls = dict(work.urls)
        url = record.url
        if not url or not canonical_url(url) or canonical_url(url) in {canonical_url(u) for u in _urls(work)}:
            return urls
        name = base = urlsplit(url).netloc.lower().removeprefix("www.")
        n = 2
        while name in urls:
            name, n = f"{base} {n}", n + 1
        urls[name] = url
        return urls

    def _validated(self, work: Work, updates: dict) -> Work:
        return Work.model_validate({**work.model_dump(), **updates})

    def _remember_links(self, work: str, record) -> None:
        links = list(getattr(record, "links", []) or [])
        if KIND_FAMILY.get(record.kind) == "post":  # rule 4: what a post links, it discusses
            known = {(link.scheme, link.value) for link in links}
            text = " ".join(x for x in (record.abstract, getattr(record, "body", None)) if x)
            links += [_Link("discusses", s, v) for s, v in linked_ids(text) if (s, v) not in known]
        for link in links:
            self._pending_links.append((work, link, record.source))

    def resolve_links(self) -> None:
        """Relations name their target by an identifier; they are added once every record is in."""
        reference_lists: dict[str, tuple[str, list]] = {}  # a record's "cites" links replace the work's whole
        for source, link, origin in self._pending_links:
            if link.type == merge_extras.CITES:
                reference_lists.setdefault(source, (origin, []))[1].append(link)
                continue
            target = self.lookup(link.scheme, link.value)
            if not target or target == source:
                continue
            work = self.works[source]
            relation = Relation(type=link.type, target=target)
            if relation not in work.relations:
                self.works[source] = self._validated(work, {"relations": [*work.relations, relation]})
                if source not in self.report.added and source not in self.report.updated:
                    self.report.updated.append(source)
        merge_extras.replace_cites(self, reference_lists)
        self._pending_links.clear()
        self._posts_titled_as_papers()

    def _posts_titled_as_papers(self) -> None:
        """Rule 5: a post without authors under a paper's title (the exact title, or the title cut short or extended:
        `_presents`) is a page about that paper, a lab's page presenting its paper or another's post about it: it
        `discusses` the paper and stays its own work, keeping its own address and text (CONTRIBUTING.md says why).
        Looked at for the works this run touched, on either side, so the order they came in does not matter."""
        touched = set(self.report.added) | set(self.report.updated)
        for work_id_ in sorted(touched):
            w = self.works[work_id_]
            words = self._title_words(w)[0]
            post_side = w.kind == "post"
            if post_side:
                words = self._presented(w)
            if not words or not (post_side or KIND_FAMILY.get(w.kind) == "paper"):
                continue
            # the other side's index only: a page's papers, or a paper's posts (an import holds thousands of posts)
            near = (self.by_paper_start if post_side else self.by_title_start).get(words[0], set())
            alike = [self.works[i] for i in dict.fromkeys([*self.by_title.get(" ".join(words), []), *sorted(near)])]
            if post_side:
                pairs = [(w, other) for other in alike if KIND_FAMILY.get(other.kind) == "paper"]
            else:
                pairs = [(other, w) for other in alike if other.kind == "post"]
            pairs = [(post_, paper) for post_, paper in pairs if self._presents(post_, paper)]
            for post_, paper in pairs:
                if post_.year and paper.year and abs(post_.year - paper.year) > 1:
                    continue
                relation = Relation(type="discusses", target=paper.id)
                if relation not in self.works[post_.id].relations:
                    current = self.works[post_.id]
                    self.works[post_.id] = self._validated(current, {"relations": [*current.relations, relation]})
                    if post_.id not in self.report.added and post_.id not in self.report.updated:
                        self.report.updated.append(post_.id)

    def author(self, name: str, **facts) -> None:
        """Record facts about an author (a Scholar id, a LessWrong name) in data/authors.jsonl."""
        name = " ".join(safe(name).split())
        facts = {k: safe(v) for k, v in facts.items() if v}
        if not facts:
            return
        key = next(
            (a.id for a in self.authors.values() if author_id(name) in {author_id(n) for n in (a.name, *a.aliases)}),
            None,
        )
        if key is None:
            key = author_id(name)
            self.authors[key] = Author(id=key, name=name, **facts)
        else:
            current = self.authors[key]
            missing = {k: v for k, v in facts.items() if getattr(current, k) in (None, "")}
            if missing:
                self.authors[key] = Author.model_validate({**current.model_dump(), **missing})

    def dataset(self, ds: Dataset) -> Dataset:
        return Dataset(
            root=ds.root,
            works=list(self.works.values()),
            authors=list(self.authors.values()),
            techniques=ds.techniques,
            motivations=ds.motivations,
            summaries=ds.summaries,
        )
