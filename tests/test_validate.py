"""`kb validate` checks all of data/ and names the file and line of every problem."""

import json

from kb.store import datadir, validate


def problems(data):
    return [str(p) for p in validate.check(datadir.load(data))]


def append_work(data, work, file="papers"):
    path = data / "works" / f"{file}.jsonl"
    path.write_text(path.read_text() + json.dumps(work) + "\n")


def test_the_fixture_is_valid(data, kb):
    assert problems(data) == []
    result = kb("validate")
    assert result.exit_code == 0
    assert "4 works, 1 summaries" in result.stdout


def test_malformed_json_names_file_and_line(data, kb):
    path = data / "works" / "papers.jsonl"
    path.write_text(path.read_text() + '{"id": "broken-2020", "title": \n')
    result = kb("validate")
    assert result.exit_code == 1
    assert "data/works/papers.jsonl:4: not valid JSON" in result.stderr


def test_schema_errors_name_the_field(data):
    append_work(data, {"id": "zz-bad-2020", "kind": "book", "title": "", "year": 2020, "date": "2021-05-01"})
    found = problems(data)
    assert any(p.startswith("data/works/papers.jsonl:4: work zz-bad-2020: kind:") for p in found)
    assert any("title: String should have at least 1 character" in p for p in found)


def test_date_must_fall_in_year_and_be_a_date(data):
    append_work(data, {"id": "zz-a-2020", "kind": "paper", "title": "A", "year": 2020, "date": "2021-05-01"})
    append_work(data, {"id": "zz-b-2020", "kind": "paper", "title": "B", "year": 2020, "date": "2020-02-31"})
    found = problems(data)
    assert any(":4:" in p and "not in year 2020" in p for p in found)
    assert any(":5:" in p and "date" in p for p in found)


def test_unknown_slugs_and_dangling_relations(data):
    append_work(
        data,
        {
            "id": "zz-c-2020",
            "kind": "paper",
            "title": "C",
            "techniques": ["probes"],
            "motivations": [{"slug": "doom", "status": "inferred", "reasoning": "Doom."}],
            "relations": [{"type": "extends", "target": "nowhere-1999"}],
        },
    )
    found = problems(data)
    assert "data/works/papers.jsonl:4: work zz-c-2020: unknown technique 'probes'" in found
    assert "data/works/papers.jsonl:4: work zz-c-2020: unknown motivation 'doom'" in found
    assert any("extends 'nowhere-1999', which is not in the catalogue" in p for p in found)


def test_duplicate_ids_point_at_both_lines(data):
    append_work(data, {"id": "old-pruning-2016", "kind": "paper", "title": "Again"})
    assert (
        "data/works/papers.jsonl:4: duplicate work id 'old-pruning-2016' (first at data/works/papers.jsonl:3)"
        in problems(data)
    )


def test_one_arxiv_id_on_two_works_is_a_duplicate(data):
    append_work(data, {"id": "zz-d-2023", "kind": "paper", "title": "D", "ids": {"arxiv": "2311.00001"}})
    assert any("arxiv 2311.00001 is also work 'coup-probes-2023'" in p for p in problems(data))


def test_lines_must_stay_sorted_and_in_their_kinds_file(data):
    append_work(data, {"id": "aaa-2020", "kind": "post", "title": "Early"})
    found = problems(data)
    assert any(":4: 'aaa-2020' comes after 'old-pruning-2016'" in p for p in found)
    assert any("a post belongs in data/works/posts.jsonl" in p for p in found)


def test_taxonomy_cycles_and_unknown_parents(data):
    path = data / "taxonomy.toml"
    path.write_text(
        path.read_text().replace('parent = "representation-engineering"', 'parent = "probing"')
        + '\n[[technique]]\nslug = "orphan"\nname = "O"\ndescription = "O."\nparent = "nothing"\n'
    )
    found = problems(data)
    assert any("technique probing: its parents form a cycle" in p for p in found)
    assert any("technique orphan: unknown parent 'nothing'" in p for p in found)


def test_broken_front_matter_names_the_line(data):
    (data / "summaries" / "lat-paper-2023.md").write_text("---\nwork: lat-paper-2023\nstatus: [draft\n---\nBody\n")
    found = problems(data)
    assert any(p.startswith("data/summaries/lat-paper-2023.md:") and "not valid YAML" in p for p in found)


def test_front_matter_must_open_and_close(data):
    (data / "summaries" / "lat-paper-2023.md").write_text("work: lat-paper-2023\n")
    (data / "summaries" / "probe-post-2024.md").write_text("---\nwork: probe-post-2024\n")
    found = problems(data)
    assert "data/summaries/lat-paper-2023.md:1: the file must start with a front matter block opened by '---'" in found
    assert "data/summaries/probe-post-2024.md:1: the front matter opened on line 1 is never closed by '---'" in found


def test_summary_checks_point_at_the_key(data):
    (data / "summaries" / "ghost-2020.md").write_text(
        "---\nwork: ghost-2020\ncontributors: [Me]\nstatus: final\nmotivations: [monitoring]\n---\nText\n"
    )
    found = problems(data)
    assert any(p.startswith("data/summaries/ghost-2020.md:4: status:") for p in found)
    (data / "summaries" / "ghost-2020.md").write_text(
        "---\nwork: ghost-2020\ncontributors: [Me]\nmotivations: [doom]\nmotivation_stated_by: authors\n---\nText\n"
    )
    found = problems(data)
    assert "data/summaries/ghost-2020.md:2: summary of 'ghost-2020', which is not in the catalogue" in found
    assert "data/summaries/ghost-2020.md:4: unknown motivation 'doom'" in found


def test_summary_file_must_be_named_after_its_work(data):
    (data / "summaries" / "wrong-name.md").write_text("---\nwork: lat-paper-2023\ncontributors: [Me]\n---\nText\n")
    assert "data/summaries/wrong-name.md:2: file name must be lat-paper-2023.md, the id of its work" in problems(data)


def test_a_control_character_in_a_summary_is_reported_on_its_own_line(data):
    (data / "summaries" / "coup-probes-2023.md").write_text(
        "---\nwork: coup-probes-2023\ncontributors: [Me]\nmotivations: [monitoring]\nmotivation_stated_by: authors\n"
        'xrisk: "Why \\u0007 it matters"\n---\n\nFirst paragraph.\n\nSecond, with a \x1b[31mcolour.\n'
    )
    found = problems(data)
    assert any(p.startswith("data/summaries/coup-probes-2023.md:11: summary of coup-probes-2023: body") for p in found)
    assert any(p.startswith("data/summaries/coup-probes-2023.md:6: summary of coup-probes-2023: xrisk") for p in found)


def test_an_arxiv_id_with_its_version_or_a_doi_url_is_refused(data):
    append_work(
        data, {"id": "zz-a-2016", "kind": "paper", "title": "A", "year": 2016, "ids": {"arxiv": "1605.08386v1"}}
    )
    append_work(
        data, {"id": "zz-b-2016", "kind": "paper", "title": "B", "year": 2016, "ids": {"doi": "https://doi.org/10.1/x"}}
    )
    append_work(
        data, {"id": "zz-c-2006", "kind": "paper", "title": "C", "year": 2006, "ids": {"arxiv": "astro-ph/0601001"}}
    )
    found = problems(data)
    assert any(":4:" in p and "'1605.08386v1' is not an arXiv id without its version" in p for p in found)
    assert any(":5:" in p and "is not a DOI" in p for p in found)
    assert not any(":6:" in p for p in found)


def test_an_unreadable_taxonomy_is_reported_alone_not_with_every_tag_it_makes_unknown(data):
    taxonomy = data / "taxonomy.toml"
    taxonomy.write_text(taxonomy.read_text() + "\n[[technique\n")
    found = problems(data)
    assert len(found) == 1 and found[0].startswith("data/taxonomy.toml:") and "not valid TOML" in found[0]
