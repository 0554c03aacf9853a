"""Phase one of a site build: the catalogue -> one plain context per page (dicts, no ORM objects).

Everything here is deterministic: lists are sorted and the build date is passed in, so the same
catalogue gives the same pages, and a page whose context did not change need not be rendered again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import chain

from kb import export, similarity
from kb.query import CURATED, MOTIVATION_STATUSES, STATUS_WORDS, WORK_STATUSES
from kb.tree import Tree
from kb.website.markup import html_text, markdown, paragraphs, plain

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
    # What makes what the context is made from, when that is much cheaper than the context itself: a page whose key
    # is unchanged is not rendered, and its context never made (work pages; citation files). The code that makes
    # contexts is not in the key: render's assets digest covers it.
    key: Callable[[], object] | None = None
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


@dataclass(frozen=True)
class Sources:
    """What the pages are made from, digested for the next build: `inputs`, everything every page may show (the
    site's counts, the taxonomy, the authors, the experiments, the configuration), and a digest of each work (its
    record as exported, with its cite key). An incremental build whose inputs are unchanged need look again only at
    the pages naming a work whose digest changed, or whose list of works changed (Page.works). `cards`: a digest of
    each work's brief, all that the other works' pages show of it (its card) and more (every tag, which ranks
    related works): while no brief changed, no work page but the changed works' own can change: only those are
    made."""

    inputs: str
    works: dict[str, str]
    card: Callable[[str], str] | None = None  # a work's brief's digest, made when asked: see cards

    def cards(self, old: Mapping[str, str], changed: Set[str]) -> dict[str, str]:
        """Every work's brief's digest, `old` where the work's record did not change (a brief is made from it)."""
        assert self.card is not None, "sources that know the works' briefs"
        return {i: old[i] if i in old and i not in changed else self.card(i) for i in self.works}


def sources(
    catalogue: Mapping, config: SiteConfig, results: list[dict] | None = None
) -> tuple[Sources, Callable[..., Iterator[Page]]]:
    """The site's Sources, and what makes its pages over the same index (called with `related`, as iter_pages)."""
    index = _Index.of(catalogue, config, results)
    whole = (index.site, config, catalogue["techniques"], catalogue["motivations"], catalogue["authors"])
    inputs = digest(pickle.dumps((*whole, index.experiments), protocol=5))
    works = {i: digest(d + index.cite_keys[i].encode()) for i, d in index.recorded.items()}
    return Sources(inputs, works, lambda i: index.works[i].digest()), partial(_pages_of, index)


def digest(data: bytes) -> str:
    """The site's one fingerprint of bytes (pages, page lists, search records, sources), kept in its manifest."""
    return hashlib.blake2b(data, digest_size=10).hexdigest()


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
    changed without making any of them; the other pages' contexts too are made only when they are rendered."""
    return _pages_of(_Index.of(catalogue, config, results), related)


def _pages_of(
    index: _Index, related: dict[str, list[str]] | None = None, only: Set[str] | None = None
) -> Iterator[Page]:
    """The site's pages; `only`: the works whose own pages are made (None: every work's), the others' being
    carried over by the caller unchanged (their records are not read). Those come first: the search records that
    changed are theirs, and the search index starts on them while the other pages are looked at (render._batches)."""
    if related is None:
        related = similarity.by_techniques(list(index.works.values()), only=only)
    paths: list[str] = []  # for the sitemap, last
    works = _work_pages(index, related, only)
    generators = (
        *([works] if only is not None else []),
        _home_pages(index),
        _technique_pages(index),
        _motivation_pages(index),
        _author_pages(index),
        *([works] if only is None else []),
        _site_feed(index),
    )
    for page in chain.from_iterable(generators):
        paths.append(page.path)
        yield page
    if only is not None:  # the pages of the works not made: the sitemap lists every page
        paths += (work_paths(i)[0] for i in index.works if i not in only)
    yield _sitemap(index, paths)


WORKS_FOLDER = "works/"  # every work's own pages, and nothing else


def work_paths(work_id: str) -> list[str]:
    """A work's own pages: its page, then its citation files (one a format)."""
    return [f"{WORKS_FOLDER}{work_id}.html", *(f"{WORKS_FOLDER}{work_id}.{ext}" for ext in export.EXTENSIONS.values())]


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
    digests: dict[str, bytes] = field(default_factory=dict)  # work id -> what its citation entries are made from
    recorded: dict[str, bytes] = field(default_factory=dict)  # work id -> its whole record, hashed (see sources)

    @classmethod
    def of(cls, catalogue: Mapping, config: SiteConfig, results: list[dict] | None) -> _Index:
        records = catalogue["works"]
        works: dict[str, _Brief] = {}
        digests: dict[str, bytes] = {}
        shared: dict[object, object] = {}
        recorded: dict[str, bytes] = {}
        for w in records:  # one pass over the records: what lists need of each work is kept, the rest let go
            works[w["id"]] = _Brief(w, shared)
            digests[w["id"]] = _citation_digest(w)
            recorded[w["id"]] = hashlib.blake2b(pickle.dumps(w, protocol=5), digest_size=10).digest()
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
            recorded=recorded,
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
            yield Page(f"{stem}.{ext}", "raw.txt", _text_context(text), key=partial(key, fmt), works=tuple(ids))


def _home_pages(ix: _Index) -> Iterator[Page]:
    """The front page, search, 404, the lists of techniques and motivations, the Methods page."""
    site = ix.site
    yield Page("index.html", "index.html", partial(_home_context, ix), works=None)
    yield Page("search.html", "search.html", {"site": site}, works=())
    yield Page("404.html", "404.html", {"site": site}, works=())
    yield Page("techniques/index.html", "techniques.html", lambda: {"site": site, "tree": ix.tree}, works=None)
    shown = [i for r in ix.experiments for i in dict.fromkeys(r.get("works", [])) if i in ix.works]
    yield Page("methods.html", "methods.html", partial(_methods_context, ix), works=tuple(dict.fromkeys(shown)))
    motivations = lambda: {"site": site, "motivations": ix.motivation_list}  # noqa: E731 (made when rendered)
    yield Page("motivations/index.html", "motivations.html", motivations, works=None)


def _home_context(ix: _Index) -> dict:
    works = ix.works
    recent = sorted(works, key=lambda i: (works[i]["added"] or "", works[i]["year"] or 0, i), reverse=True)[:RECENT]
    return {"site": ix.site, "recent": [ix.card(i) for i in recent], "tree": ix.tree, "motivations": ix.motivation_list}


def _methods_context(ix: _Index) -> dict:
    experiments = [
        dict(
            r,
            works=[ix.card(i) for i in dict.fromkeys(r.get("works", [])) if i in ix.works],
            verdicts=_experiment_brief(r)["verdicts"],
            technique_links=[{"slug": t, "name": ix.tech_names[t]} for t in r["techniques"] if t in ix.tech_names],
        )
        for r in ix.experiments
    ]
    return {"site": ix.site, "experiments": experiments, "caveats": _caveats(ix.experiments)}


def _technique_pages(ix: _Index) -> Iterator[Page]:
    """A page per technique (its subtree's works by year and by citations, its experiments), its works for a
    reference manager, and its feed."""
    for slug, t in ix.techniques.items():
        ids = ix.works_under(slug)
        # the works each experiment re-tests, those the catalogue has
        claims_from = {
            r["experiment"]: [i for i in r.get("works", []) if i in ix.works] for r in ix.results_by_technique[slug]
        }
        suggested = sorted(ix.suggested_for[slug] - set(ids))
        shown = tuple(dict.fromkeys([*ids, *(i for claimed in claims_from.values() for i in claimed), *suggested]))
        context = partial(_technique_context, ix, slug, ids, claims_from, suggested)
        yield Page(f"techniques/{slug}.html", "technique.html", context, search=True, works=shown)
        yield from ix.citation_pages(f"techniques/{slug}", ids, partial(_citations_key, ix, ids))
        title = f"{t['name']} — {ix.config.title}"
        page, path = f"techniques/{slug}.html", f"techniques/{slug}.xml"
        feed = partial(_feed, ix, title, page, path, ids)
        yield Page(f"techniques/{slug}.xml", "feed.xml", feed, works=tuple(ids))


def _technique_context(
    ix: _Index, slug: str, ids: list[str], claims_from: dict[str, list[str]], suggested: list[str]
) -> dict:
    results = ix.results_by_technique[slug]
    return {
        "site": ix.site,
        "technique": ix.techniques[slug],
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
        "suggested": _sort_cards([ix.card(i) for i in suggested]),
    }


def _motivation_pages(ix: _Index) -> Iterator[Page]:
    """A page per motivation: the works whose authors state it, partly state it, and those a reader infers it of,
    each card with the tag's evidence (the authors' quote, or who infers it and why); suggestions apart."""
    for m in ix.motivations:
        shown = tuple(w["id"] for w, _ in ix.by_motivation[m["slug"]] + ix.suggested_motivation[m["slug"]])
        context = partial(_motivation_context, ix, m)
        yield Page(f"motivations/{m['slug']}.html", "motivation.html", context, works=shown)


def _motivation_context(ix: _Index, m: dict) -> dict:
    groups: dict[str, list[dict]] = {status: [] for status in MOTIVATION_STATUSES}
    for w, t in ix.by_motivation[m["slug"]]:
        groups[t["status"]].append(dict(ix.card(w["id"]), tag=t))
    suggested = [dict(ix.card(w["id"]), tag=t) for w, t in ix.suggested_motivation[m["slug"]]]
    return {
        "site": ix.site,
        "motivation": m,
        "stated": _sort_cards(groups["stated"]),
        "partly": _sort_cards(groups["partly-stated"]),
        "inferred": _sort_cards(groups["inferred"]),
        "suggested": _sort_cards(suggested),
    }


def _author_pages(ix: _Index) -> Iterator[Page]:
    """The list of authors, and a page per author with a work in the catalogue."""
    author_works = defaultdict(list)
    for w in ix.works.values():
        for a in w["authors"]:
            author_works[a["id"]].append(w["id"])
    authors = sorted((a for a in ix.authors if author_works[a["id"]]), key=lambda a: (_surname(a["name"]), a["id"]))

    def listed() -> dict:
        counted = [{"id": a["id"], "name": a["name"], "count": len(author_works[a["id"]])} for a in authors]
        return {"site": ix.site, "authors": counted}

    yield Page("authors/index.html", "authors.html", listed, works=None)
    for a in authors:
        ids = author_works[a["id"]]
        yield Page(f"authors/{a['id']}.html", "author.html", partial(_author_context, ix, a, ids), works=tuple(ids))


def _author_context(ix: _Index, a: dict, ids: list[str]) -> dict:
    links = [
        ("Google Scholar", SCHOLAR.format(a["scholar_id"])) if a.get("scholar_id") else None,
        ("LessWrong", LESSWRONG_USER.format(a["lesswrong"])) if a.get("lesswrong") else None,
        ("Homepage", a["homepage"]) if a.get("homepage") else None,
    ]
    return {
        "site": ix.site,
        "author": {k: a.get(k) for k in ("id", "name", "affiliation")},
        "links": [link for link in links if link],
        "works": _sort_cards([ix.card(i) for i in ids]),
    }


def _work_pages(ix: _Index, related: dict[str, list[str]], only: Set[str] | None = None) -> Iterator[Page]:
    """A page per work (per work of `only`), and the work alone in every citation format its page offers."""
    lookups = _Lookups(ix.works, ix.techniques, ix.lineage_names, ix.tech_names, ix.mot_names, ix.entries, ix.tested_in)
    records = ix.records if only is None else ix.fetch(sorted(only & ix.works.keys()))
    for w in records:  # whole records, read a chunk at a time: a batch of pages holds only its own
        referred = [r["id"] for r in w["relations"]] + [r["id"] for r in w["cited_by"]]
        yield Page(
            f"{WORKS_FOLDER}{w['id']}.html",
            "work.html",
            partial(_work_context, w, ix.site, ix.config, lookups, ix.card, related[w["id"]]),
            search=True,
            key=partial(_work_key, ix, w, referred, related[w["id"]]),
            works=tuple(dict.fromkeys([w["id"], *referred, *related[w["id"]]])),
        )
        alone = partial(_citations_key, ix, [w["id"]])
        yield from ix.citation_pages(f"{WORKS_FOLDER}{w['id']}", [w["id"]], alone, [w])


def _work_key(ix: _Index, w: dict, referred: list[str], related: list[str]) -> tuple:
    """Everything a work page is made from: the work as exported, the cards it lists, the names of its tags, its
    citation key and the site. Cheaper than the context (no view, BibTeX or metadata to make): a page whose key is
    unchanged is carried over without its context ever being made."""
    return (
        w,
        ix.site,
        ix.config.base_url,
        ix.config.repo_url,
        ix.cite_keys[w["id"]],
        [(t["slug"], ix.lineage_names[t["slug"]]) for t in w["techniques"]],
        [ix.techniques[t["slug"]]["keywords"] for t in w["techniques"]],
        [ix.mot_names[t["slug"]] for t in w["motivations"]],
        [ix.card(i) for i in referred],
        [ix.card(i) for i in related],
        ix.tested_in.get(w["id"], []),
    )


def _site_feed(ix: _Index) -> Iterator[Page]:
    feed = partial(_feed, ix, ix.config.title, "index.html", "feed.xml", ix.works)
    yield Page("feed.xml", "feed.xml", feed, works=None)


def _sitemap(ix: _Index, paths: list[str]) -> Page:
    def listed() -> dict:  # made when rendered: by then `paths` holds every page
        return {"site": ix.site, "paths": sorted(p for p in paths if p.endswith(".html") and p != "404.html")}

    return Page("sitemap.xml", "sitemap.xml", listed, works=None)


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
_CANONICAL_MARSHAL = 2  # marshal's last format without references to objects met before (3 added them)


class _Brief(Mapping):
    """What lists, cards, keys and filters read of a work (read as brief["title"], like the record it is made from):
    BRIEF_FIELDS, its tags' slugs and who gave them, and whether it has a summary. Slots, not a dict: a third of the
    memory, for one of these per work of the catalogue."""

    __slots__ = (*BRIEF_FIELDS, "techniques", "has_summary")

    def __init__(self, w: Mapping, shared: dict):
        """Equal parts of different works (an author, a tag, a venue) become one object, the first met, kept in
        `shared`: each record read from the catalogue has copies of its own."""

        share = shared.setdefault  # inline, not a helper called per field: a tenth of an incremental build
        for k in BRIEF_FIELDS:
            value = w.get(k)
            if isinstance(value, str):
                value = share(value, value)
            elif isinstance(value, dict):
                value = share(tuple(value.items()), value)
            setattr(self, k, value)
        self.id, self.title = w["id"], w["title"]  # each its own: nothing to share
        self.authors = [share(tuple(a.items()), a) for a in w["authors"]]
        self.motivations = [share(tuple(t.items()), t) for t in w["motivations"]]
        self.techniques = [
            share((("slug", t["slug"]), ("by", t["by"])), {"slug": t["slug"], "by": t["by"]}) for t in w["techniques"]
        ]
        self.has_summary = w["summary"] is not None

    def __getitem__(self, key: str):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def digest(self) -> str:
        """A digest of everything the brief holds (cheaper than its card's, which is made from it).

        Of its content only: its parts are shared with the works read before it, and pickle writes an object met
        twice as a reference to the first, so equal briefs could digest differently from one build to the next
        (every card "changed": every work's pages made). marshal's version 2 has no references, and costs no more
        than pickle (36 against 39 ms per 10,000 briefs; canonical JSON 92)."""
        return digest(marshal.dumps(tuple(getattr(self, k) for k in self.__slots__), _CANONICAL_MARSHAL))

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
# once; above, a process lets its entries go each time they fill this much (at 100,000 works, all of them held was
# 500 MB in each renderer) and makes them again as they are needed.
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


def _feed(ix: _Index, title: str, page: str, path: str, ids: Iterable[str]) -> dict:
    """The feed of the works `ids`: the FEED_SIZE added last (_Index.newest), made when the feed is rendered."""
    newest = ix.newest(ids)
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
        "site": ix.site,
        # a feed changes when an entry does, not with every build: readers would show it all as new
        "updated": max((e["updated"] for e in entries if e["updated"]), default=ix.config.build_date.isoformat()),
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


def fingerprint(page: Page, context: dict | None = None) -> bytes:
    """What decides a page's HTML besides the templates and the code: its template's name and its key, or else
    its context, serialised.

    pickle, not JSON: three times faster, and as deterministic here (contexts are built in a fixed order from
    sorted data; no sets). Two equal contexts whose objects are shared differently pickle differently: that only
    re-renders a page, never keeps a stale one. `context`: the page's, when it is made already."""
    if page.key is not None:
        return pickle.dumps((page.template, page.key()), protocol=5)
    return pickle.dumps((page.template, page.context if context is None else context), protocol=5)


def search_record(template: str, context: dict) -> dict:
    """What the search index holds of a searchable page (a work's or a technique's), made from the context its page
    is rendered from: Pagefind's custom record (content, meta, filters), handed to it instead of HTML it would parse.

    The content is the text a reader searches: what the page's article says, without who assigned each tag or the
    links; meta and filter values become HTML in the search UI, so they pass through `plain`."""
    if template == "technique.html":
        t = context["technique"]
        parts = [t["name"], t["description"], ", ".join(t["keywords"]), *(c["name"] for c in context["children"])]
        return {"content": _joined(parts), "meta": {"title": plain(t["name"])}, "filters": {}}
    w, words = context["work"], context["status_words"]
    filters = {
        "technique": context["technique_filters"],
        "motivation": [context["motivation_names"][t["slug"]] for t in context["curated_motivations"]],
        "x-risk motivation": [words[w["motivation_status"]]],
        "year": [str(w["year"])] if w["year"] else [],
        "kind": [w["kind"]],
    }
    return {
        "content": _joined(_work_text(context)),
        "meta": {"title": plain(w["title"])},
        "filters": {name: [plain(v) for v in values] for name, values in filters.items() if values},
    }


def _work_text(context: dict) -> list[str | None]:
    """A work page's article as text, in the page's order."""
    w = context["work"]
    summary = w["summary"] or {}
    evidence = [
        f"{context['motivation_names'][t['slug']]}: {t.get('reasoning') or t.get('quote') or ''}"
        for t in context["curated_motivations"]
    ]
    return [
        " · ".join(str(x) for x in (w["kind"], w["year"], w["venue"]) if x),
        w["title"],
        w["author_line"],
        ", ".join(context["technique_names"][t["slug"]] for t in context["curated_techniques"]),
        ", ".join(context["technique_aliases"]),
        context["status_words"][w["motivation_status"]],
        *evidence,
        w["abstract"],
        w.get("curator_note"),
        html_text(summary.get("body_html")),
        html_text(summary.get("xrisk_html")),
        html_text(summary.get("opinion_html")),
    ]


def _joined(parts: Iterable[str | None]) -> str:
    """Text parts as one record's content: each a sentence of its own (as Pagefind reads block elements)."""
    return " ".join(" ".join(p.split()) + ("" if p.rstrip().endswith((".", "?", "!")) else ".") for p in parts if p)
