"""How results look: tables and trees for people, JSON for scripts.

`kb show` and `kb search` (and `kb list`, `kb similar`) write their own wrapped, coloured lines (kb.cli.terminal): a
cold start of the commands typed most should not import rich. The other commands use rich, imported inside the
functions: `--json` output and error paths never pay for it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from importers.controls import C0_C1, INVISIBLE
from kb.text import safe

# a work record: the catalogue's (kb.catalogue.workrecord) or any dict with its keys
Work = Mapping[str, Any]

# Into a pipe or a file a line is never wrapped (a reader greps it, as kb show's plain lines): rich lays out a table
# within this width, and writes each printed line whole.
_UNWRAPPED = 10_000
# What a JSON string may not carry raw (json.dumps escapes C0 itself): escaped as \uXXXX by _json
_INVISIBLE = re.compile(f"[{C0_C1}{INVISIBLE}]")


def _console(stderr: bool = False):
    from rich.console import Console

    # emoji off: a ":warning:" in a name is printed as written, not turned into a picture
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False, emoji=False)
    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True, width=_UNWRAPPED, no_color=True)


def _json(value) -> None:
    # JSON escapes C0 controls itself; C1 controls, bidi overrides and zero-width characters it would print raw, so
    # they are escaped too, as \\uXXXX: still valid JSON, the value unchanged for a script, nothing for a terminal
    text = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


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
    for i, r in enumerate(rows):
        if _some_words_from(rows, i):
            lines.append(f"works with some of the words of {query!r}:")
        lines.append(" · ".join(x for x in (r["id"], str(r["year"] or ""), *_row_tags(r)) if x))
        lines.append(f"  {r['title']}")
        if r.get("via"):  # found through a relation: which, to what
            lines.append(f"  {r['via']}")
        if r["authors"]:  # a blog's post may name none
            lines.append(f"  {_authors(r['authors'], r['more_authors'])}")
        if r.get("citation_count") is not None:
            lines.append(f"  cited {r['citation_count']} times")
        if r.get("snippet"):
            lines.append("  " + r["snippet"].replace("«", "").replace("»", ""))
    lines.append(f"{len(rows)} work(s)")
    sys.stdout.write("\n".join(lines) + "\n")


def _some_words_from(rows: list[dict], i: int) -> bool:
    """Whether row i is the first of the works with only some of the words, after works with every word."""
    return i > 0 and bool(rows[i].get("any_word")) and not rows[i - 1].get("any_word") and not rows[0].get("any_word")


def _works_on_a_terminal(rows: list[dict], query: str | None) -> None:
    """A block per work, wrapped to the terminal: the id in colour, the title bold, the matched words marked."""
    from kb.cli import terminal

    style, cols = terminal.Styler(terminal.colour()), terminal.width()
    lines = []
    if rows[0].get("any_word"):
        lines += [
            style(line, "yellow")
            for line in terminal.wrap(f"no work has every word of {query!r}; showing works with any of them", cols)
        ]
    for i, r in enumerate(rows):
        if _some_words_from(rows, i):
            lines += [
                style(line, "yellow") for line in terminal.wrap(f"works with some of the words of {query!r}:", cols)
            ]
        (tags, *marked), year = _row_tags(r), str(r["year"] or "")
        dot = style("·", "dim")
        lines += terminal.fit(
            " · ".join(x for x in (r["id"], year, tags, *marked) if x),
            " ".join(
                x
                for x in (
                    style(r["id"], "cyan"),
                    year and f"{dot} {year}",
                    tags and f"{dot} " + style(tags, "green"),
                    *(f"{dot} " + style(m, "yellow") for m in marked if m),
                )
                if x
            ),
            cols,
            "",
            "    ",
        )
        lines += [style(line, "bold") for line in terminal.wrap(r["title"], cols, "  ")]
        if r.get("via"):
            lines += [style(line, "yellow") for line in terminal.wrap(r["via"], cols, "  ")]
        if r["authors"]:
            lines += terminal.wrap(_authors(r["authors"], r["more_authors"]), cols, "  ")
        if r.get("citation_count") is not None:
            lines.append(f"  cited {r['citation_count']} times")
        if r.get("snippet"):
            lines += terminal.highlight(terminal.wrap(r["snippet"], cols, "  "), style)
    lines.append(style(f"{len(rows)} work(s)", "dim"))
    sys.stdout.write("\n".join(lines) + "\n")


def _row_tags(r: dict) -> tuple[str, str, str]:
    """A list row's curated techniques; its suggested tags, marked as such; whether its authors state a motivation."""
    suggested = [*r.get("suggested_techniques", ()), *r.get("suggested_motivations", ())]
    status = r.get("motivation_status")
    return (
        ", ".join(r["techniques"]),
        "suggested: " + ", ".join(suggested) if suggested else "",
        f"motivation {status}" if status in ("stated", "partly-stated") else "",
    )


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


def _work_facts(w: Work, text=str, tag=_plain_tag) -> list[str]:
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
    curated, suggested = _split(w["techniques"])
    if curated:
        facts.append("techniques: " + ", ".join(tag(t) for t in curated))
    if suggested:
        facts.append("suggested techniques (not curated): " + ", ".join(tag(t) for t in suggested))
    from kb.query import STATUS_WORDS

    facts.append(f"x-risk motivation: {STATUS_WORDS[w['motivation_status']]}")
    return facts


def _split(tags: list[dict]) -> tuple[list[dict], list[dict]]:
    """(curated, suggested): an automatic tagger's tags are shown apart, never as a person's."""
    from kb.query import SUGGESTED

    return [t for t in tags if t["by"] not in SUGGESTED], [t for t in tags if t["by"] in SUGGESTED]


def motivation_lines(w: Work) -> list[str]:
    """Each motivation with its evidence: the authors' words and where they stand, or who infers it and why."""
    curated, suggested = _split(w["motivations"])
    lines = []
    for t, mark in [(t, "") for t in curated] + [(t, "suggested, ") for t in suggested]:
        if t["status"] == "inferred":
            lines.append(f"{t['slug']}: inferred ({mark}{_tag_by(t)}): {t['reasoning']}")
        else:
            lines.append(f"{t['slug']}: {t['status']} ({mark}{t['where']}): \u201c{t['quote']}\u201d")
    return lines


def _summary_parts(s: dict) -> list[tuple[str, str]]:
    parts = [(f"summary ({s['status']}, by {', '.join(s['contributors'])})", s["body"])]
    if s["xrisk"]:
        parts.append((f"why it matters for catastrophic risk ({s['status']} summary)", s["xrisk"]))
    if s["opinion"]:
        parts.append(("opinion", s["opinion"]))
    return parts


def _relation_lines(w: Work) -> list[tuple[str, list[tuple[str, str, str]]]]:
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


def _provenance_lines(w: Work) -> list[str]:
    lines = []
    for p in w["provenance"]:
        fields = f" fields: {', '.join(p['fields'])}" if p["fields"] else ""
        matched = f" (recognised by {p['matched_by']})" if p.get("matched_by") else ""
        lines.append(f"{p['source']}, {p['fetched_at']}{matched}{fields}")
    lines += [f"tag {t['slug']}: {t['evidence']}" for t in w["techniques"] if t["evidence"]]
    return lines


def work(w: Work, as_json: bool, provenance: bool = False) -> None:
    if not provenance:
        w = {k: v for k, v in w.items() if k != "provenance"}
    if as_json:  # as every --json: the values whole, their invisible characters escaped (_json)
        return _json(w)
    w = safe(w)
    if not _terminal():
        return _work_plain(w, provenance)
    _work_on_a_terminal(w, provenance)


def _work_on_a_terminal(w: Work, provenance: bool) -> None:
    """`kb show` for a person: the id and title, the facts under them, then each text under its heading, wrapped
    to the terminal, the summary's Markdown laid out (kb.cli.terminal)."""
    from kb.cli import terminal

    style, cols = terminal.Styler(terminal.colour()), terminal.width()
    lines = [style(line, "cyan") for line in terminal.wrap(w["id"], cols)]
    lines += [style(line, "bold") for line in terminal.wrap(w["title"], cols)]
    plain = _work_facts(w)
    styled = _work_facts(w, tag=lambda t: f"{style(t['slug'], 'green')} {style('(' + _tag_by(t) + ')', 'dim')}")
    for fact, in_style in zip(plain, styled, strict=True):
        lines += terminal.fit(fact, in_style, cols, "  ")
    lines += terminal.wrap(citation_line(w), cols, "  ", "    ")
    if w["motivations"]:
        lines += ["", style("x-risk motivations", "bold")]
        for line in motivation_lines(w):
            lines += terminal.wrap(line, cols, "  ", "    ")
    for title, text in _texts(w):  # plain text, not Markdown: 'x**2' and '__init__' stay as they are
        lines += ["", style(title, "bold"), *terminal.paragraphs(text, cols)]
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


PLAIN_WIDTH = 80  # kb show's wrapped lines into a pipe: a terminal's default width


def _work_plain(w: Work, provenance: bool) -> None:
    """`kb show` into a pipe or a file: the same facts as plain lines, Markdown as written."""
    import textwrap

    lines = [f"{w['id']}: {w['title']}"]
    lines += [f"  {fact}" for fact in _work_facts(w)]
    lines.append(f"  {citation_line(w)}")
    if w["motivations"]:
        lines += ["", "x-risk motivations:"]
        for line in motivation_lines(w):  # a quote runs long: kept to 80 columns, as a summary's lines are
            lines += textwrap.wrap(
                line,
                PLAIN_WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
                break_on_hyphens=False,  # a word stays whole: 'mechanistic-interpretability', a URL
                break_long_words=False,
            )
    sections = _texts(w) + (_summary_parts(w["summary"]) if w["summary"] else [])
    for title, body in sections:
        lines += ["", f"{title}:", textwrap.indent(body.strip(), "  ")]
    for title, rows in _relation_lines(w):
        lines += ["", f"{title}:"] + [f"  {kind:<11} {work_id}  {text}" for kind, work_id, text in rows]
    if provenance:
        lines += ["", "provenance:"] + [f"  {line}" for line in _provenance_lines(w)]
    sys.stdout.write("\n".join(lines) + "\n")


def _texts(w: Work) -> list[tuple[str, str]]:
    """The abstract, named with its version, and a curator's note, named as the curator's: never one for the other."""
    out = []
    if w["abstract"]:
        out.append((f"abstract ({w['abstract_source']})" if w.get("abstract_source") else "abstract", w["abstract"]))
    if w.get("curator_note"):
        out.append(("curator's note (not the authors' abstract)", w["curator_note"]))
    return out


def citation_line(w: Work) -> str:
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
    # curated works, then how many of them the authors state it for, partly state it, or a reader infers it;
    # an automatic tagger's suggestions apart
    for name in ("slug", "works", "stated", "partly", "inferred", "suggested", "name"):
        table.add_column(name, justify="left" if name in ("slug", "name") else "right", no_wrap=name == "slug")
    for r in rows:
        counts = (r["works"], r["stated"], r["partly_stated"], r["inferred"], r["suggested"])
        table.add_row(f"[green]{r['slug']}[/]", *map(str, counts), _esc(r["name"]))
    _console().print(table)


def stats(s: dict, as_json: bool) -> None:
    if as_json:
        return _json(s)
    console = _console()
    console.print(f"[bold]{s['works']}[/] works by [bold]{s['authors']}[/] authors, {s['relations']} relations")
    for key in (
        "by_kind",
        "summaries",
        "identifiers",
        "tags_by_source",
        "by_motivation_status",
        "motivations_by_status",
        "by_year",
    ):
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


def _bar(*columns):
    """A rich progress display on stderr, shown only on a terminal: a bar is for a person watching; a log gets the
    lines alone."""
    from rich.progress import Progress

    return Progress(*columns, console=_console(stderr=True), transient=True, disable=not sys.stderr.isatty())


class progress:
    """A spinner with the current step; yields the function that names the next step."""

    def __init__(self, name: str):
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = _bar(
            SpinnerColumn(), TextColumn("[bold]{task.fields[name]}[/] {task.description}"), TimeElapsedColumn()
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
    console, messages = _console(), _console(stderr=True)  # results on stdout, warnings and errors on stderr
    for f in fetched or []:
        if per_source:
            state = "[red]failed[/]" if f.error else "[green]ok[/]"
            console.print(f"  {state} {_esc(f.name)}: {len(f.records)} record(s)")
        for notice in f.notices:
            messages.print(f"[yellow]warning:[/] {_esc(notice)}", soft_wrap=True)
    failed = sum(len(f.skipped) for f in fetched or [])  # items that failed alone (their errors follow)
    console.print(
        f"added {len(report.added)}, updated {len(report.updated)}, merged as duplicates {len(report.merged)},"
        f" unchanged {len(report.skipped)}" + (f", failed {failed}" if failed else "")
    )
    for work_id in report.added[:50]:
        console.print(f"  [green]+[/] {work_id}")
    edited = getattr(report, "edited", {})
    if edited:  # a source changed what it said (a corrected title): the work follows, and the report says so
        counts: dict[str, int] = {}
        for fields in edited.values():
            for name in fields:
                counts[name] = counts.get(name, 0) + 1
        console.print(f"updated {len(edited)} at the source: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        for work_id, fields in list(edited.items())[:50]:
            console.print(f"  [yellow]~[/] {work_id}: {', '.join(fields)}")
    for work_id, how in report.merged[:50]:
        console.print(f"  [cyan]=[/] {work_id} [dim](recognised by {_esc(how)})[/]")
    for error in report.errors:
        # the error's own hint says whether running again resumes (it does after a block or a network failure)
        messages.print(f"[red]error:[/] {_esc(error)}", soft_wrap=True)


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
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

        self._bar = _bar(
            TextColumn(f"[bold]{what}[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}")
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
    result = dict(result)
    evidence = result.pop("evidence-first", None)
    if evidence:
        _evidence_eval(console, evidence)
    for kind, r in result.items():
        # cross-validation over every curated work scores the works the taxonomy's keywords were written by looking
        # at, the evidence-first tagger's held-out part among them: a training score for the rules, said so
        setting = r.get("setting", "cross-validated over every curated work, held-out part included: a training score")
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


def _evidence_eval(console, e: dict) -> None:
    """The evidence-first tagger's figures on one part of its split."""
    # "never seen" would be the evaluator's claim, not the code's: the code knows only what it was fitted on
    what = "a training score" if e["part"] == "tuning" else "not fitted on"
    console.print(f"[bold]evidence-first tagger[/], {e['part']} part ({what}); {_esc(e['split'])}", soft_wrap=True)
    threshold = (
        "rules alone: too few curated statements to learn from"
        if e["threshold"] is None
        else f"threshold {e['threshold']:.3f}, chosen on the tuning part, precision first (F0.5); which motivation"
        f" from {e['reads']}"
    )
    _evidence_figures(console, e, threshold)
    _ceiling(console, e["ceiling"])
    if "cross_validated" in e:
        console.print(
            "[bold]the tuning part cross-validated[/] (5 folds by work, each scored by a tagger fitted on the others)",
            soft_wrap=True,
        )
        _evidence_figures(console, e["cross_validated"], "each fold's threshold chosen inside its fitting set")


def _ceiling(console, c: dict) -> None:
    """What no evidence-first tagger can exceed on this part: the quotes that stand in the text it reads."""
    share = lambda k, n: f"{k} of {n}" + (f" ({k / n:.2f})" if n else "")  # noqa: E731
    console.print(
        f"  recall ceiling: quotes found in the text the tagger reads: {share(c['quotes_found'], c['positives'])}"
        f" of the stated or partly stated motivations above; {share(c['quotes_found_all'], c['positives_all'])}"
        " counting the works it has no text for; technique labels named by a taxonomy keyword or alias in the title"
        f" or abstract: {share(c['named'], c['labels'])}",
        soft_wrap=True,
    )


def _evidence_figures(console, e: dict, threshold: str) -> None:
    st = e["stated"]
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    ci = lambda v: "" if v is None else f" ({v[0]:.2f}-{v[1]:.2f})"  # noqa: E731
    console.print(
        f"  stated motivations ({e['motivation_works']} works with the authors' abstract; positive: stated or"
        f" partly stated; {threshold}): {st['proposed']} proposed, {st['positives']} positives, precision"
        f" {fmt(st['precision'])}{ci(st['precision_ci'])}, recall {fmt(st['recall'])}{ci(st['recall_ci'])} (95% Wilson;"
        f" with the level agreeing too {fmt(st['precision_strict'])})",
        soft_wrap=True,
    )
    ws = e["works_stating"]
    console.print(
        f"  works said to state a motivation, whichever: {ws['proposed']} proposed, {ws['positives']} positives,"
        f" precision {fmt(ws['precision'])}{ci(ws['precision_ci'])}, recall {fmt(ws['recall'])}{ci(ws['recall_ci'])}",
        soft_wrap=True,
    )
    rows = ", ".join(f"{r['tag']} {r['f1']:.2f} (n={r['positives']})" for r in e["techniques"])
    console.print(
        f"  techniques ({e['technique_works']} works with the authors' abstract, tags with >= 3 positives): macro F1"
        f" {fmt(e['technique_macro_f1'])}; with the {e['technique_works_all'] - e['technique_works']} works it has only"
        f" the title of: {fmt(e['technique_macro_f1_all'])}. Per tag: {_esc(rows)}",
        soft_wrap=True,
    )
