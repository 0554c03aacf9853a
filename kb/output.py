"""How results look: tables and trees for people, JSON for scripts.

`kb show` and `kb search` (and `kb list`, `kb similar`) write their own wrapped, coloured lines (kb.terminal): a
cold start of the commands typed most should not import rich. The other commands use rich, imported inside the
functions: `--json` output and error paths never pay for it.
"""

from __future__ import annotations

import json
import re
import sys

from kb.text import safe


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _json(value) -> None:
    # JSON escapes C0 controls itself; C1 controls it would print raw, so they are escaped too (still valid JSON)
    text = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def _authors(names: list[str], more: bool, limit: int = 3) -> str:
    shown = names[:limit]
    tail = " et al." if more or len(names) > limit else ""
    return ", ".join(shown) + tail


def _esc(text) -> str:
    from rich.markup import escape

    return escape(safe(str(text))) if text is not None else ""


def problems(items) -> None:
    for p in items:
        print(p, file=sys.stderr)


def valid(ds) -> None:
    print(
        f"data/ is valid: {len(ds.works)} works, {len(ds.summaries)} summaries, "
        f"{len(ds.techniques)} techniques, {len(ds.motivations)} motivations, {len(ds.authors)} authors"
    )


def built(counts: dict, db_path) -> None:
    print(f"built {db_path}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def works(rows: list[dict], as_json: bool, query: str | None = None) -> None:
    if as_json:
        return _json(rows)
    rows = safe(rows)
    if not rows:
        print("no works match" + (f" {safe(query)!r}" if query else ""))
        return
    if not _terminal():
        return _works_plain(rows, query)
    _works_on_a_terminal(rows, query)


def _works_plain(rows: list[dict], query: str | None) -> None:
    """Works into a pipe or a file: a block per work (id, year, techniques; title; authors; the matched text)."""
    lines = []
    if rows[0].get("any_word"):
        lines.append(f"no work has every word of {query!r}; showing works with any of them")
    for r in rows:
        lines.append(" · ".join(x for x in (r["id"], str(r["year"] or ""), ", ".join(r["techniques"])) if x))
        lines.append(f"  {r['title']}")
        if r["authors"]:  # a blog's post may name none
            lines.append(f"  {_authors(r['authors'], r['more_authors'])}")
        if r.get("citation_count") is not None:
            lines.append(f"  cited {r['citation_count']} times")
        if r.get("snippet"):
            lines.append("  " + r["snippet"].replace("«", "").replace("»", ""))
    lines.append(f"{len(rows)} work(s)")
    sys.stdout.write("\n".join(lines) + "\n")


def _works_on_a_terminal(rows: list[dict], query: str | None) -> None:
    """A block per work, wrapped to the terminal: the id in colour, the title bold, the matched words marked."""
    from kb import terminal

    style, cols = terminal.Styler(terminal.colour()), terminal.width()
    lines = []
    if rows[0].get("any_word"):
        lines += [
            style(line, "yellow")
            for line in terminal.wrap(f"no work has every word of {query!r}; showing works with any of them", cols)
        ]
    for r in rows:
        tags, year = ", ".join(r["techniques"]), str(r["year"] or "")
        dot = style("·", "dim")
        lines += terminal.fit(
            " · ".join(x for x in (r["id"], year, tags) if x),
            " ".join(
                x
                for x in (style(r["id"], "cyan"), year and f"{dot} {year}", tags and f"{dot} " + style(tags, "green"))
                if x
            ),
            cols,
            "",
            "    ",
        )
        lines += [style(line, "bold") for line in terminal.wrap(r["title"], cols, "  ")]
        if r["authors"]:
            lines += terminal.wrap(_authors(r["authors"], r["more_authors"]), cols, "  ")
        if r.get("citation_count") is not None:
            lines.append(f"  cited {r['citation_count']} times")
        if r.get("snippet"):
            lines += terminal.highlight(terminal.wrap(r["snippet"], cols, "  "), style)
    lines.append(style(f"{len(rows)} work(s)", "dim"))
    sys.stdout.write("\n".join(lines) + "\n")


def number(v: float) -> str:
    """A number written for its scale: 1e-6, 0.0005 -> 5e-4, 0.847, 12.5, 3.2e+7 -> 3.2e7; never 0.000."""
    import math

    if isinstance(v, bool) or not isinstance(v, float | int):
        return str(v)
    if isinstance(v, int) or not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) < 1e-3 or abs(v) >= 1e6:
        mantissa, exp = f"{v:.2e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exp)}"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.4g}"


def _tag_by(tag: dict) -> str:
    return tag["by"] if tag["confidence"] >= 1 else f"{tag['by']}, {tag['confidence']:.2f}"


def _terminal() -> bool:
    """Whether people read stdout here: lines wrapped to the terminal, in colour, then; plain lines for a pipe or a
    file (as git and ls do)."""
    return sys.stdout.isatty()


def _plain_tag(tag: dict) -> str:
    return f"{tag['slug']} ({_tag_by(tag)})"


def _work_facts(w: dict, text=str, tag=_plain_tag) -> list[str]:
    """What `kb show` says about a work under its title, a line each (none for what it lacks, such as the authors
    of a blog's post); `text` formats values and `tag` tags (plain by default, in colour on a terminal)."""
    facts = [
        text(_authors([a["name"] for a in w["authors"]], w["more_authors"], limit=12)),
        text(
            " · ".join(
                str(x) for x in (w["kind"], w["venue"], w["date"] or w["year"], w["withdrawn"] and "WITHDRAWN") if x
            )
        ),
    ]
    facts = [fact for fact in facts if fact]
    facts += [f"{k}: {text(v)}" for k, v in w["ids"].items()]
    facts += [text(u) for u in ([w["url"]] if w["url"] else []) + list(w["urls"].values())]
    if w.get("categories"):
        facts.append("categories: " + text(", ".join(w["categories"])))
    if w["techniques"]:
        facts.append("techniques: " + ", ".join(tag(t) for t in w["techniques"]))
    if w["motivations"]:
        facts.append("x-risk motivation: " + ", ".join(tag(t) for t in w["motivations"]))
    return facts


def _summary_parts(s: dict) -> list[tuple[str, str]]:
    said = {"authors": "stated by the authors", "summariser": "inferred by the summariser"}
    parts = [(f"summary ({s['status']}, by {', '.join(s['contributors'])})", s["body"])]
    if s["xrisk"]:
        parts.append((f"why it matters for catastrophic risk ({said.get(s['motivation_stated_by'], '')})", s["xrisk"]))
    if s["opinion"]:
        parts.append(("opinion", s["opinion"]))
    return parts


def _relation_lines(w: dict) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """("relations" | "referred to by", [(kind, id, "title (year)")])."""
    out = []
    for title, rel in (("relations", w["relations"]), ("referred to by", w["cited_by"])):
        if rel:
            rows = []
            for r in rel:
                kind = "cited by" if rel is w["cited_by"] and r["type"] == "cites" else r["type"]
                rows.append((kind, r["id"], r["title"] + (f" ({r['year']})" if r.get("year") else "")))
            out.append((title, rows))
    return out


def _provenance_lines(w: dict) -> list[str]:
    lines = []
    for p in w["provenance"]:
        fields = f" fields: {', '.join(p['fields'])}" if p["fields"] else ""
        matched = f" (recognised by {p['matched_by']})" if p.get("matched_by") else ""
        lines.append(f"{p['source']}, {p['fetched_at']}{matched}{fields}")
    lines += [f"tag {t['slug']}: {t['evidence']}" for t in w["techniques"] + w["motivations"] if t["evidence"]]
    return lines


def work(w: dict, as_json: bool, provenance: bool = False) -> None:
    w = safe(w)
    if not provenance:
        w = {k: v for k, v in w.items() if k != "provenance"}
    if as_json:
        return _json(w)
    if not _terminal():
        return _work_plain(w, provenance)
    _work_on_a_terminal(w, provenance)


def _work_on_a_terminal(w: dict, provenance: bool) -> None:
    """`kb show` for a person: the id and title, the facts under them, then each text under its heading, wrapped
    to the terminal, the summary's Markdown laid out (kb.terminal)."""
    from kb import terminal

    style, cols = terminal.Styler(terminal.colour()), terminal.width()
    lines = [style(line, "cyan") for line in terminal.wrap(w["id"], cols)]
    lines += [style(line, "bold") for line in terminal.wrap(w["title"], cols)]
    plain = _work_facts(w)
    styled = _work_facts(w, tag=lambda t: f"{style(t['slug'], 'green')} {style('(' + _tag_by(t) + ')', 'dim')}")
    for fact, in_style in zip(plain, styled, strict=True):
        lines += terminal.fit(fact, in_style, cols, "  ")
    lines += terminal.wrap(citation_line(w), cols, "  ", "    ")
    if w["abstract"]:  # plain text, not Markdown: 'x**2' and '__init__' stay as they are
        lines += ["", style("abstract", "bold"), *terminal.paragraphs(w["abstract"], cols)]
    for title, body in _summary_parts(w["summary"]) if w["summary"] else []:
        lines += ["", *(style(line, "bold") for line in terminal.wrap(title, cols))]
        lines += terminal.markdown(body, cols, style)
    for title, rows in _relation_lines(w):
        lines += ["", style(title, "bold")]
        for kind, work_id, text in rows:
            lines += terminal.fit(
                f"{kind:<11} {work_id}  {text}", f"{kind:<11} {style(work_id, 'cyan')}  {text}", cols, "  "
            )
    if provenance:
        lines += ["", style("provenance", "bold")]
        for line in _provenance_lines(w):
            lines += terminal.wrap(line, cols, "  ", "    ")
    sys.stdout.write("\n".join(lines) + "\n")


def _work_plain(w: dict, provenance: bool) -> None:
    """`kb show` into a pipe or a file: the same facts as plain lines, Markdown as written."""
    import textwrap

    lines = [f"{w['id']}: {w['title']}"]
    lines += [f"  {fact}" for fact in _work_facts(w)]
    lines.append(f"  {citation_line(w)}")
    sections = ([("abstract", w["abstract"])] if w["abstract"] else []) + (
        _summary_parts(w["summary"]) if w["summary"] else []
    )
    for title, body in sections:
        lines += ["", f"{title}:", textwrap.indent(body.strip(), "  ")]
    for title, rows in _relation_lines(w):
        lines += ["", f"{title}:"] + [f"  {kind:<11} {work_id}  {text}" for kind, work_id, text in rows]
    if provenance:
        lines += ["", "provenance:"] + [f"  {line}" for line in _provenance_lines(w)]
    sys.stdout.write("\n".join(lines) + "\n")


def citation_line(w: dict) -> str:
    """'cited 123 times (openalex, 2026-11-25) · cites 4 / cited by 2 in the catalogue'."""
    known = (
        f"cited {w['citation_count']} times ({w['citations_source']}, {w['citations_as_of']})"
        if w.get("citation_count") is not None
        else "citations unknown (kb refresh)"
    )
    return f"{known} · cites {w['cites_in_catalogue']} / cited by {w['cited_by_in_catalogue']} in the catalogue"


def technique_tree(rows: list[dict], as_json: bool) -> None:
    if as_json:
        return _json(rows)
    rows = safe(rows)
    from rich.tree import Tree

    root = Tree("[bold]techniques[/] [dim](works tagged here / in the subtree)[/]")
    nodes = {None: root}
    for r in rows:
        label = f"[green]{r['slug']}[/] {_esc(r['name'])} [dim]{r['direct']} / {r['total']}[/]"
        nodes[r["slug"]] = nodes[r["parent"]].add(label)
    _console().print(root)


def motivations(rows: list[dict], as_json: bool) -> None:
    if as_json:
        return _json(rows)
    rows = safe(rows)
    from rich.table import Table

    table = Table()
    for name in ("slug", "name", "works", "stated by the authors"):
        table.add_column(name)
    for r in rows:
        table.add_row(f"[green]{r['slug']}[/]", _esc(r["name"]), str(r["works"]), str(r["stated"]))
    _console().print(table)


def stats(s: dict, as_json: bool) -> None:
    if as_json:
        return _json(s)
    console = _console()
    console.print(f"[bold]{s['works']}[/] works by [bold]{s['authors']}[/] authors, {s['relations']} relations")
    for key in ("by_kind", "summaries", "identifiers", "tags_by_source", "by_year"):
        console.print(f"{key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in s[key].items()))
    console.print(
        f"to do: {s['without_summary']} without a summary, {s['without_technique']} without a technique,"
        f" {s['without_motivation']} without a motivation"
    )


def site_built(report) -> None:
    index = report.out.resolve() / "index.html"
    search = {
        True: "search index built",
        False: "search skipped",
        None: "search unavailable (pip install pagefind[bin])",
    }
    print(
        f"site: {report.pages} pages ({len(report.rendered)} rendered, {report.reused} unchanged,"
        f" {len(report.removed)} removed), {search[report.search_indexed]}"
    )
    print(f"open {index.as_uri()}  or run `kb site serve` for search")


def experiments(items, as_json: bool) -> None:
    if as_json:
        return _json([e.__dict__ for e in items])
    console = _console()
    for e in items:
        console.print(f"[bold cyan]{e.name}[/]  {_esc(e.title)}")
        console.print(f"  works: {', '.join(e.works)}")
        console.print(f"  techniques: {', '.join(e.techniques)}")
        for name, text in e.claims.items():
            console.print(f"  - {_esc(text)} [dim]({name})[/]")


class progress:
    """A spinner with the current step; yields the function that names the next step."""

    def __init__(self, name: str):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[name]}[/] {task.description}"),
            TimeElapsedColumn(),
            console=_console(stderr=True),
            transient=True,
        )
        self._name = name

    def __enter__(self):
        self._bar.start()
        task = self._bar.add_task("starting", name=self._name)
        return lambda step: self._bar.update(task, description=_esc(step))

    def __exit__(self, *exc):
        self._bar.stop()


def experiment_result(result, path) -> None:
    from rich.table import Table

    console = _console()
    console.print(f"\n[bold]{_esc(result.title)}[/]  [dim]({result.run['seconds']} s, {result.run.get('model')})[/]")
    colour = {"reproduced": "green", "not reproduced": "red"}  # the rest (inconclusive, not testable ...) yellow
    for c in result.claims:
        head = f"  [{colour.get(c.verdict, 'yellow')}]{c.verdict.upper()}[/] {_esc(c.text)}"
        rule = f"\n    [dim]rule: {_esc(c.rule)}[/]" if getattr(c, "rule", "") else ""
        console.print(f"{head}\n    [dim]{_esc(c.evidence)}[/]{rule}")
    for name, rows in result.tables.items():
        if not rows or len(rows) > 40 or len(rows[0]) > 8:
            console.print(f"  [dim]table {name}: {len(rows)} rows in result.json[/]")
            continue
        table = Table(title=name, title_justify="left")
        for key in rows[0]:
            table.add_column(str(key))
        for row in rows:
            table.add_row(*(number(v) if isinstance(v, float) else _esc(v) for v in row.values()))
        console.print(table)
    console.print(f"  written: {path} and {len(result.figures)} figure(s)")


def import_report(report, fetched=None, per_source: bool = True) -> None:
    console = _console()
    for f in fetched or []:
        if per_source:
            state = "[red]failed[/]" if f.error else "[green]ok[/]"
            console.print(f"  {state} {_esc(f.name)}: {len(f.records)} record(s)")
        for notice in f.notices:
            console.print(f"[yellow]warning:[/] {_esc(notice)}", soft_wrap=True)
    console.print(
        f"added {len(report.added)}, updated {len(report.updated)}, merged as duplicates {len(report.merged)},"
        f" unchanged {len(report.skipped)}"
    )
    for work_id in report.added[:50]:
        console.print(f"  [green]+[/] {work_id}")
    for work_id, how in report.merged[:50]:
        console.print(f"  [cyan]=[/] {work_id} [dim](recognised by {_esc(how)})[/]")
    for error in report.errors:
        # the error's own hint says whether running again resumes (it does after a block or a network failure)
        console.print(f"[red]error:[/] {_esc(error)}", soft_wrap=True)


def refreshed(result) -> None:
    console = _console()
    console.print("asked: " + ", ".join(f"{name} {n} work(s)" for name, n in result.asked.items()))
    for name, missing in result.not_found.items():
        if missing:
            shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            console.print(f"  [dim]{name} had no answer for {len(missing)}: {_esc(shown)}[/]", soft_wrap=True)
    console.print("filled: " + ", ".join(f"{what} {n}" for what, n in result.filled.items()))
    import_report(result.report, result.fetched)


class counter:
    """A progress bar over a known number of items; yields the function to call as each finishes."""

    def __init__(self, what: str, total: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn(f"[bold]{what}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=_console(stderr=True),
            transient=True,
        )
        self._total = total

    def __enter__(self):
        self._bar.start()
        task = self._bar.add_task("", total=self._total)
        return lambda name: self._bar.update(task, advance=1, description=_esc(name))

    def __exit__(self, *exc):
        self._bar.stop()


def suggestions(work_id: str, items) -> None:
    items = safe(items)
    console = _console()
    if not items:
        console.print(f"no suggestion for {work_id} reaches the threshold")
        return
    console.print(f"[bold]{work_id}[/]: suggestions (as if it had no curated tags)")
    for s in sorted(items, key=lambda s: (s.kind, -s.confidence)):
        console.print(
            f"  {s.kind:<10} [green]{s.slug}[/] {s.confidence:.2f} [dim]({s.by})[/]\n      {_esc(s.evidence)}"
        )


def tagged(all_suggestions: dict, changed: list[str]) -> None:
    n = sum(len(v) for v in all_suggestions.values())
    print(
        f"{len(all_suggestions)} work(s) without curated techniques; {n} suggestion(s); {len(changed)} work(s) changed"
    )
    for work_id in changed[:50]:
        tags = ", ".join(f"{s.slug} {s.confidence:.2f}" for s in all_suggestions[work_id])
        print(f"  {work_id}: {tags}")


def tag_eval(result: dict, as_json: bool) -> None:
    if as_json:
        return _json(result)
    from rich.table import Table

    console = _console()
    for kind, r in result.items():
        setting = r.get("setting", "cross-validated")
        if "trained_on" in r:
            setting += f" ({r['trained_on']} others trained on)"
        table = Table(title=f"{kind}s: {r['works']} curated works, threshold 0.5, {setting}", title_justify="left")
        # one column per tagger, precision/recall/F1 in it: readable at 80 columns
        taggers = [t for t in ("rule", "model", "combined") if r["tags"] and f"{t}_f1" in r["tags"][0]]
        table.add_column("tag", overflow="fold")
        table.add_column("n", justify="right")
        for t in taggers:
            table.add_column(f"{t} P/R/F1", no_wrap=True)
        for row in r["tags"]:
            cells = [f"{row[f'{t}_p']:.2f}/{row[f'{t}_r']:.2f}/{row[f'{t}_f1']:.2f}" for t in taggers]
            table.add_row(_esc(row["tag"]), str(row["positives"]), *cells)
        console.print(table)
        console.print("macro F1: " + ", ".join(f"{k} {v:.3f}" for k, v in r["macro_f1"].items()))
