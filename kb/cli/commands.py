"""The `kb` command: arguments in, one library call, one output function out.

Built on click rather than typer: typer's runtime imports pydantic, which tripled a cold
`kb search`. Heavy modules (SQLModel, pydantic, rich's tables) are imported inside the commands
that need them, so `kb --help` and a cold search start fast (bench/search.py measures it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb.catalogue import SORTS
from kb.cli import common, output
from kb.query import MOST, RELATIONS, WORK_KINDS, YEARS, Query

_KINDS = click.Choice(WORK_KINDS)
_YEAR = click.IntRange(*YEARS)


class _Commands(click.Group):
    """Turns the errors that are facts about the user's data or machine into one-line messages, for every
    command at once: no traceback for a user's mistake."""

    def invoke(self, ctx: click.Context):
        with common.users_mistakes(lambda: ctx.obj):
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data", type=click.Path(path_type=Path), help="The data/ folder (default: the checkout's data/, or $KB_DATA)."
)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    help="The catalogue file (default: build/catalogue.sqlite beside data/, or $KB_DB).",
)
@click.version_option(package_name="safety-kb")
@click.pass_context
def cli(ctx: click.Context, data: Path | None, db: Path | None) -> None:
    """safety-kb: AI-safety literature, its techniques and x-risk motivations."""
    from kb.workspace import Workspace

    ctx.obj = Workspace.find(data, db)


_note = common.note
_fail = common.fail


as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")


@cli.command()
@click.pass_obj
def build(ws) -> None:
    """Build the catalogue from data/ (atomically: on a problem the previous one is kept)."""
    from kb.store.problems import DataProblems

    try:
        counts = ws.build()
    except DataProblems as e:
        output.problems(e.problems)
        _fail(str(e))
    output.built(counts, ws.db_path)


@cli.command()
@click.pass_obj
def validate(ws) -> None:
    """Check all of data/; print each problem as path:line: message (exit 1 on any)."""
    from kb.store import validate as rules

    ds, _ = ws.check()
    problems = rules.check_all(ds)
    output.problems(problems)
    if problems:
        sys.exit(1)
    output.valid(ds)


@cli.command(name="format")
@click.pass_obj
def format_(ws) -> None:
    """Rewrite data/works and data/authors.jsonl in canonical form (sorted by id)."""
    from kb.store.problems import DataProblems

    try:
        ds = ws.update(lambda ds: ds, validate=False)  # written back in canonical form
    except DataProblems as e:  # a record that did not load would be dropped by the rewrite
        output.problems(e.problems)
        _fail("fix these first: formatting would lose the lines that do not load")
    print(f"formatted {len(ds.works)} works and {len(ds.authors)} authors")


# What a query filters by: every listing and the export take these
_FILTERS = (
    click.option("--technique", "-t", help="A technique slug; its sub-techniques count too."),
    click.option("--motivation", "-m", help="An x-risk motivation slug."),
    click.option("--author", "-a", help="An author's name, or a whole part of it."),
    click.option("--since", type=_YEAR, help="From this year on."),
    click.option("--until", type=_YEAR, help="Up to this year."),
    click.option("--kind", type=_KINDS, help="The kind of work."),
    click.option("--venue", help="Part of the venue's name."),
    click.option(
        "--relation",
        type=click.Choice(RELATIONS),
        help="Only works holding this relation (critiques, replicates, extends, ...) to another work; with a search,"
        " the work itself or the work it relates to matches.",
    ),
    click.option(
        "--stated",
        is_flag=True,
        default=None,
        help="Only works whose authors state the motivation (in their words, with catastrophic stakes; partly"
        " stated does not count).",
    ),
    click.option("--include-suggested", is_flag=True, default=None, help="Tag filters take automatic suggestions too."),
)


def _options(*options):
    """One decorator for several click options, in the order given."""

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def filters(limit: int):
    """The options every listing shares."""
    return _options(
        *_FILTERS,
        click.option(
            "--limit",
            "-n",
            type=click.IntRange(min=1, max=MOST),
            default=limit,
            show_default=True,
            help="At most this many works.",
        ),
        click.option(
            "--sort",
            type=click.Choice(list(SORTS)),
            help="Order: newest year first, oldest first, by title, most recently added to data/, or most cited"
            " (the global count; works without one last). Default: best match for a search, newest first for a list.",
        ),
        as_json,
    )


@cli.command()
@click.argument("text")
@click.option("--semantic", is_flag=True, help="Rank by meaning (MiniLM embeddings) instead of words.")
@click.option(
    "--hybrid",
    is_flag=True,
    help="Rank by words and meaning together (reciprocal rank fusion; bench/search_eval.py compares the three).",
)
@filters(limit=common.SEARCH_LIMIT)
@click.pass_obj
def search(ws, text: str, semantic: bool, hybrid: bool, as_json: bool, **query) -> None:
    """Full-text search over titles, abstracts, summaries and authors, best match first.

    TEXT takes words (all must match), "a phrase", prefix*, OR, NOT, and fields title:, author:,
    abstract:, summary:, technique:, motivation: (e.g. title:probe, author:"Neel Nanda"). Technique
    names and their aliases are searched too. An identifier (arXiv id or URL, DOI, LessWrong or
    OpenAlex URL, with or without https://) finds that work. Stop words of a question ("which papers compare
    probes and LAT?") are not required; relation:critiques (or --relation) keeps the works that critique a work
    (also replicates, extends, discusses, replies-to, cites), and a question for related works ("critiques of
    CCS", "CCS failed to replicate") lists them first. With --semantic it is a description in plain words,
    matched by meaning; --hybrid fuses both rankings.
    """
    if semantic or hybrid:
        from kb import catalogue, similarity
        from kb.embeddings import MissingExtra

        rank = similarity.search_by_meaning if semantic else similarity.search_hybrid
        try:
            return output.works(rank(ws, text, Query(**query)), as_json, query=text)
        except MissingExtra as e:
            _note(f"{e}; falling back to full-text search")
        except catalogue.NotFound as e:
            _fail(str(e))
    common.search(ws, as_json, text=text, **query)


@cli.command()
@click.argument("work")
@click.option("--limit", "-n", default=10, show_default=True, help="At most this many works.")
@as_json
@click.pass_obj
def similar(ws, work: str, limit: int, as_json: bool) -> None:
    """The works nearest to WORK by meaning (embeddings), or by shared techniques without the methods extra."""
    from kb import catalogue, similarity

    try:
        output.works(similarity.similar_to(ws, work, limit, note=_note), as_json)
    except catalogue.NotFound as e:
        _fail(str(e))


@cli.group(invoke_without_command=True)
@click.option(
    "--explain",
    "explain",
    metavar="WORK",
    help="Show each suggestion for WORK, its confidence and evidence; write nothing.",
)
@click.option("--rules-only", is_flag=True, help="Use the keyword rules alone (no embeddings).")
@click.pass_context
def tag(ctx, explain: str | None, rules_only: bool) -> None:
    """Suggest techniques and x-risk motivations for every work without curated tags."""
    if ctx.invoked_subcommand:
        return
    ws = ctx.obj
    from kb import catalogue, tagging
    from kb.store.problems import DataProblems

    try:
        if explain:
            return output.suggestions(*tagging.explain(ws, explain, rules_only, note=_note))
        suggestions, changed = tagging.apply(ws, rules_only, note=_note)
    except catalogue.NotFound as e:
        _fail(str(e))
    except DataProblems as e:
        output.problems(e.problems)
        _fail("fix data/ first (kb validate)")
    output.tagged(suggestions, changed)


@tag.command("eval")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option("--rules-only", is_flag=True, help="Measure the keyword rules alone (no embeddings).")
@click.option(
    "--added-since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Measure on the works added to data/ on or after this day (YYYY-MM-DD) alone, held out: "
    "the learned tagger is trained on the others.",
)
@click.option("--work", "works", multiple=True, metavar="WORK", help="Hold out this work too (repeatable).")
@click.option(
    "--works-from",
    type=click.File("r"),
    help="Hold out the works named in this file, one id per line ('#' starts a comment): for example the works"
    " added after the taggers were frozen.",
)
@click.option(
    "--part",
    type=click.Choice(["held-out", "tuning"]),
    help="Which part of the evidence-first tagger's split to measure it on (default held-out; tuning: a training"
    " score). Not with --added-since, --work or --works-from, which name the works instead.",
)
@as_json
@click.pass_obj
def tag_eval(ws, folds: int, rules_only: bool, added_since, works: tuple[str, ...], works_from, part: str, as_json):
    """The evidence-first tagger on curated works it never saw (stated-motivation precision and recall, technique
    macro F1), then precision, recall and F1 per tag of the suggestion taggers, cross-validated (or held out).
    With --added-since, --work or --works-from, both are measured on those works alone, learning from the others."""
    from kb import catalogue, tagging

    since = added_since.date().isoformat() if added_since else None
    if part and (since or works or works_from):
        raise click.UsageError("--part measures a part of the split; --added-since, --work and --works-from name the"
                               " works to measure instead: give one or the other")  # fmt: skip
    if works_from:
        works += _listed_works(ws, works_from)
    try:
        result = tagging.evaluate_catalogue(
            ws, folds, rules_only, note=_note, added_since=since, only=works, part=part or "held-out"
        )
    except catalogue.NotFound as e:
        _fail(str(e))
    output.tag_eval(result, as_json)


def _listed_works(ws, listing) -> tuple[str, ...]:
    """The work ids a --works-from file names, one a line ('#' starts a comment); an id the catalogue does not hold
    fails at its line, a file naming none is a usage error."""
    from kb import catalogue, tagging

    named = tagging.listed_ids(listing)
    if not named:
        raise click.UsageError(f"{listing.name}: names no work (one id a line)")
    with ws.connect() as conn:
        for n, work in named:
            try:
                catalogue.get_work(conn, work)
            except catalogue.NotFound:
                _fail(f"{listing.name}:{n}: no work {work!r} in the catalogue")
    return tuple(work for _, work in named)


@cli.command(name="list")
@filters(limit=50)
@click.pass_obj
def list_(ws, as_json: bool, **query) -> None:
    """List works, newest first (or most cited first), filtered."""
    common.search(ws, as_json, **query)


@cli.command()
@click.argument("work")
@click.option("--provenance", is_flag=True, help="Also say where each record and tag came from.")
@as_json
@click.pass_obj
def show(ws, work: str, provenance: bool, as_json: bool) -> None:
    """One work (by id, arXiv id or DOI): metadata, tags and who gave them, summary, relations."""
    common.show(ws, work, provenance, as_json)


@cli.command(name="export")
@click.argument("text", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["bibtex", "csl-json", "ris"]),
    default="bibtex",
    show_default=True,
    help="BibTeX (Better BibTeX-style keys), CSL-JSON (Zotero, Pandoc) or RIS.",
)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="Write here, not to stdout.")
@_options(*_FILTERS)
@click.pass_obj
def export_(ws, text: str | None, fmt: str, output: Path | None, **query) -> None:
    """Citations of the works matching TEXT and the filters (all works without them), for a reference manager.

    BibTeX keys follow Better BibTeX's default ([auth:lower][shorttitle3_3][year]); arXiv works carry
    eprint and archivePrefix as arXiv recommends.
    """
    from kb import catalogue, export
    from kb.query import QuerySyntaxError

    with ws.connect() as conn:
        try:
            works = catalogue.works_for_export(conn, Query(text=text, limit=None, **query))
        except catalogue.NotFound as e:
            _fail(str(e))
        except QuerySyntaxError as e:
            print(f"error: cannot read the query {text!r}: {e}", file=sys.stderr)
            sys.exit(2)
    rendered = export.render(works, fmt)
    if output:
        output.write_text(rendered, encoding="utf-8")
        print(f"wrote {len(works)} work(s) to {output}", file=sys.stderr)
    else:
        sys.stdout.write(rendered)


@cli.command()
@as_json
@click.pass_obj
def techniques(ws, as_json: bool) -> None:
    """The technique tree, with the number of works under each technique."""
    from kb import catalogue

    with ws.connect() as conn:
        output.technique_tree(catalogue.technique_tree(conn), as_json)


@cli.command()
@as_json
@click.pass_obj
def motivations(ws, as_json: bool) -> None:
    """The x-risk motivations, and for how many works the authors themselves state each."""
    from kb import catalogue

    with ws.connect() as conn:
        output.motivations(catalogue.motivations(conn), as_json)


@cli.command()
@as_json
@click.pass_obj
def stats(ws, as_json: bool) -> None:
    """Counts: works by kind and year, summaries, identifiers, what is still untagged."""
    from kb import catalogue

    with ws.connect() as conn:
        output.stats(catalogue.stats(conn), as_json)


@cli.group()
def summary() -> None:
    """Contributed summaries."""


@summary.command("new")
@click.argument("work")
@click.pass_obj
def summary_new(ws, work: str) -> None:
    """Scaffold data/summaries/WORK.md for you to fill in, then run `kb validate`."""
    from kb.store import datadir, summaries

    try:
        path = summaries.scaffold(datadir.load(ws.data_dir), work)
    except (LookupError, FileExistsError) as e:
        _fail(str(e))
    print(f"wrote {path}\nfill in every {summaries.PLACEHOLDER}, then run: kb validate")


@cli.group()
def site() -> None:
    """The static site: build it, serve it."""


repo_url_opt = click.option(
    "--repo-url", envvar="KB_REPO_URL", help="The repository's web address, for 'edit this summary' links."
)
PREVIEW_URL = "http://127.0.0.1:8000/"  # kb site serve's address, and a build's when no public one is given
site_out = click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: _site beside data/).")


def _site_build(
    ws,
    out: Path | None,
    base_url: str,
    repo_url: str | None,
    date: str | None,
    search: bool = True,
    embed: bool = False,
):
    from kb import website
    from kb.website.render import JournalPending, OutRefused, SiteBuildError

    try:
        report = website.build_workspace(
            ws, out, base_url=base_url, repo_url=repo_url, date=date, search=search, embed=embed
        )
    except OutRefused as e:  # a usage error: the --out given (or the default) is not a site's folder
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except JournalPending as e:  # after the journal: neither the previous site nor the new one yet
        _fail(str(e))
    except SiteBuildError as e:
        _fail(f"{e}\nthe previous site is kept")
    except ValueError as e:  # a --date that is not YYYY-MM-DD
        _fail(str(e))
    except OSError as e:  # a full disk: the build stopped before its exchange
        _fail(f"{common.os_error(e)}; the previous site is kept")
    output.site_built(report)
    return report


@site.command("build")
@site_out
@click.option(
    "--base-url",
    envvar="KB_SITE_URL",
    help="The site's public address (default $KB_SITE_URL): feeds, the sitemap and citation metadata link to it."
    f" Without one the site is a local preview at {PREVIEW_URL}, and its pages give reference managers no address.",
)
@repo_url_opt
@click.option(
    "--date", help="Build date (YYYY-MM-DD) for feeds and footers; default today. Fix it for reproducible output."
)
@click.option(
    "--embed", is_flag=True, help="Compute missing work embeddings first, so related works are ranked by meaning."
)
@click.pass_obj
def site_build(ws, out, base_url, repo_url, date, embed) -> None:
    """Render the catalogue into static HTML with search, feeds and a sitemap."""
    _site_build(ws, out, base_url or PREVIEW_URL, repo_url, date, embed=embed)
    if not base_url:  # said once the site is built: a refused --out is its own one line
        print(
            f"note: no --base-url and no $KB_SITE_URL: a local preview at {PREVIEW_URL} (feeds and the sitemap point"
            " there, work pages give reference managers no address); give the public address to publish it",
            file=sys.stderr,
        )


@site.command("serve")
@site_out
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
@click.option("--watch", is_flag=True, help="Rebuild when data/ or the templates change.")
@repo_url_opt
@click.pass_obj
def site_serve(ws, out, port, watch, repo_url) -> None:
    """Build the site, then serve it on 127.0.0.1 and print its address."""
    from kb.website import serve

    base = f"http://127.0.0.1:{port}/"
    report = _site_build(ws, out, base, repo_url, None)
    try:
        httpd = serve.preview(ws, report.out, port, lambda: _site_build(ws, out, base, repo_url, None), watch)
    except OSError as e:
        _fail(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}; choose another --port")
    print(f"serving {report.out} at {base}  (Ctrl-C to stop)", flush=True)
    serve.run_forever(httpd)


@cli.group(name="import")
def import_() -> None:
    """Import works from Google Scholar, OpenAlex, arXiv, feeds, LessWrong, the Alignment Forum, or a library file."""


def _import(ws, spec: dict) -> None:
    from kb.ingest.imports import run
    from kb.store.problems import DataProblems

    try:
        report, fetched = run(ws, spec)
    except DataProblems as e:
        output.problems(e.problems)
        _fail(str(e))
    output.import_report(report, [fetched], per_source=False)
    if report.errors:
        sys.exit(1)


base_url_opt = click.option(
    "--base-url", help="Another address for the source's API (a mirror, a proxy, a test server)."
)
limit_opt = click.option("--limit", default=1000, show_default=True, help="At most this many records.")


@import_.command("arxiv")
@click.argument("ids", nargs=-1)
@click.option("--query", help="An arXiv search query, e.g. 'ti:probe AND cat:cs.LG'.")
@limit_opt
@base_url_opt
@click.pass_obj
def import_arxiv(ws, ids, query, limit, base_url) -> None:
    """arXiv papers by id (versions collapse to one work) or by query."""
    if not ids and not query:
        _fail("give arXiv ids or --query")
    _import(ws, {"type": "arxiv", "ids": list(ids), "query": query, "limit": limit, "base_url": base_url})


@import_.command("feed")
@click.argument("url")
@click.pass_obj
def import_feed(ws, url) -> None:
    """Any RSS or Atom blog feed."""
    _import(ws, {"type": "feed", "url": url})


@import_.command("lesswrong")
@click.option("--user", help="A user's slug or id: their posts and comments.")
@click.option("--tag", help="A tag's slug: its posts.")
@click.option("--no-comments", is_flag=True, help="With --user, posts only.")
@click.option(
    "--site",
    type=click.Choice(["lesswrong", "alignmentforum"]),
    default="lesswrong",
    show_default=True,
    help="Which forum to ask (an AF post is on LessWrong too, under the same id).",
)
@limit_opt
@base_url_opt
@click.pass_obj
def import_lesswrong(ws, user, tag, no_comments, site, limit, base_url) -> None:
    """LessWrong / Alignment Forum posts, and a user's comments with what they reply to."""
    if not user and not tag:
        _fail("give --user or --tag")
    spec = {"user": user, "tag": tag, "comments": not no_comments, "site": site, "limit": limit}
    _import(ws, {"type": site, **spec, "base_url": base_url})


@import_.command("scholar")
@click.argument("scholar_id")
@click.option(
    "--fill", is_flag=True, help="Also read each publication's page (full author lists; slow, often blocked)."
)
@click.pass_obj
def import_scholar(ws, scholar_id, fill) -> None:
    """A Google Scholar author profile: the person and every publication."""
    _import(ws, {"type": "scholar", "id": scholar_id, "fill": fill})


@import_.command("openalex")
@click.option("--author", help="An author's name (the best match is used).")
@click.option("--id", "author_id", help="An OpenAlex author id (A...).")
@limit_opt
@base_url_opt
@click.option("--key", help="An OpenAlex API key (optional; default $OPENALEX_API_KEY).")
@click.pass_obj
def import_openalex(ws, author, author_id, limit, base_url, key) -> None:
    """An author's works from OpenAlex (the fallback when Google Scholar blocks us)."""
    if not author and not author_id:
        _fail("give --author or --id")
    spec = {"author": author, "author_id": author_id, "limit": limit, "key": key}
    _import(ws, {"type": "openalex", **spec, "base_url": base_url})


@import_.command("bibtex")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_bibtex(ws, path) -> None:
    """A BibTeX or BibLaTeX file (Zotero, Better BibTeX, JabRef, Google Scholar, DBLP)."""
    _import(ws, {"type": "bibtex", "path": str(path)})


@import_.command("csl-json")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_csl_json(ws, path) -> None:
    """A CSL-JSON file (Zotero's CSL JSON export, Better CSL JSON, pandoc)."""
    _import(ws, {"type": "csl-json", "path": str(path)})


@import_.command("ris")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_ris(ws, path) -> None:
    """A RIS file (Zotero, EndNote, Mendeley, a publisher's citation export)."""
    _import(ws, {"type": "ris", "path": str(path)})


@cli.command()
@click.option("--sources", "sources_path", type=click.Path(path_type=Path), help="Default: data/sources.toml.")
@click.pass_obj
def sync(ws, sources_path) -> None:
    """Import every source listed in data/sources.toml, concurrently, with a progress bar."""
    from kb.ingest import imports
    from kb.store.problems import DataProblems
    from kb.store.sources import SourcesProblems, sources

    try:
        specs = sources(sources_path or ws.data_dir / "sources.toml")
    except SourcesProblems as e:  # checked before anything is fetched: each problem with its line
        output.problems(e.problems)
        _fail(str(e))
    if not specs:
        _fail("no sources: list them in data/sources.toml (see CONTRIBUTING.md)")
    with output.counter("sources", len(specs)) as done:
        try:
            report, fetched = imports.sync(ws, specs, on_done=lambda f: done(f.name))
        except DataProblems as e:
            output.problems(e.problems)
            _fail(str(e))
    output.import_report(report, fetched)
    if report.errors:
        sys.exit(1)


@cli.command()
@click.argument("works", nargs=-1)
@click.option(
    "--source",
    "sources",
    type=click.Choice(["arxiv", "openalex"]),
    multiple=True,
    help="Only this source (repeatable).",
)
@click.option("--key", help="An OpenAlex API key (optional; default $OPENALEX_API_KEY).")
@click.option("--mailto", help="A contact address for OpenAlex's polite pool (optional; default $OPENALEX_MAILTO).")
@click.pass_obj
def refresh(ws, works, sources, key, mailto) -> None:
    """Re-read works (default: all with an arXiv id, DOI or OpenAlex id) from arXiv and OpenAlex; fill abstracts,
    categories, dated citation counts and references (cites relations). Curated values are never overwritten."""
    from kb.ingest.refresh import REFRESHERS, UnknownWork, refresh
    from kb.store.problems import DataProblems

    try:
        result = refresh(ws, works, sources or REFRESHERS, key=key, mailto=mailto)
    except UnknownWork as e:
        _fail(str(e))
    except DataProblems as e:
        output.problems(e.problems)
        _fail(str(e))
    output.refreshed(result)
    if result.errors:
        sys.exit(1)


@cli.group()
def methods() -> None:
    """Reference implementations: re-run the claims the literature makes (needs the methods extra)."""


@methods.command("list")
@as_json
def methods_list(as_json: bool) -> None:
    """Each experiment, the works its claims come from, and the claims it tests."""
    from kb.methods.registry import EXPERIMENTS

    output.experiments(list(EXPERIMENTS.values()), as_json)


def _seeds(value: str | None) -> tuple[int, ...] | None:
    """--seeds parsed where click reports errors: a bad value is a usage error naming the option."""
    from kb.methods.registry import parse_seeds

    if value is None:
        return None
    try:
        return parse_seeds(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@methods.command("run")
@click.argument("experiment")
@click.option(
    "--quick",
    is_flag=True,
    help="Fewer seeds and samples, written to results/quick/ (the site shows only full runs) unless --results.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A local Hugging Face model folder (default: the packaged all-MiniLM-L6-v2).",
)
@click.option("--layer", type=int, help="Which hidden layer to read (default: two thirds of the way up).")
@click.option(
    "--pooling",
    type=click.Choice(["mean", "last", "cls"]),
    default="mean",
    show_default=True,
    help="How token activations become one vector: their mean, the last token (causal LMs) or the first.",
)
@click.option(
    "--device",
    default="cpu",
    show_default=True,
    help="cpu, cuda, cuda:1, mps, or auto (accelerate's device map: a model larger than one GPU).",
)
@click.option(
    "--seeds",
    callback=lambda ctx, param, value: _seeds(value),
    help="Seed values: 0,1,2 or 0-4 or 0-2,7; a bare number N>0 means N seeds, 0..N-1, and 0 seed 0 (default 10, "
    "3 with --quick).",
)
@click.option(
    "--results",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default: results/ beside data/).",
)
@click.pass_obj
def methods_run(ws, experiment, quick, model_dir, layer, pooling, device, seeds, results) -> None:
    """Run one experiment (or `all`): a results table, figures and a verdict per claim."""
    from kb.methods.registry import EXPERIMENTS

    names = list(EXPERIMENTS) if experiment == "all" else [experiment]
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        _fail(f"unknown experiment {unknown[0]!r}; known: all, {', '.join(EXPERIMENTS)}")
    try:
        from kb.methods import experiments
    except ImportError as e:
        _fail(f"{e.name} is missing: the methods need the extra, pip install -e '.[methods]' -c constraints.txt")
    config = experiments.Config(
        quick=quick,
        model_dir=model_dir,
        layer=layer,
        pooling=pooling,
        device=device,
        seeds=seeds,
        results=results or (ws.results_dir / "quick" if quick else ws.results_dir),
        cache=ws.cache_dir / "activations",
    )
    if any(EXPERIMENTS[n].uses_transformer for n in names):
        try:  # a layer out of range or a folder that holds no model: said once, before anything runs
            config.encoder()
        except (ValueError, RuntimeError) as e:
            _fail(str(e))
    try:
        for name in names:
            with output.progress(name) as step:
                try:
                    result, path = experiments.run(name, config, step)
                except ValueError as e:  # a setting the model cannot take, as a layer out of range
                    _fail(f"{name}: {e}")
            output.experiment_result(result, path)
    finally:
        config.close()  # the worker processes the run's experiments shared
