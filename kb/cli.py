"""The `kb` command: arguments in, one library call, one output function out.

Built on click rather than typer: typer's runtime imports pydantic, which tripled a cold
`kb search`. Heavy modules (SQLModel, pydantic, rich's tables) are imported inside the commands
that need them, so `kb --help` and a cold search start fast (bench/search.py measures it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb import output
from kb.search import Query


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")


@cli.command()
@click.pass_obj
def build(ws) -> None:
    """Build the catalogue from data/ (atomically: on a problem the previous one is kept)."""
    from kb.catalogue.build import BuildError

    try:
        counts = ws.build()
    except BuildError as e:
        output.problems(e.problems)
        _fail(str(e))
    output.built(counts, ws.db_path)


@cli.command()
@click.pass_obj
def validate(ws) -> None:
    """Check all of data/; print each problem as path:line: message (exit 1 on any)."""
    ds, problems = ws.check()
    output.problems(problems)
    if problems:
        sys.exit(1)
    output.valid(ds)


@cli.command(name="format")
@click.pass_obj
def format_(ws) -> None:
    """Rewrite data/works and data/authors.jsonl in canonical form (sorted by id)."""
    from kb import datadir

    ds, _ = ws.check()
    if ds.problems:  # a record that did not load would be dropped by the rewrite
        output.problems(ds.problems)
        _fail("fix these first: formatting would lose the lines that do not load")
    datadir.format_all(ds)
    print(f"formatted {len(ds.works)} works and {len(ds.authors)} authors")


def filters(limit: int):
    """The options every listing shares."""
    options = [
        click.option("--technique", "-t", help="A technique slug; its sub-techniques count too."),
        click.option("--motivation", "-m", help="An x-risk motivation slug."),
        click.option("--author", "-a", help="An author's name, or a whole part of it."),
        click.option("--since", type=int, help="From this year on."),
        click.option("--until", type=int, help="Up to this year."),
        click.option("--kind", type=click.Choice(["paper", "post", "comment", "report"]), help="The kind of work."),
        click.option("--venue", help="Part of the venue's name."),
        click.option(
            "--limit",
            "-n",
            type=click.IntRange(min=1),
            default=limit,
            show_default=True,
            help="At most this many works.",
        ),
        as_json,
    ]

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def _run_query(ws, as_json: bool, **query) -> None:
    from kb import catalogue

    with ws.connect() as conn:
        try:
            rows = catalogue.search(conn, Query(**query))
        except catalogue.NotFound as e:
            _fail(str(e))
    output.works(rows, as_json, query=query.get("text"))


@cli.command()
@click.argument("text")
@click.option("--semantic", is_flag=True, help="Rank by meaning (MiniLM embeddings) instead of words.")
@filters(limit=20)
@click.pass_obj
def search(ws, text: str, semantic: bool, as_json: bool, **query) -> None:
    """Full-text search over titles, abstracts, summaries and authors, best match first.

    TEXT takes words (all must match), "a phrase", prefix*, OR and NOT. With --semantic it is a
    description in plain words, matched by meaning.
    """
    if semantic:
        from kb import catalogue, similarity
        from kb.embeddings import MissingExtra

        with ws.connect() as conn:
            try:
                rows = similarity.semantic_search(
                    conn, ws.embeddings_path, text, Query(**{**query, "limit": 10**9}), query["limit"]
                )
            except MissingExtra as e:
                print(f"note: {e}; falling back to full-text search", file=sys.stderr)
            except catalogue.NotFound as e:
                _fail(str(e))
            else:
                return output.works(rows, as_json, query=text)
    _run_query(ws, as_json, text=text, **query)


@cli.command()
@click.argument("work")
@click.option("--limit", "-n", default=10, show_default=True)
@as_json
@click.pass_obj
def similar(ws, work: str, limit: int, as_json: bool) -> None:
    """The works nearest to WORK by meaning (embeddings), or by shared techniques without the methods extra."""
    from kb import catalogue, similarity
    from kb.embeddings import MissingExtra

    with ws.connect() as conn:
        try:
            target = catalogue.get_work(conn, work)["id"]
            works = catalogue.export(conn)["works"]
            try:
                related = similarity.by_embeddings(works, ws.embeddings_path, k=limit, compute=True)
            except MissingExtra as e:
                print(f"note: {e}; ranking by shared techniques instead", file=sys.stderr)
                related = similarity.by_techniques(works, k=limit)
            rows = catalogue.search(conn, Query(limit=10**9))
        except catalogue.NotFound as e:
            _fail(str(e))
    by_id = {r["id"]: r for r in rows}
    output.works([by_id[i] for i in related[target]], as_json)


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

    with ws.connect() as conn:
        exported = catalogue.export(conn)
        if explain:
            try:
                explain = catalogue.get_work(conn, explain)["id"]
            except catalogue.NotFound as e:
                _fail(str(e))
    works = exported["works"]
    if explain:  # explain one work as if it had no curated tags, so the taggers show their reasoning
        works = [dict(w, techniques=[], motivations=[]) if w["id"] == explain else w for w in works]
    embed = None if rules_only else _embedder(ws)
    suggestions = tagging.suggest(works, exported["techniques"], exported["motivations"], embed)
    if explain:
        return output.suggestions(explain, suggestions.get(explain, []))
    from kb import datadir

    ds, problems = ws.check()
    if problems:
        output.problems(problems)
        _fail("fix data/ first (kb validate)")
    new_works, changed = tagging.retag(ds, suggestions)
    if changed:
        datadir.write_works(ds.root, new_works)
        ws.build()
    output.tagged(suggestions, changed)


def _embedder(ws):
    from kb.embeddings import MissingExtra, Store

    store = Store(ws.embeddings_path)
    try:
        _ = store.model_dir  # finds the packaged model, or raises: tells whether embeddings are possible
    except MissingExtra as e:
        print(f"note: {e}; using the keyword rules alone", file=sys.stderr)
        return None
    return store.embed


@tag.command("eval")
@click.option("--folds", default=5, show_default=True)
@click.option("--rules-only", is_flag=True)
@as_json
@click.pass_obj
def tag_eval(ws, folds: int, rules_only: bool, as_json: bool) -> None:
    """Precision, recall and F1 per tag against the curated labels, cross-validated."""
    from kb import catalogue, tagging

    with ws.connect() as conn:
        exported = catalogue.export(conn)
    result = tagging.evaluate(
        exported["works"],
        exported["techniques"],
        exported["motivations"],
        None if rules_only else _embedder(ws),
        folds=folds,
    )
    output.tag_eval(result, as_json)


@cli.command(name="list")
@filters(limit=50)
@click.pass_obj
def list_(ws, as_json: bool, **query) -> None:
    """List works, newest first, filtered."""
    _run_query(ws, as_json, **query)


@cli.command()
@click.argument("work")
@click.option("--provenance", is_flag=True, help="Also say where each record and tag came from.")
@as_json
@click.pass_obj
def show(ws, work: str, provenance: bool, as_json: bool) -> None:
    """One work (by id, arXiv id or DOI): metadata, tags and who gave them, summary, relations."""
    from kb import catalogue

    with ws.connect() as conn:
        try:
            record = catalogue.get_work(conn, work)
        except catalogue.NotFound as e:
            _fail(str(e))
    output.work(record, as_json, provenance)


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
    from kb import datadir, summaries

    try:
        path = summaries.scaffold(datadir.load(ws.data_dir), work)
    except (LookupError, FileExistsError) as e:
        _fail(str(e))
    print(f"wrote {path}\nfill in every {summaries.PLACEHOLDER}, then run: kb validate")


@cli.group()
def site() -> None:
    """The static site: build it, serve it."""


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
    import datetime as dt

    from kb import website
    from kb.website.render import SiteBuildError

    out = out or ws.data_dir.parent / "_site"
    with ws.connect() as conn:
        try:
            report = website.build(
                conn,
                out,
                base_url=base_url,
                repo_url=repo_url,
                results_dir=ws.data_dir.parent / "results",
                embeddings=ws.embeddings_path,
                embed=embed,
                build_date=dt.date.fromisoformat(date) if date else None,
                search=search,
            )
        except SiteBuildError as e:
            _fail(f"{e}\nthe previous site is kept")
    output.site_built(report)
    return report


@site.command("build")
@site_out
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000/",
    show_default=True,
    help="Where the site will be served (feeds and sitemap).",
)
@click.option("--repo-url", envvar="KB_REPO_URL", help="The repository's web address, for 'edit this summary' links.")
@click.option(
    "--date", help="Build date (YYYY-MM-DD) for feeds and footers; default today. Fix it for reproducible output."
)
@click.option(
    "--embed", is_flag=True, help="Compute missing work embeddings first, so related works are ranked by meaning."
)
@click.pass_obj
def site_build(ws, out, base_url, repo_url, date, embed) -> None:
    """Render the catalogue into static HTML with search, feeds and a sitemap."""
    _site_build(ws, out, base_url, repo_url, date, embed=embed)


@site.command("serve")
@site_out
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
@click.option("--watch", is_flag=True, help="Rebuild when data/ or the templates change.")
@click.option("--repo-url", envvar="KB_REPO_URL", help="The repository's web address, for 'edit this summary' links.")
@click.pass_obj
def site_serve(ws, out, port, watch, repo_url) -> None:
    """Build the site, then serve it on 127.0.0.1 and print its address."""
    import threading

    from kb import catalogue
    from kb.website import assets_dir, serve

    base = f"http://127.0.0.1:{port}/"
    report = _site_build(ws, out, base, repo_url, None)
    httpd = serve.server(report.out, port)
    print(f"serving {report.out} at {base}  (Ctrl-C to stop)", flush=True)
    if watch:

        def signature():
            files = sorted(p for p in assets_dir().rglob("*") if p.is_file())
            return catalogue.source_signature(ws.data_dir), [(str(p), p.stat().st_mtime_ns) for p in files]

        stop = threading.Event()
        threading.Thread(
            target=serve.watch, args=(signature, lambda: _site_build(ws, out, base, repo_url, None), stop), daemon=True
        ).start()
    serve.run_forever(httpd)


@cli.group(name="import")
def import_() -> None:
    """Import works from Google Scholar, OpenAlex, arXiv, feeds, LessWrong and the Alignment Forum."""


def _import(ws, fetched) -> None:
    from kb.importing import DataProblems, apply

    try:
        report = apply(ws, [fetched])
    except DataProblems as e:
        output.problems(e.problems)
        _fail(str(e))
    output.import_report(report, [fetched], per_source=False)
    if report.errors:
        sys.exit(1)


def _import_source(ws, **spec) -> None:
    """`kb import <type>`: the same spec a [[source]] of data/sources.toml gives `kb sync`, through the same seam."""
    from kb import importing

    _import(ws, importing.fetch_source(spec))


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
    _import_source(ws, type="arxiv", ids=list(ids), query=query, limit=limit, base_url=base_url)


@import_.command("feed")
@click.argument("url")
@click.pass_obj
def import_feed(ws, url) -> None:
    """Any RSS or Atom blog feed."""
    _import_source(ws, type="feed", url=url)


@import_.command("lesswrong")
@click.option("--user", help="A user's slug or id: their posts and comments.")
@click.option("--tag", help="A tag's slug: its posts.")
@click.option("--no-comments", is_flag=True, help="With --user, posts only.")
@click.option("--site", type=click.Choice(["lesswrong", "alignmentforum"]), default="lesswrong", show_default=True)
@limit_opt
@base_url_opt
@click.pass_obj
def import_lesswrong(ws, user, tag, no_comments, site, limit, base_url) -> None:
    """LessWrong / Alignment Forum posts, and a user's comments with what they reply to."""
    if not user and not tag:
        _fail("give --user or --tag")
    _import_source(
        ws, type=site, site=site, user=user, tag=tag, comments=not no_comments, limit=limit, base_url=base_url
    )


@import_.command("scholar")
@click.argument("scholar_id")
@click.option(
    "--fill", is_flag=True, help="Also read each publication's page (full author lists; slow, often blocked)."
)
@click.pass_obj
def import_scholar(ws, scholar_id, fill) -> None:
    """A Google Scholar author profile: the person and every publication."""
    _import_source(ws, type="scholar", id=scholar_id, fill=fill)


@import_.command("openalex")
@click.option("--author", help="An author's name (the best match is used).")
@click.option("--id", "author_id", help="An OpenAlex author id (A...).")
@limit_opt
@base_url_opt
@click.option("--key", envvar="OPENALEX_API_KEY", help="An OpenAlex API key (optional).")
@click.pass_obj
def import_openalex(ws, author, author_id, limit, base_url, key) -> None:
    """An author's works from OpenAlex (the fallback when Google Scholar blocks us)."""
    if not author and not author_id:
        _fail("give --author or --id")
    _import_source(ws, type="openalex", author=author, author_id=author_id, limit=limit, base_url=base_url, key=key)


@cli.command()
@click.option("--sources", "sources_path", type=click.Path(path_type=Path), help="Default: data/sources.toml.")
@click.pass_obj
def sync(ws, sources_path) -> None:
    """Import every source listed in data/sources.toml, concurrently, with a progress bar."""
    from kb import importing

    specs = importing.sources(sources_path or ws.data_dir / "sources.toml")
    if not specs:
        _fail("no sources: list them in data/sources.toml (see CONTRIBUTING.md)")
    with output.counter("sources", len(specs)) as done:
        try:
            report, fetched = importing.sync(ws, specs, on_done=lambda f: done(f.name))
        except importing.DataProblems as e:
            output.problems(e.problems)
            _fail(str(e))
    output.import_report(report, fetched)
    if report.errors:
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


@methods.command("run")
@click.argument("experiment")
@click.option("--quick", is_flag=True, help="Fewer seeds and samples: every experiment in a few minutes on 2 cores.")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A local Hugging Face model folder (default: the packaged all-MiniLM-L6-v2).",
)
@click.option("--layer", type=int, help="Which hidden layer to read (default: two thirds of the way up).")
@click.option("--pooling", type=click.Choice(["mean", "last", "cls"]), default="mean", show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, mps ...")
@click.option("--seeds", type=click.IntRange(min=1), help="Number of seeds (default 10, or 3 with --quick).")
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
        results=results or ws.data_dir.parent / "results",
    )
    for name in names:
        with output.progress(name) as step:
            result, path = experiments.run(name, config, step)
        output.experiment_result(result, path)


def main() -> None:
    cli()
