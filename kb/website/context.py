"""Phase one of a site build: the catalogue -> one plain context per page (dicts, no ORM objects).

Everything here is deterministic: lists are sorted and the build date is passed in, so the same
catalogue gives the same pages, and a page whose context did not change need not be rendered again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

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
    catalogue: dict, config: SiteConfig, results: list[dict] | None = None, related: dict[str, list[str]] | None = None
) -> list[Page]:
    """Every page of the site, at once (see iter_pages)."""
    return list(iter_pages(catalogue, config, results, related))


def searchable_count(catalogue: dict) -> int:
    """How many of iter_pages' pages are marked `search`: a page for each work and each technique."""
    return len(catalogue["works"]) + len(catalogue["techniques"])


def iter_pages(
    catalogue: dict,
    config: SiteConfig,
    results: list[dict] | None = None,
    related: dict[str, list[str]] | None = None,
) -> Iterator[Page]:
    """Every page of the site, one at a time: a renderer that writes them as they come holds only a batch of
    contexts, whatever the size of the catalogue (the works themselves are held once, for all pages).

    A work page's context (its view with the summary's Markdown rendered, its BibTeX, its metadata) is made only
    when the page is rendered, in the worker that renders it; its `key` says what it is made from, so that an
    incremental build knows which work pages changed without making any of them."""
    paths: list[str] = []  # for the sitemap, last

    def emit(page: Page) -> Page:
        paths.append(page.path)
        return page

    # the catalogue's works as exported; a work's view (what its own page shows) is made only with its page
    works = {w["id"]: w for w in catalogue["works"]}
    techniques = {t["slug"]: t for t in catalogue["techniques"]}
    taxonomy = Tree.of(catalogue["techniques"])
    children = taxonomy.children
    subtree = {slug: taxonomy.subtree(slug) for slug in techniques}
    by_technique = defaultdict(set)  # curated tags only: a suggestion lists no work under a technique ...
    suggested_for = defaultdict(set)  # ... but on its page apart, marked
    for w in works.values():
        for t in w["techniques"]:
            (by_technique if t["by"] in CURATED else suggested_for)[t["slug"]].add(w["id"])
    results_by_technique = defaultdict(list)
    for r in results or []:
        for slug in r.get("techniques", []):
            results_by_technique[slug].append(r)
    experiments = sorted(results or [], key=lambda r: r["experiment"])
    tested_in = defaultdict(list)  # work id -> the experiments that re-test its claims, with their verdicts
    for r in experiments:
        for work_id in dict.fromkeys(r.get("works", [])):
            tested_in[work_id].append(_experiment_brief(r))

    cite_keys = export.cite_keys(list(works.values()))  # over the whole catalogue, so keys are unique site-wide
    entries = export.Entries(works, cite_keys)
    digests: dict[str, bytes] = {}

    def digest(work_id: str) -> bytes:
        """What a work's citation entries are made from, hashed."""
        if work_id not in digests:
            cited = [works[work_id].get(f) for f in export.CITED_FIELDS]
            digests[work_id] = hashlib.blake2b(pickle.dumps(cited, protocol=5), digest_size=12).digest()
        return digests[work_id]

    cards: dict[str, dict] = {}

    def card(work_id: str) -> dict:
        """The short form of a work that lists show; one shared dict per work."""
        if work_id not in cards:
            w = works[work_id]
            cards[work_id] = {k: w[k] for k in ("id", "title", "year", "kind", "venue", "more_authors")} | {
                "author_line": _author_line(w),
                "techniques": [
                    {"slug": t["slug"], "name": techniques[t["slug"]]["name"]}
                    for t in w["techniques"]
                    if t["by"] in CURATED
                ],
                "suggested": [t["slug"] for t in w["techniques"] + w["motivations"] if t["by"] not in CURATED],
                "motivation_status": w["motivation_status"],
                "has_summary": w["summary"] is not None,
                "added": w["added"],
                "citations": w.get("citation_count"),
            }
        return cards[work_id]

    under: dict[str, list[str]] = {}

    def works_under(slug: str) -> list[str]:
        if slug not in under:
            ids = {i for s in subtree[slug] for i in by_technique[s]}
            under[slug] = sorted(ids, key=lambda i: (-(works[i]["year"] or 0), i))
        return under[slug]

    site = {
        "title": config.title,
        "build_date": config.build_date.isoformat(),
        "base_url": config.base_url,
        "counts": {
            "works": len(works),
            "summaries": sum(1 for w in works.values() if w["summary"]),
            "authors": len(catalogue["authors"]),
            "techniques": len(techniques),
        },
    }
    tree = [
        {"slug": t["slug"], "name": t["name"], "depth": t["depth"], "count": len(works_under(t["slug"]))}
        for t in (techniques[s] for s in taxonomy.depth_first())
    ]
    # slug -> (work, its tag) for each work a person tagged with it, in catalogue order; suggestions apart
    by_motivation: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    suggested_motivation: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for w in works.values():
        for t in w["motivations"]:
            (by_motivation if t["by"] in CURATED else suggested_motivation)[t["slug"]].append((w, t))
    motivations = [
        {
            "slug": m["slug"],
            "name": m["name"],
            "description": m["description"],
            "count": len(by_motivation[m["slug"]]),
            "stated": sum(t["status"] == "stated" for _, t in by_motivation[m["slug"]]),
        }
        for m in catalogue["motivations"]
    ]
    tech_names = {s: t["name"] for s, t in techniques.items()}
    mot_names = {m["slug"]: m["name"] for m in catalogue["motivations"]}
    lineage_names = {slug: [tech_names[a] for a in taxonomy.lineage(slug)] for slug in techniques}
    lookups = _Lookups(works, techniques, lineage_names, tech_names, mot_names, entries, dict(tested_in))
    recent = sorted(works, key=lambda i: (works[i]["added"] or "", works[i]["year"] or 0, i), reverse=True)[:RECENT]

    yield emit(
        Page(
            "index.html",
            "index.html",
            {"site": site, "recent": [card(i) for i in recent], "tree": tree, "motivations": motivations},
        )
    )
    yield emit(Page("search.html", "search.html", {"site": site}))
    yield emit(Page("404.html", "404.html", {"site": site}))
    yield emit(Page("techniques/index.html", "techniques.html", {"site": site, "tree": tree}))
    yield emit(
        Page(
            "methods.html",
            "methods.html",
            {
                "site": site,
                "experiments": [
                    dict(
                        r,
                        works=[card(i) for i in dict.fromkeys(r.get("works", [])) if i in works],
                        verdicts=_experiment_brief(r)["verdicts"],
                        technique_links=[
                            {"slug": t, "name": tech_names[t]} for t in r["techniques"] if t in tech_names
                        ],
                    )
                    for r in experiments
                ],
                "caveats": _caveats(experiments),
            },
        )
    )
    yield emit(Page("motivations/index.html", "motivations.html", {"site": site, "motivations": motivations}))

    for slug, t in techniques.items():
        ids = works_under(slug)
        ancestors = [{"slug": a, "name": tech_names[a]} for a in taxonomy.ancestors(slug)]
        yield emit(
            Page(
                f"techniques/{slug}.html",
                "technique.html",
                {
                    "site": site,
                    "technique": t,
                    "ancestors": ancestors,
                    "children": [
                        {"slug": c, "name": tech_names[c], "count": len(works_under(c))} for c in children.get(slug, [])
                    ],
                    "by_year": _by_year([card(i) for i in ids]),
                    "kinds": sorted({works[i]["kind"] for i in ids}),
                    "statuses": [x for x in WORK_STATUSES if any(card(i)["motivation_status"] == x for i in ids)],
                    "status_words": STATUS_WORDS,
                    "caveats": _caveats(results_by_technique[slug]),
                    "most_cited": _most_cited([card(i) for i in ids]),
                    "results": sorted(results_by_technique[slug], key=lambda r: r["experiment"]),
                    "suggested": _sort_cards([card(i) for i in sorted(suggested_for[slug] - set(ids))]),
                    # the works each experiment re-tests, those the catalogue has
                    "claims_from": {
                        r["experiment"]: [card(i) for i in r.get("works", []) if i in works]
                        for r in results_by_technique[slug]
                    },
                },
                search=True,
            )
        )
        for fmt, ext in export.EXTENSIONS.items():  # the technique's works for a reference manager
            key = (fmt, [(i, cite_keys[i], digest(i)) for i in ids])
            text = partial(entries.text, fmt, ids)
            yield emit(Page(f"techniques/{slug}.{ext}", "raw.txt", lambda text=text: {"text": text()}, key=key))
        yield emit(
            Page(
                f"techniques/{slug}.xml",
                "feed.xml",
                _feed(
                    site,
                    f"{t['name']} — {config.title}",
                    f"techniques/{slug}.html",
                    f"techniques/{slug}.xml",
                    [works[i] for i in ids],
                    config,
                ),
            )
        )

    for m in catalogue["motivations"]:
        # each card with the tag's evidence: the authors' quote, or who infers it and why
        groups = {status: [] for status in MOTIVATION_STATUSES}
        for w, t in by_motivation[m["slug"]]:
            groups[t["status"]].append(dict(card(w["id"]), tag=t))
        suggested = [dict(card(w["id"]), tag=t) for w, t in suggested_motivation[m["slug"]]]
        yield emit(
            Page(
                f"motivations/{m['slug']}.html",
                "motivation.html",
                {
                    "site": site,
                    "motivation": m,
                    "stated": _sort_cards(groups["stated"]),
                    "partly": _sort_cards(groups["partly-stated"]),
                    "inferred": _sort_cards(groups["inferred"]),
                    "suggested": _sort_cards(suggested),
                },
            )
        )

    author_works = defaultdict(list)
    for w in works.values():
        for a in w["authors"]:
            author_works[a["id"]].append(w["id"])
    authors = sorted(catalogue["authors"], key=lambda a: (_surname(a["name"]), a["id"]))
    yield emit(
        Page(
            "authors/index.html",
            "authors.html",
            {
                "site": site,
                "authors": [
                    {"id": a["id"], "name": a["name"], "count": len(author_works[a["id"]])}
                    for a in authors
                    if author_works[a["id"]]
                ],
            },
        )
    )
    for a in authors:
        if not author_works[a["id"]]:
            continue
        links = [
            ("Google Scholar", SCHOLAR.format(a["scholar_id"])) if a.get("scholar_id") else None,
            ("LessWrong", LESSWRONG_USER.format(a["lesswrong"])) if a.get("lesswrong") else None,
            ("Homepage", a["homepage"]) if a.get("homepage") else None,
        ]
        yield emit(
            Page(
                f"authors/{a['id']}.html",
                "author.html",
                {
                    "site": site,
                    "author": {k: a.get(k) for k in ("id", "name", "affiliation")},
                    "links": [link for link in links if link],
                    "works": _sort_cards([card(i) for i in author_works[a["id"]]]),
                },
            )
        )

    related = related if related is not None else similarity.by_techniques(catalogue["works"])
    for w in works.values():
        referred = [card(r["id"]) for r in w["relations"]] + [card(r["id"]) for r in w["cited_by"]]
        lineages = [(t["slug"], lineage_names[t["slug"]]) for t in w["techniques"]]
        yield emit(
            Page(
                f"works/{w['id']}.html",
                "work.html",
                partial(_work_context, w, site, config, lookups, card, related[w["id"]]),
                search=True,
                # Everything the page is made from: the work as exported, the cards it lists, the names of its
                # tags, its citation key and the site. Cheaper than the context (no view, BibTeX or metadata to
                # make): a page whose key is unchanged is carried over without its context ever being made.
                key=(
                    w,
                    site,
                    config.base_url,
                    config.repo_url,
                    cite_keys[w["id"]],
                    lineages,
                    [techniques[t["slug"]]["keywords"] for t in w["techniques"]],
                    [mot_names[t["slug"]] for t in w["motivations"]],
                    referred,
                    [card(i) for i in related[w["id"]]],
                    tested_in.get(w["id"], []),
                ),
            )
        )
        for fmt, ext in export.EXTENSIONS.items():  # the work alone, in every format its page offers
            text = partial(entries.text, fmt, [w["id"]])
            key = (fmt, w["id"], cite_keys[w["id"]], digest(w["id"]))
            yield emit(Page(f"works/{w['id']}.{ext}", "raw.txt", lambda text=text: {"text": text()}, key=key))

    yield emit(
        Page("feed.xml", "feed.xml", _feed(site, config.title, "index.html", "feed.xml", list(works.values()), config))
    )
    yield Page(
        "sitemap.xml",
        "sitemap.xml",
        {"site": site, "paths": sorted(p for p in paths if p.endswith(".html") and p != "404.html")},
    )


@dataclass(frozen=True)
class _Lookups:
    """What every work page looks things up in: the works, the techniques, their names and their lineages' names (a
    technique's and its ancestors'), the citation entries."""

    works: dict[str, dict]
    techniques: dict[str, dict]
    lineage_names: dict[str, list[str]]
    tech_names: dict[str, str]
    mot_names: dict[str, str]
    entries: export.Entries
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
        "bibtex": look.entries.entry("bibtex", w["id"]).rstrip(),
        "citation_files": {fmt: f"{w['id']}.{ext}" for fmt, ext in export.EXTENSIONS.items()},
        "citation_meta": export.highwire(w, config.base_url),
        "edit_url": _edit_url(config, w),
    }


def _experiment_brief(r: dict) -> dict:
    """An experiment as a work page names it: its name, title and how many claims got each verdict."""
    counts: dict[str, int] = {}
    for c in r["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return {"experiment": r["experiment"], "title": r["title"], "verdicts": sorted(counts.items())}


def _caveats(results: list[dict]) -> list[str]:
    """The notes on the demo models that results carry, each once (several experiments share one model)."""
    return list(dict.fromkeys(r["run"]["model_note"] for r in results if r["run"].get("model_note")))


def _author_line(w: dict) -> str:
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


def _feed(site: dict, title: str, page: str, path: str, works: list[dict], config: SiteConfig) -> dict:
    newest = sorted(works, key=lambda w: (w["added"] or "", w["year"] or 0, w["id"]), reverse=True)[:FEED_SIZE]
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
