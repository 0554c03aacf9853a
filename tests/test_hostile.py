"""Hostile text in data/: nothing reaches the terminal as a control sequence, no user mistake is a traceback."""

import json

import pytest

from kb.cli import output
from kb.cli.output import safe
from kb.store import frontmatter

NASTY = (
    "Probes \x1b]0;pwned\x07 \x1b]8;;javascript:alert(1)\x1b\\link\x1b]8;;\x1b\\ \x1b[31mred\x9b2J C:\\probes [bold]x[/"
)


def hostile(data):
    """NASTY as the first work's abstract in data/ (which `kb validate` refuses)."""
    path = data / "works" / "papers.jsonl"
    lines = path.read_text().splitlines()
    work = json.loads(lines[0])
    work["abstract"] = NASTY
    lines[0] = json.dumps(work)
    path.write_text("\n".join(lines) + "\n")
    return work["id"]


def hostile_catalogue(kb, data):
    """NASTY as the first work's abstract in a catalogue that has it anyway (one built elsewhere, by an older
    kb): what the CLI prints must be safe whatever the catalogue holds."""
    import sqlite3

    work_id = json.loads((data / "works" / "papers.jsonl").read_text().splitlines()[0])["id"]
    assert kb("build").exit_code == 0
    with sqlite3.connect(data.parent / "build" / "catalogue.sqlite") as conn:
        assert conn.execute("UPDATE work SET abstract = ? WHERE id = ?", (NASTY, work_id)).rowcount == 1
    return work_id


def test_safe_text_keeps_the_words_and_drops_every_control_sequence():
    cleaned = safe(NASTY)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in cleaned)
    assert "pwned" not in cleaned and "javascript" not in cleaned
    assert "Probes" in cleaned and "link" in cleaned and "red" in cleaned and "C:\\probes" in cleaned


@pytest.mark.parametrize("terminal", [True, False], ids=["laid-out-for-a-terminal", "plain-into-a-pipe"])
def test_show_search_and_list_never_print_a_control_character_nor_crash_on_markup(kb, data, monkeypatch, terminal):
    monkeypatch.setattr(output, "_terminal", lambda: terminal)
    monkeypatch.delenv("FORCE_COLOR", raising=False)  # colour would split a fact by its codes
    work_id = hostile_catalogue(kb, data)
    for args in (("show", work_id), ("search", "probes"), ("list",), ("show", work_id, "--json")):
        result = kb(*args)
        assert result.exit_code == 0, (args, result.output)
        assert not [c for c in result.stdout if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F], args
    assert "C:\\probes" in kb("show", work_id).stdout  # the hostile text was there, made safe


def test_validate_refuses_control_characters_in_prose_and_names_the_place(kb, data):
    hostile(data)
    result = kb("validate")
    assert result.exit_code == 1
    assert "papers.jsonl:1:" in result.stderr + result.stdout and "control character ('\\x1b')" in result.output
    assert not [c for c in result.output if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]


def test_an_impossible_date_in_a_front_matter_is_a_problem_with_its_line():
    text = "---\nwork: x-2024\ncontributors: [a]\nupdated: 2026-13-45\n---\nBody\n"
    try:
        frontmatter.parse(text)
    except frontmatter.FrontMatterError as e:
        assert e.line == 4 and "2026-13-45" in str(e)
    else:
        raise AssertionError("an impossible date was accepted")


def test_reading_commands_on_broken_data_print_the_problems_and_exit_1(kb, data):
    (data / "summaries" / "coup-probes-2023.md").write_text("---\nwork: coup-probes-2023\nupdated: 2026-13-45\n---\n")
    for args in (("search", "probes"), ("show", "coup-probes-2023"), ("list",)):
        result = kb(*args)
        assert result.exit_code == 1, args
        assert "coup-probes-2023.md:3:" in result.stderr and "Traceback" not in result.stderr


def test_a_work_with_a_bad_date_and_a_bad_id_reports_both(kb, data):
    path = data / "works" / "papers.jsonl"
    bad = {"id": "Bad Id!", "kind": "paper", "title": "A bad work", "year": 2024, "date": "2024-02-30"}
    path.write_text(path.read_text() + json.dumps(bad) + "\n")
    result = kb("validate")
    assert result.exit_code == 1
    problems = [p for p in result.stderr.splitlines() if "work Bad Id!" in p]
    assert any(": date:" in p for p in problems) and any(": id:" in p for p in problems), result.stderr


def test_an_import_stores_no_control_character(data):
    from importers.records import WorkRecord
    from kb.ingest.imports import Fetched, apply
    from kb.store import datadir
    from kb.workspace import Workspace

    record = WorkRecord(
        source="lesswrong",
        kind="post",
        title="Probes \x1b]0;pwned\x07 at scale",
        authors=["Eve\x1b[31m"],
        year=2025,
        abstract=NASTY,
        ids={"lesswrong": "p0000000000000001"},
    )
    (added,) = apply(Workspace(data, data.parent / "kb.sqlite"), [Fetched("test", [record])]).added
    work = {w.id: w for w in datadir.load(data).works}[added]
    assert (work.title, work.authors) == ("Probes at scale", ["Eve"])
    assert not [c for c in work.abstract if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F]


# -- every stored field and every output stream --------------------------------------------------------------

ESC_DOI = "10.1234/probe\x1b]52;c;cHduZWQ=\x07\u202e"  # an OpenAlex answer's DOI carrying a clipboard write
INVISIBLE = "\u202e\u200b\u2066"  # a right-to-left override, a zero-width space, an isolate


def test_an_import_cleans_ids_urls_links_and_every_other_field(data):
    from importers.records import Link, WorkRecord
    from kb.ingest.imports import Fetched, apply
    from kb.store import datadir
    from kb.workspace import Workspace

    record = WorkRecord(
        source="openalex",
        kind="paper",
        title="Clean \u202eme",
        authors=["Ada\u200b Lovelace"],
        year=2025,
        venue="Venue\x1b[2J\x07",
        url="https://x.example/p\x1b[31m",
        ids={"doi": ESC_DOI, "openalex": "W1\x00"},
        links=[Link("discusses", "arxiv", "2311.00001\x1b[0m")],
        categories=["cs.LG\x9b"],
        affiliations={"Ada\u200b Lovelace": ["Lab\x1b]0;x\x07"]},
    )
    (added,) = apply(Workspace(data, data.parent / "kb.sqlite"), [Fetched("test", [record])]).added
    line = next(ln for ln in (data / "works" / "papers.jsonl").read_text().splitlines() if added in ln)
    stored = json.loads(line)
    assert stored["ids"] == {"doi": "10.1234/probe", "openalex": "w1"} or stored["ids"]["doi"] == "10.1234/probe"
    assert (stored["title"], stored["authors"], stored["venue"]) == ("Clean me", ["Ada Lovelace"], "Venue")
    assert stored["url"] == "https://x.example/p"
    text = json.dumps(stored, ensure_ascii=False)
    assert not [c for c in text if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in INVISIBLE], text
    assert {"type": "discusses", "target": "coup-probes-2023"} in stored.get("relations", [])  # the link still joins
    assert datadir.load(data).problems == []


def test_validate_refuses_a_control_character_in_an_id_a_url_or_a_venue(kb, data):
    path = data / "works" / "papers.jsonl"
    lines = path.read_text().splitlines()
    work = json.loads(lines[0])
    work["ids"] = {"doi": ESC_DOI}
    work["venue"] = "NeurIPS\u202e"
    work["url"] = "https://x.example/\x1b[2J"
    lines[0] = json.dumps(work)
    path.write_text("\n".join(lines) + "\n")
    result = kb("validate")
    assert result.exit_code == 1
    for field in ("ids.doi", "venue", "url"):
        assert f": {field} " in result.stderr, (field, result.stderr)


def _hostile_fields(data, **fields):
    """A catalogue whose first work holds these values as they are (built elsewhere, by an older kb)."""
    import sqlite3

    from kb.catalogue.build import build
    from kb.store import datadir

    build(datadir.load(data), data.parent / "build" / "catalogue.sqlite")
    work_id = json.loads((data / "works" / "papers.jsonl").read_text().splitlines()[0])["id"]
    with sqlite3.connect(data.parent / "build" / "catalogue.sqlite") as conn:
        for column, value in fields.items():
            assert conn.execute(f"UPDATE work SET {column} = ? WHERE id = ?", (value, work_id)).rowcount == 1
    return work_id


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c in INVISIBLE]


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json", "ris"])
def test_export_prints_no_control_sequence_from_venue_url_or_doi(kb, data, fmt):
    work_id = _hostile_fields(
        data, venue="Venue\x1b]52;c;cHduZWQ=\x07\x1b[2J\x00", url="https://x.example/\x07p", title=f"T{INVISIBLE}"
    )
    import sqlite3

    with sqlite3.connect(data.parent / "build" / "catalogue.sqlite") as conn:  # the DOI as an older kb stored it
        conn.execute(
            "INSERT INTO identifier (scheme, value, work_pk, shown) SELECT 'doi', ?, pk, ? FROM work WHERE id = ?",
            (ESC_DOI.lower(), ESC_DOI, work_id),
        )
    result = kb("export", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert _raw_controls(result.stdout) == [], fmt
    assert "10.1234/probe" in result.stdout and "Venue" in result.stdout


def test_json_output_escapes_bidi_and_zero_width_characters_and_keeps_the_value(kb, data):
    work_id = _hostile_fields(data, title=f"Safe{INVISIBLE} title\x85")
    result = kb("show", work_id, "--json")
    assert _raw_controls(result.stdout) == []
    assert "\\u202e" in result.stdout and "\\u0085" in result.stdout
    assert json.loads(result.stdout)["title"] == f"Safe{INVISIBLE} title\x85"  # escaped, not lost: a script reads it


def test_emoji_shortcodes_in_names_print_as_written(kb, data):
    taxonomy = data / "taxonomy.toml"
    taxonomy.write_text(
        taxonomy.read_text()
        .replace('name = "Linear probing"', 'name = "Linear :warning: probing"')
        .replace('description = "Probes."', 'description = "Probes."\nkeywords = ["linear classifier"]')
    )
    papers = data / "works" / "papers.jsonl"
    papers.write_text(
        papers.read_text().replace("off-policy detect", "off-policy :warning: as a linear classifier detect")
    )
    result = kb("techniques")
    assert result.exit_code == 0 and ":warning:" in result.stdout and "\u26a0" not in result.stdout
    explained = kb("tag", "--explain", "coup-probes-2023", "--rules-only")
    assert explained.exit_code == 0, explained.output
    assert ":warning:" in explained.stdout and "\u26a0" not in explained.stdout
