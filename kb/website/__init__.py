"""The static site: `kb site build` renders the catalogue (and the methods' results) into a folder."""

from __future__ import annotations

import datetime as dt
import gc
import json
from pathlib import Path

import kb


def assets_dir() -> Path:
    """site/ (templates and static files): beside the package in a checkout, inside it in a wheel."""
    checkout = Path(kb.__file__).resolve().parent.parent / "site"
    if (checkout / "templates").is_dir():
        return checkout
    return Path(kb.__file__).resolve().parent / "_site"


def _read_result(path: Path) -> dict:
    """One result.json, or a SiteBuildError that names it: a results file cut short or edited by hand is the
    user's to mend (or to make again)."""
    from kb.website.render import SiteBuildError

    again = f"run `kb methods run {path.parent.name}` again, or remove {path.parent}"
    try:
        r = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SiteBuildError(f"{path}:{e.lineno}: not valid JSON ({e.msg}): {again}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SiteBuildError(f"{path}: cannot be read ({e}): {again}") from None
    if not isinstance(r, dict) or not isinstance(r.get("claims", []), list):
        raise SiteBuildError(f"{path}:1: not a methods result (a JSON object with a list of claims): {again}")
    return r


def load_results(results_dir: Path | None) -> tuple[list[dict], dict[str, Path]]:
    """The methods' latest results (results/<experiment>/result.json) and the figures they name."""
    results: list[dict] = []
    figures: dict[str, Path] = {}
    if not results_dir or not results_dir.is_dir():
        return results, figures
    for path in sorted(results_dir.glob("*/result.json")):
        name = path.parent.name
        r = _read_result(path)
        run = {"finished": "", "model": None, "quick": False, **r.get("run", {})}
        shown = []
        for f in r.get("figures", []):
            if not isinstance(f, dict) or not isinstance(f.get("path"), str):
                continue
            source = path.parent / f["path"]
            # a figure's path is the result file's word: only a file inside its own folder is copied into the site
            if source.resolve().is_relative_to(path.parent.resolve()) and source.is_file():
                rel = f"results/{name}/{Path(f['path']).name}"
                figures[rel] = source
                shown.append({"src": rel, "caption": f.get("caption", "")})
        claims = [
            {
                "text": c.get("text", ""),
                "verdict": c.get("verdict", "inconclusive"),
                "evidence": c.get("evidence"),
                "rule": c.get("rule"),
            }
            for c in r.get("claims", [])
        ]
        for f in shown:  # a figure's alt text states the result it shows: the claims' verdicts, after what it plots
            f["alt"] = " ".join(
                [f["caption"].rstrip(".") + ".", *(f"{c['verdict'].capitalize()}: {c['text']}" for c in claims)]
            )
        results.append(
            {
                "experiment": r.get("experiment", name),
                "title": r.get("title", name),
                "run": run,
                "techniques": r.get("techniques", []),
                "works": [w for w in r.get("works", []) if isinstance(w, str)],
                "claims": claims,
                "figures": shown,
            }
        )
    return results, figures


def build(
    conn,
    out: Path,
    *,
    base_url: str,
    repo_url: str | None = None,
    build_date: dt.date | None = None,
    results_dir: Path | None = None,
    search: bool = True,
    embeddings: Path | None = None,
    embed: bool = False,
    protected: tuple[Path, ...] = (),
):
    from kb import catalogue
    from kb.website import context, render

    config = context.SiteConfig(
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        repo_url=repo_url,
        build_date=build_date or dt.date.today(),
    )
    from kb import similarity

    results, figures = load_results(results_dir)
    # the works are read from the catalogue a chunk at a time, never held whole (see context._Index)
    works = catalogue.Works(conn)
    exported = {"works": works, **catalogue.export_lists(conn)}
    related = None
    if embeddings and (embed or embeddings.exists()):  # else related by shared techniques, in iter_pages
        from kb.embeddings import MissingExtra

        held = list(works)  # the embeddings' texts: every record, while they are compared
        try:
            related = similarity.by_embeddings(held, embeddings, compute=embed)
        except MissingExtra:  # no model here: cached vectors only, shared techniques for the rest
            related = similarity.by_embeddings(held, embeddings)
        del held
    try:
        with render.lasting():  # the index lasts the whole build
            sources, pages = context.sources(exported, config, results)
        searchable = context.searchable_count(exported)
        # related by shared techniques (related None) are ranked for the works whose pages are made: write_site
        # says which
        made = pages(related) if related is not None else (lambda only: pages(None, only))
        return render.write_site(
            made,
            out,
            assets_dir(),
            figures,
            search=search,
            searchable=searchable,
            protected=protected,
            sources=sources,
        )
    finally:
        gc.unfreeze()  # if write_site did not come to it


def build_workspace(
    ws,
    out: Path | None = None,
    *,
    base_url: str,
    repo_url: str | None = None,
    date: str | None = None,
    search: bool = True,
    embed: bool = False,
):
    """`kb site build`: the workspace's catalogue, results and embeddings -> the site (default ws.site_dir), which
    may never be data/ nor hold it; checked before the catalogue is read."""
    from kb.website import render

    render.check_out(out or ws.site_dir, (ws.data_dir, assets_dir()))
    with ws.connect() as conn:
        return build(
            conn,
            out or ws.site_dir,
            base_url=base_url,
            repo_url=repo_url,
            results_dir=ws.results_dir,
            embeddings=ws.embeddings_path,
            embed=embed,
            build_date=dt.date.fromisoformat(date) if date else None,
            search=search,
            protected=(ws.data_dir,),
        )
