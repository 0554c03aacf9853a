"""data/: the source of truth. Loads it into records (with the place of each) and writes it back.

Layout:
    data/taxonomy.toml             the technique tree and the x-risk motivations
    data/authors.jsonl             authors with extra facts (aliases, Scholar id, ...), sorted by id
    data/works/<kind>s.jsonl       one work a line, sorted by id
    data/summaries/<work-id>.md    YAML front matter + Markdown
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from kb.store import frontmatter
from kb.store.layout import find_data_dir, source_files, works_file  # noqa: F401 (re-exported)
from kb.store.problems import Problem
from kb.store.records import WORK_KINDS, Author, Motivation, Summary, SummaryMeta, Technique, Work


@dataclass
class Dataset:
    root: Path
    works: list[Work] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)
    motivations: list[Motivation] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # (kind of record, id) -> (path, line), so later checks can point at the right line.
    places: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    def place(self, kind: str, key: str) -> tuple[str, int]:
        return self.places.get((kind, key), ("?", 0))


def load(root: Path) -> Dataset:
    from kb.store import lock

    lock.recover(root)  # a writer killed mid-way: finish its renames first, so we read all of one state
    ds = Dataset(root=root)
    if not (root / "taxonomy.toml").exists():
        ds.problems.append(Problem(str(root / "taxonomy.toml"), 0, "missing: data/ needs a taxonomy"))
        return ds
    _load_taxonomy(ds, root / "taxonomy.toml")
    if (root / "authors.jsonl").exists():
        ds.authors = _load_jsonl(ds, root / "authors.jsonl", Author, "author")
    for path in sorted((root / "works").glob("*.jsonl")):
        ds.works += _load_jsonl(ds, path, Work, "work")
    for path in sorted((root / "summaries").glob("*.md")):
        summary = _load_summary(ds, path)
        if summary:
            ds.summaries.append(summary)
    return ds


def _rel(ds: Dataset, path: Path) -> str:
    try:
        return str(path.relative_to(ds.root.parent))
    except ValueError:
        return str(path)


def _errors(e: ValidationError) -> list[str]:
    out = []
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"])
        out.append(f"{where}: {err['msg']}" if where else err["msg"])
    return out


@cache
def _list_of(model) -> TypeAdapter:
    return TypeAdapter(list[model])


def _read(ds: Dataset, path: Path) -> str | None:
    """A data file's text, or None with a problem naming the file (and line): bytes that are not UTF-8, a folder
    where a file should be, a symlink loop, a file that cannot be read are facts about data/, not crashes."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        ds.problems.append(
            Problem(_rel(ds, path), line, f"not UTF-8 text: byte {e.object[e.start]:#x} at offset {e.start}")
        )
    except OSError as e:
        ds.problems.append(Problem(_rel(ds, path), 0, f"cannot read: {e.strerror or e}"))
    return None


def _load_jsonl(ds: Dataset, path: Path, model, kind: str) -> list:
    rel, text = _rel(ds, path), _read(ds, path)
    if text is None:
        return []
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    try:
        # the whole file in one call to pydantic's parser; a file with a problem is re-read line by line
        parsed = _list_of(model).validate_json("[" + ",".join(line for _, line in numbered) + "]")
    except ValidationError:
        parsed = [_parse_line(ds, rel, n, line, model, kind) for n, line in numbered]
    records = []
    for (n, _), record in zip(numbered, parsed):
        if record is None:
            continue
        if (kind, record.id) in ds.places:
            first = "{}:{}".format(*ds.places[(kind, record.id)])
            ds.problems.append(Problem(rel, n, f"duplicate {kind} id {record.id!r} (first at {first})"))
            continue
        ds.places[(kind, record.id)] = (rel, n)
        records.append(record)
    return records


def _parse_line(ds: Dataset, rel: str, n: int, line: str, model, kind: str):
    try:
        return model.model_validate_json(line)
    except ValidationError as e:
        ds.problems.extend(_line_problems(rel, n, line, e, kind))
        return None


def _line_problems(rel: str, n: int, line: str, e: ValidationError, kind: str) -> list[Problem]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as bad:
        return [Problem(rel, n, f"not valid JSON: {bad.msg} (column {bad.colno})")]
    label = raw.get("id", "?") if isinstance(raw, dict) else "?"
    return [Problem(rel, n, f"{kind} {label}: {m}") for m in _errors(e)]


def _toml_lines(text: str, table: str) -> dict[str, int]:
    """slug -> line of its [[table]] header; tomllib gives no positions, so find them in the text."""
    lines, header = text.splitlines(), 0
    out: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if line.strip() == f"[[{table}]]":
            header = n
        elif header and (m := re.match(r'\s*slug\s*=\s*"([^"]*)"', line)):
            out.setdefault(m.group(1), header)
            header = 0
    return out


def _load_taxonomy(ds: Dataset, path: Path) -> None:
    rel, text = _rel(ds, path), _read(ds, path)
    if text is None:
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        ds.problems.append(Problem(rel, int(m.group(1)) if m else 0, f"not valid TOML: {e}"))
        return
    tables: tuple[tuple[str, type[Technique] | type[Motivation], list[Any]], ...] = (
        ("technique", Technique, ds.techniques),
        ("motivation", Motivation, ds.motivations),
    )
    for table, model, target in tables:
        lines = _toml_lines(text, table)
        for raw in data.get(table, []):
            line = lines.get(raw.get("slug", ""), 0)
            try:
                record = model.model_validate(raw)
            except ValidationError as e:
                ds.problems += [Problem(rel, line, f"{table} {raw.get('slug', '?')}: {m}") for m in _errors(e)]
                continue
            ds.places.setdefault((table, record.slug), (rel, line))
            target.append(record)
    for key in set(data) - {"technique", "motivation"}:
        ds.problems.append(Problem(rel, 0, f"unknown table [{key}]: expected [[technique]] or [[motivation]]"))


def _load_summary(ds: Dataset, path: Path) -> Summary | None:
    rel, text = _rel(ds, path), _read(ds, path)
    if text is None:
        return None
    try:
        doc = frontmatter.parse(text)
    except frontmatter.FrontMatterError as e:
        ds.problems.append(Problem(rel, e.line, str(e)))
        return None
    try:
        meta = SummaryMeta.model_validate(doc.meta)
    except ValidationError as e:
        for err in e.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            where = ".".join(str(p) for p in err["loc"])
            ds.problems.append(
                Problem(rel, doc.key_lines.get(key, 1), f"{where}: {err['msg']}" if where else err["msg"])
            )
        return None
    ds.places[("summary", meta.work)] = (rel, 1)
    for key, line in {**doc.key_lines, "body": doc.body_line}.items():
        ds.places[("summary-key", f"{meta.work}:{key}")] = (rel, line)
    if path.stem != meta.work:
        ds.problems.append(
            Problem(rel, doc.key_lines.get("work", 1), f"file name must be {meta.work}.md, the id of its work")
        )
    if not doc.body.strip():
        ds.problems.append(Problem(rel, doc.body_line, "the summary has no body"))
    return Summary(meta=meta, body=doc.body, path=rel)


# -- writing back -------------------------------------------------------------------------


def dump_line(record) -> str:
    data = record.to_data() if hasattr(record, "to_data") else record.model_dump(mode="json", exclude_defaults=True)
    return json.dumps(data, ensure_ascii=False)


def jsonl_text(records) -> str:
    return "".join(dump_line(r) + "\n" for r in sorted(records, key=lambda r: r.id))


def works_files(root: Path, works: list[Work]) -> dict[Path, str]:
    """Each kind's file of data/works and its new text, sorted by id, so that imports give clean diffs."""
    files = {}
    for kind in WORK_KINDS:
        of_kind = [w for w in works if w.kind == kind]
        path = root / works_file(kind)
        if of_kind or path.exists():
            files[path] = jsonl_text(of_kind)
    return files


def write_dataset(root: Path, works: list[Work], authors: list[Author] | None = None) -> None:
    """Write the works (and authors) files that changed, all at once: a killed write leaves before or after."""
    from kb.store import lock

    files = works_files(root, works)
    if authors:
        files[root / "authors.jsonl"] = jsonl_text(authors)
    changed = {p: text for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text}
    if changed:
        lock.write_files(root, changed)
