"""Phase one of a site build: the catalogue -> one plain context per page (dicts, no ORM objects).

Everything here is deterministic: lists are sorted and the build date is passed in, so the same
catalogue gives the same pages, and a page whose context did not change need not be rendered again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import chain

from kb import export, similarity
from kb.query import CURATED, MOTIVATION_STATUSES, STATUS_WORDS, WORK_STATUSES
from kb.tree import Tree
from kb.website.markup import markdown, paragraphs

SCHOLAR = "https://scholar.google.com/citations?user={}"
LESSWRONG_USER = "https://www.lesswrong.com/users/{}"
ID_LINKS = {
    "arxiv": "https://arxiv.org/abs/{}",
    "doi": "https://doi.org/{}",
    "lesswrong": "https://www.lesswrong.com/posts/{}",
    "alignmentforum": "https://www.alignmentforum.org/posts/{}",
    "openalex": "https://openalex.org/{}",
    "s2": "https://www.semanticscholar.org/paper/{}",
    "openreview": "https://openreview.net/forum?id={}",
    "acl": "https://aclanthology.org/{}",
}
RECENT = 15
FEED_SIZE = 50


@dataclass(frozen=True)
class Page:
    path: str  # relative to the site's root, e.g. "works/geometry-of-truth-2023.html"
    template: str
    made: dict | Callable[[], dict]  # the context, or what makes it when the page has to be rendered
    search: bool = False  # in the search index (its template marks the part Pagefind reads)
    # What the context is made from, when that is much cheaper than the context itself: a page whose key is
    # unchanged is not rendered, and its context never made (work pages; a technique's citation files). The code
    # that makes contexts is not in the key: render's assets digest covers it.
    key: object = None
    # The works whose records the page shows something of (the site's dependency map, see dependencies): an edit
    # to one work's record touches only the pages naming it, and those made from the whole catalogue (None).
    works: tuple[str, ...] | None = None

    @property
    def context(self) -> dict:
        return self.made() if callable(self.made) else self.made

    @property
    def root(self) -> str:
        """The relative way back to the site's root: links work from file:// and under any prefix."""
        return "../" * self.path.count("/")


@dataclass(frozen=True)
class SiteConfig:
    title: str = "safety-kb"
    base_url: str = "http://127.0.0.1:8000/"
    repo_url: str | None = None  # where "edit this summary" points; a local path is shown without it
    build_date: dt.date = dt.date(2026, 1, 1)


def pages(
    catalogue: Mapping,
    config: SiteConfig,
    results: list[dict] | None = None,
    related: dict[str, list[str]] | None = None,
) -> list[Page]:
    """Every page of the site, at once (see iter_pages)."""
    return list(iter_pages(catalogue, config, results, related))


def searchable_count(catalogue: Mapping) -> int:
    """How many of iter_pages' pages are marked `search`: a page for each work and each technique."""
    return len(catalogue["works"]) + len(catalogue["techniques"])


def dependencies(pages: Iterable[Page]) -> tuple[dict[str, list[str]], list[str]]:
    """The site's dependency map: work id -> the paths of the pages that show something of it, and apart the paths
    of the pages made from the whole catalogue (`works` None), which any change may touch."""
    by_work: dict[str, list[str]] = defaultdict(list)
    everywhere: list[str] = []
    for page in pages:
        if page.works is None:
            everywhere.append(page.path)
            continue
        for work_id in page.works:
            by_work[work_id].append(page.path)
    return dict(by_work), everywhere


def iter_pages(
    catalogue: Mapping,
    config: SiteConfig,
    results: list[dict] | None = None,
    related: dict[str, list[str]] | None = None,
) -> Iterator[Page]:
    """Every page of the site, one at a time: a renderer that writes them as they come holds only a batch of
    contexts, whatever the size of the catalogue (the works themselves are held once, for all pages).

    One generator per kind of page, each over the same small index (the works, their cards, the cite keys; see
    _Index), each saying which works every page it makes shows (Page.works). A work page's context (its view with
    the summary's Markdown rendered, its BibTeX, its metadata) is made only when the page is rendered, in the worker
    that renders it; its `key` says what it is made from, so that an incremental build knows which work pages
    changed without making any of them."""
    index = _Index.of(catalogue, config, results)
    related = related if related is not None else similarity.by_techniques(list(index.works.values()))
    paths: list[str] = []  # for the sitemap, last
    generators = (
        _home_pages(index),
        _technique_pages(index),
        _motivation_pages(index),
        _author_pages(index),
        _work_pages(index, related),
        _site_feed(index),
    )
    for page in chain.from_iterable(generators):
        paths.append(page.path)
        yield page
    yield _sitemap(index, paths)


@dataclass
class _Index:
    """What every page generator reads: the works (the fields lists show: see _Brief) and techniques by key, the
    taxonomy, the cite keys and each work's citation digest, the experiments, the `site` block every page shows;
    and, made once on first use, each work's card and each technique's works (its subtree's).

    A work's whole record is not held: the work pages are made from `records` (every work, read a chunk at a time
    from the catalogue, see kb.catalogue.Works), and a list's citation files and feed `fetch` theirs."""

    config: SiteConfig
    works: dict[str, _Brief]  # in id order
    techniques: dict[str, dict]
    motivations: list[dict]  # as the catalogue lists them
    authors: list[dict]
    taxonomy: Tree
    experiments: list[dict]  # sorted by name
    cite_keys: dict[str, str]
    records: Iterable[dict]  # every work as the catalogue exports it, in id order (read again at each iteration)
    fetch: Callable[[list[str]], list[dict]]  # the works with these ids, as the catalogue exports them
    site: dict = field(default_factory=dict)
    # curated tags only: a suggestion lists no work under a technique, but shows on its page apart, marked
    by_technique: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    suggested_for: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    results_by_technique: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    tested_in: dict[str, list[dict]] = field(default_factory=dict)  # work id -> the experiments that re-test it
    cards: dict[str, dict] = field(default_factory=dict)
    under: dict[str, list[str]] = field(default_factory=dict)
    digests: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, catalogue: Mapping, config: SiteConfig, results: list[dict] | None) -> _Index:
        records = catalogue["works"]
        works: dict[str, _Brief] = {}
        digests: dict[str, bytes] = {}
        shared: dict[object, object] = {}
        for w in records:  # one pass over the records: what lists need of each work is kept, the rest let go
            works[w["id"]] = _Brief(w, shared)
            digests[w["id"]] = _citation_digest(w)
        cite_keys = export.cite_keys(list(works.values()))  # over the whole catalogue: keys unique site-wide
        index = cls(
            config=config,
            works=works,
            techniques={t["slug"]: t for t in catalogue["techniques"]},
            motivations=catalogue["motivations"],
            authors=catalogue["authors"],
            taxonomy=Tree.of(catalogue["techniques"]),
            experiments=sorted(results or [], key=lambda r: r["experiment"]),
            cite_keys=cite_keys,
            records=records,
            fetch=getattr(records, "fetch", None) or _fetcher(records),
            digests=digests,
        )
        for w in works.values():
            for t in w["techniques"]:
                (index.by_technique if t["by"] in CURATED else index.suggested_for)[t["slug"]].add(w["id"])
        tested_in = defaultdict(list)
        for r in index.experiments:
            for slug in r.get("techniques", []):
                index.results_by_technique[slug].append(r)
            for work_id in dict.fromkeys(r.get("works", [])):
                tested_in[work_id].append(_experiment_brief(r))
        index.tested_in = dict(tested_in)
        index.site = {
            "title": config.title,
            "build_date": config.build_date.isoformat(),
            "base_url": config.base_url,
            "counts": {
                "works": len(works),
                "summaries": sum(1 for w in works.values() if w["has_summary"]),
                "authors": len(catalogue["authors"]),
                "techniques": len(index.techniques),
            },
        }
        return index

    @cached_property
    def tech_names(self) -> dict[str, str]:
        return {s: t["name"] for s, t in self.techniques.items()}

    @cached_property
    def mot_names(self) -> dict[str, str]:
        return {m["slug"]: m["name"] for m in self.motivations}

    @cached_property
    def lineage_names(self) -> dict[str, list[str]]:
        """A technique's name and its ancestors' (what a work page's filters match)."""
        return {slug: [self.tech_names[a] for a in self.taxonomy.lineage(slug)] for slug in self.techniques}

    @cached_property
    def by_motivation(self) -> dict[str, list[tuple[Mapping, dict]]]:
        """slug -> (work, its tag) for each work a person tagged with it, in catalogue order."""
        return self._motivation_tags(curated=True)

    @cached_property
    def suggested_motivation(self) -> dict[str, list[tuple[Mapping, dict]]]:
        """slug -> (work, its tag) for each work an automatic tagger suggests it for: shown apart, marked."""
        return self._motivation_tags(curated=False)

    def _motivation_tags(self, curated: bool) -> dict[str, list[tuple[Mapping, dict]]]:
        tagged: dict[str, list[tuple[Mapping, dict]]] = defaultdict(list)
        for w in self.works.values():
            for t in w["motivations"]:
                if (t["by"] in CURATED) == curated:
                    tagged[t["slug"]].append((w, t))
        return tagged

    @cached_property
    def tree(self) -> list[dict]:
        """The technique tree depth first, each with its subtree's count of works."""
        return [
            {"slug": t["slug"], "name": t["name"], "depth": t["depth"], "count": len(self.works_under(t["slug"]))}
            for t in (self.techniques[s] for s in self.taxonomy.depth_first())
        ]

    @cached_property
    def motivation_list(self) -> list[dict]:
        return [
            {k: m[k] for k in ("slug", "name", "description")}
            | {
                "count": len(self.by_motivation[m["slug"]]),
                "stated": sum(t["status"] == "stated" for _, t in self.by_motivation[m["slug"]]),
            }
            for m in self.motivations
        ]

    def card(self, work_id: str) -> dict:
        """The short form of a work that lists show; one shared dict per work."""
        if work_id not in self.cards:
            w = self.works[work_id]
            self.cards[work_id] = {k: w[k] for k in ("id", "title", "year", "kind", "venue", "more_authors")} | {
                "author_line": _author_line(w),
                "techniques": [
                    {"slug": t["slug"], "name": self.tech_names[t["slug"]]}
                    for t in w["techniques"]
                    if t["by"] in CURATED
                ],
                "suggested": [t["slug"] for t in w["techniques"] + w["motivations"] if t["by"] not in CURATED],
                "motivation_status": w["motivation_status"],
                "has_summary": w["has_summary"],
                "added": w["added"],
                "citations": w.get("citation_count"),
            }
        return self.cards[work_id]

    def works_under(self, slug: str) -> list[str]:
        """The works tagged with a technique or one below it, newest first."""
        if slug not in self.under:
            ids = {i for s in self.taxonomy.subtree(slug) for i in self.by_technique[s]}
            self.under[slug] = sorted(ids, key=lambda i: (-(self.works[i]["year"] or 0), i))
        return self.under[slug]

    def digest(self, work_id: str) -> bytes:
        """What a work's citation entries are made from, hashed."""
        return self.digests[work_id]

    def newest(self, ids: Iterable[str]) -> list[dict]:
        """The FEED_SIZE works of `ids` added last (then the latest, then by id), their whole records."""
        works = self.works
        newest = sorted(ids, key=lambda i: (works[i]["added"] or "", works[i]["year"] or 0, i), reverse=True)
        return self.fetch(newest[:FEED_SIZE])

    @cached_property
    def entries(self) -> _Entries:
        return _Entries(self.cite_keys, self.fetch)

    def citation_pages(
        self, stem: str, ids: list[str], key: Callable[[str], object], held: list[dict] | None = None
    ) -> Iterator[Page]:
        """The works `ids` for a reference manager, a file per format; `key(fmt)` is what the file is made from.
        Their records are `held`, or fetched when a file is written."""
        for fmt, ext in export.EXTENSIONS.items():
            text = partial(self.entries.text, fmt, ids, held)
            yield Page(f"{stem}.{ext}", "raw.txt", _text_context(text), key=key(fmt), works=tuple(ids))


def _home_pages(ix: _Index) -> Iterator[Page]:
    """The front page, search, 404, the lists of techniques and motivations, the Methods page."""
    works, site = ix.works, ix.site
    recent = sorted(works, key=lambda i: (works[i]["added"] or "", works[i]["year"] or 0, i), reverse=True)[:RECENT]
    home = {"site": site, "recent": [ix.card(i) for i in recent], "tree": ix.tree, "motivations": ix.motivation_list}
    yield Page("index.html", "index.html", home, works=None)
    yield Page("search.html", "search.html", {"site": site}, works=())
    yield Page("404.html", "404.html", {"site": site}, works=())
    yield Page("techniques/index.html", "techniques.html", {"site": site, "tree": ix.tree}, works=None)
    shown = [i for r in ix.experiments for i in dict.fromkeys(r.get("works", [])) if i in works]
    experiments = [
        dict(
            r,
            works=[ix.card(i) for i in dict.fromkeys(r.get("works", [])) if i in works],
            verdicts=_experiment_brief(r)["verdicts"],
            technique_links=[{"slug": t, "name": ix.tech_names[t]} for t in r["techniques"] if t in ix.tech_names],
        )
        for r in ix.experiments
    ]
    methods = {"site": site, "experiments": experiments, "caveats": _caveats(ix.experiments)}
    yield Page("methods.html", "methods.html", methods, works=tuple(dict.fromkeys(shown)))
    motivations = {"site": site, "motivations": ix.motivation_list}
    yield Page("motivations/index.html", "motivations.html", motivations, works=None)


def _technique_pages(ix: _Index) -> Iterator[Page]:
    """A page per technique (its subtree's works by year and by citations, its experiments), its works for a
    reference manager, and its feed."""
    for slug, t in ix.techniques.items():
        ids = ix.works_under(slug)
        results = ix.results_by_technique[slug]
        # the works each experiment re-tests, those the catalogue has
        claims_from = {r["experiment"]: [i for i in r.get("works", []) if i in ix.works] for r in results}
        context = {
            "site": ix.site,
            "technique": t,
            "ancestors": [{"slug": a, "name": ix.tech_names[a]} for a in ix.taxonomy.ancestors(slug)],
            "children": [
                {"slug": c, "name": ix.tech_names[c], "count": len(ix.works_under(c))}
                for c in ix.taxonomy.children.get(slug, [])
            ],
            "by_year": _by_year([ix.card(i) for i in ids]),
            "kinds": sorted({ix.works[i]["kind"] for i in ids}),
            "statuses": [x for x in WORK_STATUSES if any(ix.card(i)["motivation_status"] == x for i in ids)],
            "status_words": STATUS_WORDS,
            "caveats": _caveats(results),
            "most_cited": _most_cited([ix.card(i) for i in ids]),
            "results": sorted(results, key=lambda r: r["experiment"]),
            "claims_from": {name: [ix.card(i) for i in claimed] for name, claimed in claims_from.items()},
            "suggested": _sort_cards([ix.card(i) for i in sorted(ix.suggested_for[slug] - set(ids))]),
        }
        shown = tuple(dict.fromkeys([*ids, *(i for claimed in claims_from.values() for i in claimed)]))
        yield Page(f"techniques/{slug}.html", "technique.html", context, search=True, works=shown)
        yield from ix.citation_pages(f"techniques/{slug}", ids, partial(_citations_key, ix, ids))
        title = f"{t['name']} — {ix.config.title}"
        page, path = f"techniques/{slug}.html", f"techniques/{slug}.xml"
        feed = _feed(ix.site, title, page, path, ix.newest(ids), ix.config)
        yield Page(f"techniques/{slug}.xml", "feed.xml", feed, works=tuple(ids))


def _motivation_pages(ix: _Index) -> Iterator[Page]:
    """A page per motivation: the works whose authors state it, partly state it, and those a reader infers it of,
    each card with the tag's evidence (the authors' quote, or who infers it and why); suggestions apart."""
    for m in ix.motivations:
        groups: dict[str, list[dict]] = {status: [] for status in MOTIVATION_STATUSES}
        for w, t in ix.by_motivation[m["slug"]]:
            groups[t["status"]].append(dict(ix.card(w["id"]), tag=t))
        suggested = [dict(ix.card(w["id"]), tag=t) for w, t in ix.suggested_motivation[m["slug"]]]
        context = {
            "site": ix.site,
            "motivation": m,
            "stated": _sort_cards(groups["stated"]),
            "partly": _sort_cards(groups["partly-stated"]),
            "inferred": _sort_cards(groups["inferred"]),
            "suggested": _sort_cards(suggested),
        }
        shown = tuple(w["id"] for w, _ in ix.by_motivation[m["slug"]] + ix.suggested_motivation[m["slug"]])
        yield Page(f"motivations/{m['slug']}.html", "motivation.html", context, works=shown)


def _author_pages(ix: _Index) -> Iterator[Page]:
    """The list of authors, and a page per author with a work in the catalogue."""
    author_works = defaultdict(list)
    for w in ix.works.values():
        for a in w["authors"]:
            author_works[a["id"]].append(w["id"])
    authors = sorted((a for a in ix.authors if author_works[a["id"]]), key=lambda a: (_surname(a["name"]), a["id"]))
    listed = [{"id": a["id"], "name": a["name"], "count": len(author_works[a["id"]])} for a in authors]
    yield Page("authors/index.html", "authors.html", {"site": ix.site, "authors": listed}, works=None)
    for a in authors:
        links = [
            ("Google Scholar", SCHOLAR.format(a["scholar_id"])) if a.get("scholar_id") else None,
            ("LessWrong", LESSWRONG_USER.format(a["lesswrong"])) if a.get("lesswrong") else None,
            ("Homepage", a["homepage"]) if a.get("homepage") else None,
        ]
        context = {
            "site": ix.site,
            "author": {k: a.get(k) for k in ("id", "name", "affiliation")},
            "links": [link for link in links if link],
            "works": _sort_cards([ix.card(i) for i in author_works[a["id"]]]),
        }
        yield Page(f"authors/{a['id']}.html", "author.html", context, works=tuple(author_works[a["id"]]))


def _work_pages(ix: _Index, related: dict[str, list[str]]) -> Iterator[Page]:
    """A page per work, and the work alone in every citation format its page offers."""
    lookups = _Lookups(ix.works, ix.techniques, ix.lineage_names, ix.tech_names, ix.mot_names, ix.entries, ix.tested_in)
    for w in ix.records:  # whole records, read a chunk at a time: a batch of pages holds only its own
        referred = [r["id"] for r in w["relations"]] + [r["id"] for r in w["cited_by"]]
        lineages = [(t["slug"], ix.lineage_names[t["slug"]]) for t in w["techniques"]]
        yield Page(
            f"works/{w['id']}.html",
            "work.html",
            partial(_work_context, w, ix.site, ix.config, lookups, ix.card, related[w["id"]]),
            search=True,
            # Everything the page is made from: the work as exported, the cards it lists, the names of its
            # tags, its citation key and the site. Cheaper than the context (no view, BibTeX or metadata to
            # make): a page whose key is unchanged is carried over without its context ever being made.
            key=(
                w,
                ix.site,
                ix.config.base_url,
                ix.config.repo_url,
                ix.cite_keys[w["id"]],
                lineages,
                [ix.techniques[t["slug"]]["keywords"] for t in w["techniques"]],
                [ix.mot_names[t["slug"]] for t in w["motivations"]],
                [ix.card(i) for i in referred],
                [ix.card(i) for i in related[w["id"]]],
                ix.tested_in.get(w["id"], []),
            ),
            works=tuple(dict.fromkeys([w["id"], *referred, *related[w["id"]]])),
        )
        alone = partial(_citations_key, ix, [w["id"]])
        yield from ix.citation_pages(f"works/{w['id']}", [w["id"]], alone, [w])


def _site_feed(ix: _Index) -> Iterator[Page]:
    feed = _feed(ix.site, ix.config.title, "index.html", "feed.xml", ix.newest(ix.works), ix.config)
    yield Page("feed.xml", "feed.xml", feed, works=None)


def _sitemap(ix: _Index, paths: list[str]) -> Page:
    listed = sorted(p for p in paths if p.endswith(".html") and p != "404.html")
    return Page("sitemap.xml", "sitemap.xml", {"site": ix.site, "paths": listed}, works=None)


@dataclass(frozen=True)
class _Lookups:
    """What every work page looks things up in: the works, the techniques, their names and their lineages' names (a
    technique's and its ancestors'), the citation entries."""

    works: dict[str, _Brief]
    techniques: dict[str, dict]
    lineage_names: dict[str, list[str]]
    tech_names: dict[str, str]
    mot_names: dict[str, str]
    entries: _Entries
    tested_in: dict[str, list[dict]]  # work id -> the experiments that re-test its claims


def _work_context(
    w: dict,
    site: dict,
    config: SiteConfig,
    look: _Lookups,
    card: Callable[[str], dict],
    related: list[str],
) -> dict:
    """A work page's context: made only when the page is rendered (its key changed, or a full build)."""
    discussion = [
        card(r["id"])
        for r in w["cited_by"]
        if r["type"] in ("replies-to", "discusses") and look.works[r["id"]]["kind"] in ("comment", "post")
    ]
    return {
        "site": site,
        "work": _work_view(w),
        "technique_names": {t["slug"]: look.tech_names[t["slug"]] for t in w["techniques"]},
        # the search filters take curated tags only; a suggestion is shown apart, marked, and filters nothing
        "technique_filters": sorted(
            {name for t in w["techniques"] if t["by"] in CURATED for name in look.lineage_names[t["slug"]]}
        ),
        "motivation_names": {t["slug"]: look.mot_names[t["slug"]] for t in w["motivations"]},
        "experiments": look.tested_in.get(w["id"], []),
        "curated_techniques": [t for t in w["techniques"] if t["by"] in CURATED],
        "suggested_techniques": [t for t in w["techniques"] if t["by"] not in CURATED],
        "curated_motivations": [t for t in w["motivations"] if t["by"] in CURATED],
        "suggested_motivations": [t for t in w["motivations"] if t["by"] not in CURATED],
        # not shown (the page names techniques by their names), but indexed by Pagefind: a search naming a
        # technique by an alias finds the work
        "technique_aliases": sorted(
            {k for t in w["techniques"] if t["by"] in CURATED for k in look.techniques[t["slug"]]["keywords"]},
            key=str.lower,
        ),
        # hand-made relations; the reference list ("cites") has its own section
        "relations": [dict(r, card=card(r["id"])) for r in w["relations"] if r["type"] != "cites"],
        "cited_by": [dict(r, card=card(r["id"])) for r in w["cited_by"] if r["type"] != "cites"],
        "cites": _sort_cards([card(r["id"]) for r in w["relations"] if r["type"] == "cites"]),
        "cited_in_catalogue": _sort_cards([card(r["id"]) for r in w["cited_by"] if r["type"] == "cites"]),
        "discussion": discussion,
        "related": [card(i) for i in related],
        "status_words": STATUS_WORDS,
        "bibtex": look.entries.entry("bibtex", w).rstrip(),
        "citation_files": {fmt: f"{w['id']}.{ext}" for fmt, ext in export.EXTENSIONS.items()},
        "citation_meta": export.highwire(w, config.base_url),
        "edit_url": _edit_url(config, w),
    }


# The fields of a work that lists show, all a site holds of every work at once (its whole record is read when its
# page is made): at 100,000 works the records held whole were most of a build's memory.
BRIEF_FIELDS: tuple[str, ...] = ("id", "kind", "title", "year", "venue", "more_authors", "authors", "motivations")
BRIEF_FIELDS += ("motivation_status", "added", "citation_count")


class _Brief(Mapping):
    """What lists, cards, keys and filters read of a work (read as brief["title"], like the record it is made from):
    BRIEF_FIELDS, its tags' slugs and who gave them, and whether it has a summary. Slots, not a dict: a third of the
    memory, for one of these per work of the catalogue."""

    __slots__ = (*BRIEF_FIELDS, "techniques", "has_summary")

    def __init__(self, w: Mapping, shared: dict):
        """Equal parts of different works (an author, a tag, a venue) become one object, the first met, kept in
        `shared`: each record read from the catalogue has copies of its own."""

        def one(value):
            if isinstance(value, dict):
                return shared.setdefault(tuple(value.items()), value)
            return shared.setdefault(value, value) if isinstance(value, str) else value

        for k in BRIEF_FIELDS:
            setattr(self, k, one(w.get(k)))
        self.id, self.title = w["id"], w["title"]  # each its own: nothing to share
        self.authors = [one(a) for a in w["authors"]]
        self.motivations = [one(t) for t in w["motivations"]]
        self.techniques = [one({"slug": t["slug"], "by": t["by"]}) for t in w["techniques"]]
        self.has_summary = w["summary"] is not None

    def __getitem__(self, key: str):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.__slots__)

    def __len__(self) -> int:
        return len(self.__slots__)


def _citation_digest(w: Mapping) -> bytes:
    """What a work's citation entries are made from, hashed."""
    cited = [w.get(f) for f in export.CITED_FIELDS]
    return hashlib.blake2b(pickle.dumps(cited, protocol=5), digest_size=12).digest()


def _fetcher(records: Iterable[dict]) -> Callable[[list[str]], list[dict]]:
    """`fetch` over records held in memory (an export as a list)."""
    held = {w["id"]: w for w in records}
    return lambda ids: [held[i] for i in ids if i in held]


# Characters of citation entries a process keeps. A work is in the citation files of its techniques and their
# ancestors (3.8 files a format, on average, in generated catalogues): below about 12,000 works every entry is made
# once, as export.Entries makes them; above, a process lets its entries go each time they fill this much (at
# 100,000 works, all of them held was 500 MB in each renderer) and makes them again as they are needed.
ENTRY_CHARS = 64_000_000
# Works fetched at once for a citation file: a technique's list is not fetched whole.
CHUNK_WORKS = 1000


class _Entries:
    """Each work's entry in each citation format, made once and kept while they fit in ENTRY_CHARS; the records of
    works whose entries are not kept are fetched a chunk at a time."""

    def __init__(self, keys: dict[str, str], fetch: Callable[[list[str]], list[dict]]):
        self.keys, self.fetch = keys, fetch
        self._made: dict[tuple[str, str], str] = {}
        self._chars = 0

    def entry(self, fmt: str, w: Mapping) -> str:
        made = self._made.get((fmt, w["id"]))
        if made is None:
            made = export.entry(fmt, w, self.keys[w["id"]])
            if self._chars + len(made) > ENTRY_CHARS:
                self._made.clear()
                self._chars = 0
            self._made[(fmt, w["id"])] = made
            self._chars += len(made)
        return made

    def text(self, fmt: str, ids: list[str], held: list[dict] | None = None) -> str:
        """The citation file of the works `ids` (their records `held`, or else fetched as needed)."""
        made = {i: self._made[(fmt, i)] for i in ids if (fmt, i) in self._made}
        missing = [i for i in ids if i not in made]
        chunks = (self.fetch(missing[k : k + CHUNK_WORKS]) for k in range(0, len(missing), CHUNK_WORKS))
        for w in held if held is not None else chain.from_iterable(chunks):
            made.setdefault(w["id"], self.entry(fmt, w))
        return export.joined(fmt, [made[i] for i in ids if i in made])


def _text_context(text: Callable[[], str]) -> Callable[[], dict]:
    """A raw page's context, made when the page is rendered."""
    return lambda: {"text": text()}


def _citations_key(ix: _Index, ids: list[str], fmt: str) -> tuple:
    """What the citation file of `ids` in format `fmt` is made from: each work's cite key and citation digest."""
    return (fmt, [(i, ix.cite_keys[i], ix.digest(i)) for i in ids])


def _experiment_brief(r: dict) -> dict:
    """An experiment as a work page names it: its name, title and how many claims got each verdict."""
    counts: dict[str, int] = {}
    for c in r["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return {"experiment": r["experiment"], "title": r["title"], "verdicts": sorted(counts.items())}


def _caveats(results: list[dict]) -> list[str]:
    """The notes on the demo models that results carry, each once (several experiments share one model)."""
    return list(dict.fromkeys(r["run"]["model_note"] for r in results if r["run"].get("model_note")))


def _author_line(w: Mapping) -> str:
    return ", ".join(a["name"] for a in w["authors"][:6]) + (
        " et al." if w["more_authors"] or len(w["authors"]) > 6 else ""
    )


def _work_view(w: dict) -> dict:
    view = dict(w)
    view["author_line"] = _author_line(w)
    view["id_links"] = [
        {"scheme": s, "value": v, "url": ID_LINKS[s].format(v) if s in ID_LINKS else None}
        for s, v in sorted(w["ids"].items())
    ]
    if w["summary"]:
        s = w["summary"]
        view["summary"] = dict(
            s, body_html=markdown(s["body"]), xrisk_html=markdown(s["xrisk"]), opinion_html=markdown(s["opinion"])
        )
    view["abstract_html"] = paragraphs(w["abstract"])
    return view


def _feed(site: dict, title: str, page: str, path: str, newest: list[dict], config: SiteConfig) -> dict:
    """A feed of the works `newest` (_Index.newest's)."""
    entries = [
        {
            "id": w["id"],
            "title": w["title"],
            "authors": [a["name"] for a in w["authors"]],
            "published": w["date"],  # a year alone is no date: Atom's published is left out, not made up
            "updated": _updated(w),
            "content": _feed_content(w["summary"]) if (w["summary"] or {}).get("body") else None,
            "summary": w["abstract"] or "",
        }
        for w in newest
    ]
    return {
        "site": site,
        # a feed changes when an entry does, not with every build: readers would show it all as new
        "updated": max((e["updated"] for e in entries if e["updated"]), default=config.build_date.isoformat()),
        "title": title,
        "page": page,
        "path": path,
        "entries": entries,
    }


def _updated(w: dict) -> str | None:
    """When the entry last changed: its summary's last edit, else when it entered data/, else its date (Atom needs
    one: the first of its year at worst)."""
    dates = [d[:10] for d in (w["added"], (w["summary"] or {}).get("updated")) if d]
    return max(dates, default=None) or w["date"] or (f"{w['year']}-01-01" if w["year"] else None)


def _feed_content(summary: dict) -> str:
    """A summary as a feed reader shows it: rendered and whole (a cut could drop its caveats), its status first."""
    status = "Draft summary" if summary.get("status") == "draft" else "Summary"
    parts = [f"<p><em>{status}</em></p>", markdown(summary["body"])]
    if summary.get("xrisk"):
        parts += ["<p><em>Why it matters for catastrophic risk</em></p>", markdown(summary["xrisk"])]
    return "\n".join(parts)


def _edit_url(config: SiteConfig, w: dict) -> str | None:
    if not config.repo_url:
        return None
    path = w["summary"]["path"] if w["summary"] else None
    return (
        f"{config.repo_url.rstrip('/')}/blob/main/{path}"
        if path
        else f"{config.repo_url.rstrip('/')}/blob/main/CONTRIBUTING.md"
    )


def _by_year(cards: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for c in cards:
        groups[c["year"]].append(c)
    return [
        {"year": y, "works": sorted(groups[y], key=lambda c: c["id"])} for y in sorted(groups, key=lambda y: -(y or 0))
    ]


def _most_cited(cards: list[dict]) -> list[dict]:
    """A technique's works with a known global count, most cited first (the other sort order of its page)."""
    return sorted((c for c in cards if c["citations"] is not None), key=lambda c: (-c["citations"], c["id"]))


def _sort_cards(cards: list[dict]) -> list[dict]:
    return sorted(cards, key=lambda c: (-(c["year"] or 0), c["id"]))


def _surname(name: str) -> str:
    return name.split()[-1].lower() if name.split() else ""


def fingerprint(page: Page) -> bytes:
    """What decides a page's HTML besides the templates and the code: its template's name and its key, or else
    its context, serialised.

    pickle, not JSON: three times faster, and as deterministic here (contexts are built in a fixed order from
    sorted data; no sets). Two equal contexts whose objects are shared differently pickle differently: that only
    re-renders a page, never keeps a stale one."""
    return pickle.dumps((page.template, page.context if page.key is None else page.key), protocol=5)
