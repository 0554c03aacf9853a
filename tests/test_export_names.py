"""Names and field values in citations: organisations as authors, generational suffixes, and text that would
break a .bib file's braces."""

import json
import os
import re

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser
from bibtexparser.customization import splitname
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.export import cite_key, highwire, latex_escape, parse_name, render

EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "300"))
fuzz = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def work(**kw):
    base = {
        "id": "x",
        "kind": "paper",
        "title": "A Study of Things",
        "authors": [{"id": "a", "name": "Andy Zou"}],
        "more_authors": False,
        "year": 2020,
        "date": None,
        "venue": "Philosophical Studies",
        "abstract": None,
        "url": None,
        "ids": {},
        "categories": [],
    }
    return {**base, **kw}


def authors(*names):
    return [{"id": str(i), "name": n} for i, n in enumerate(names)]


def parse_bib(text: str) -> list[dict]:
    # bibtexparser drops an entry whose braces do not balance rather than failing, so callers count the entries
    return bibtexparser.loads(text, BibTexParser(ignore_nonstandard_types=False, common_strings=True)).entries


def bibtex_names(field: str) -> list[str]:
    """An author field split as BibTeX splits it: at ' and ' outside braces (bibtexparser's own split ignores them)."""
    names, depth, start = [], 0, 0
    for m in re.finditer(r"[{}]|\s+and\s+", field, flags=re.I):
        if m[0] == "{":
            depth += 1
        elif m[0] == "}":
            depth -= 1
        elif depth == 0:
            names.append(field[start : m.start()])
            start = m.end()
    return [*names, field[start:]]


def the_entry(w: dict) -> dict:
    entries = parse_bib(render([w], "bibtex"))
    assert len(entries) == 1, render([w], "bibtex")
    return entries[0]


def csl_authors(w: dict) -> list[dict]:
    return json.loads(render([w], "csl-json"))[0]["author"]


def ris_authors(w: dict) -> list[str]:
    return [line[6:] for line in render([w], "ris").splitlines() if line.startswith("AU  - ")]


# -- organisations as authors ---------------------------------------------------------------

DHHS = "Department of Health and Human Services"


def test_a_corporate_author_is_braced_so_bibtex_does_not_split_it_on_and():
    entry = the_entry(work(authors=authors(DHHS, "Andy Zou")))
    assert bibtex_names(entry["author"]) == ["{Department of Health and Human Services}", "Zou, Andy"]
    assert splitname(bibtex_names(entry["author"])[0])["last"] == ["{Department of Health and Human Services}"]


def test_a_corporate_author_is_a_literal_name_in_csl_json_and_as_it_is_in_ris_and_highwire():
    w = work(authors=authors(DHHS, "Andy Zou"))
    assert csl_authors(w) == [{"literal": DHHS}, {"family": "Zou", "given": "Andy"}]
    assert ris_authors(w) == [DHHS, "Zou, Andy"]
    assert ("citation_author", DHHS) in highwire(w)


@pytest.mark.parametrize(
    "name",
    [
        DHHS,
        "Center for AI Safety",
        "Ministry of Defence",
        "Research & Development",
        "OpenAI Superalignment Team",
        "Anthropic Interpretability Group",
        "Massachusetts Institute of Technology",
        "Stanford University",
        "Future of Life Institute",
        "Acme Inc.",
        "Acme Ltd",
        "Redwood Research Foundation",
        "Machine Intelligence Research Laboratory",
        "Apollo Lab",
        "The BigScience Collaboration",
        "EleutherAI Project",
        "LAION Consortium",
        "Association for Computing Machinery",
        "Committee on Standards",
    ],
)
def test_an_organisation_is_recognised_by_a_word_no_person_is_named(name):
    assert parse_name(name).literal


@pytest.mark.parametrize(
    ("name", "family", "given"),
    [
        ("Andy Zou", "Zou", "Andy"),
        ("J. Zico Kolter", "Kolter", "J. Zico"),
        ("Ludwig van Beethoven", "van Beethoven", "Ludwig"),
        ("Pedro Henrique Martins Oliveira Santos", "Santos", "Pedro Henrique Martins Oliveira"),  # long, a person
        ("Karthik V", "V", "Karthik"),  # a trailing V is an initial, not 'the fifth'
        ("Ivan Iv", "Iv", "Ivan"),
        ("Paul Christiano", "Christiano", "Paul"),
        ("Andy Zou (Center)", "(Center)", "Andy Zou"),
    ],
)
def test_people_are_not_taken_for_organisations(name, family, given):
    assert parse_name(name)[:3] == (family, given, "")
    assert not parse_name(name).literal


def test_a_corporate_author_keys_by_its_initials_not_its_last_word():
    assert cite_key(work(authors=authors(DHHS))) == "dhhsStudyThings2020"


# -- suffixes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "family", "given", "suffix"),
    [
        ("Martin Luther King Jr.", "King", "Martin Luther", "Jr."),
        ("Martin Luther King Jr", "King", "Martin Luther", "Jr"),
        ("Martin Luther King, Jr.", "King", "Martin Luther", "Jr."),
        ("King, Martin Luther, Jr.", "King", "Martin Luther", "Jr."),
        ("King, Jr., Martin Luther", "King", "Martin Luther", "Jr."),
        ("Robert L. Logan IV", "Logan", "Robert L.", "IV"),
        ("John Smith Sr.", "Smith", "John", "Sr."),
        ("Henry Ford II", "Ford", "Henry", "II"),
        ("Thurston Howell III", "Howell", "Thurston", "III"),
    ],
)
def test_a_generational_suffix_is_not_taken_for_the_family_name(name, family, given, suffix):
    assert parse_name(name)[:3] == (family, given, suffix)


def test_bibtex_writes_a_suffix_in_its_von_last_jr_first_form():
    entry = the_entry(work(authors=authors("Martin Luther King Jr.", "Robert L. Logan IV")))
    assert entry["author"] == "King, Jr., Martin Luther and Logan, IV, Robert L."
    king = splitname(bibtex_names(entry["author"])[0])
    assert (king["last"], king["jr"], king["first"]) == (["King"], ["Jr."], ["Martin", "Luther"])


def test_csl_json_ris_and_highwire_keep_the_suffix_apart():
    w = work(authors=authors("Martin Luther King Jr."))
    assert csl_authors(w) == [{"family": "King", "given": "Martin Luther", "suffix": "Jr."}]
    assert ris_authors(w) == ["King, Martin Luther, Jr."]
    assert ("citation_author", "King, Martin Luther, Jr.") in highwire(w)


def test_the_cite_key_comes_from_the_family_name_not_the_suffix():
    assert cite_key(work(authors=authors("Martin Luther King Jr."))) == "kingStudyThings2020"
    assert cite_key(work(authors=authors("Robert L. Logan IV"))) == "loganStudyThings2020"


# -- field values that would break the entry ------------------------------------------------------


def test_a_doi_with_lone_braces_is_percent_encoded_and_keeps_its_percent():
    entry = the_entry(work(ids={"doi": "10.1234/ab}c{d%x"}, url="https://example.org/a b{c}?q=50%25&x_y#f"))
    assert entry["doi"] == "10.1234/ab%7Dc%7Bd%x"  # the form doi.org resolves; '%' left for the URL it makes
    assert entry["url"] == "https://example.org/a%20b%7Bc%7D?q=50%25&x_y#f"


def test_an_arxiv_id_and_category_are_escaped_like_every_other_field():
    entry = the_entry(work(ids={"arxiv": "2401.0}0001"}, categories=["cs.{LG"]))
    assert entry["eprint"] == "2401.0%7D0001" and entry["primaryclass"] == r"cs.\textbraceleft{}LG"


def test_lone_braces_in_text_fields_are_written_as_commands_that_hold_no_brace():
    assert latex_escape("a } b { c") == r"a \textbraceright{} b \textbraceleft{} c"
    assert latex_escape("}{x}{") == r"\textbraceright{}\{x\}\textbraceleft{}"
    entry = the_entry(work(title="Closing } early", venue="Journal { of Unbalance", abstract="a}b"))
    assert entry["title"] == r"Closing \textbraceright{} early" and entry["abstract"] == r"a\textbraceright{}b"
    assert entry["journal"] == r"Journal \textbraceleft{} of Unbalance"


def test_a_capitalised_word_after_an_underscore_is_protected_without_breaking_the_escape():
    entry = the_entry(work(title="Probing x_ABC and LLMs"))
    assert entry["title"] == r"Probing x\_{ABC} and {LLMs}"


def balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


TEXT = st.one_of(
    st.text(),
    st.lists(st.sampled_from(["{", "}", "\\", "%", "@misc{k,", "}\n}", " and ", "#", "~", "_", "x", " "])).map("".join),
)


@fuzz
@given(
    title=TEXT.filter(str.strip),
    name=TEXT,
    venue=TEXT,
    abstract=TEXT,
    doi=TEXT,
    url=TEXT,
    arxiv=TEXT,
    category=TEXT,
    kind=st.sampled_from(["paper", "report", "post"]),
)
@pytest.mark.slow
def test_any_text_in_any_field_makes_one_balanced_entry_that_parses_back(
    title, name, venue, abstract, doi, url, arxiv, category, kind
):
    w = work(
        kind=kind,
        title=title,
        authors=authors(name, "Andy Zou"),
        venue=venue or None,
        abstract=abstract or None,
        url=url or None,
        ids={"doi": doi, "arxiv": arxiv},
        categories=[category],
    )
    text = render([w], "bibtex")
    body = text[text.index(",") + 1 : text.rindex("}")]  # the fields, between the key and the entry's closing brace
    assert balanced(body), text
    fields = re.findall(r"^  (\w+) = \{(.*)\},?$", body, flags=re.M)
    assert len(fields) == body.count("\n") - 1 and all(balanced(value) for _, value in fields), text
    entry = the_entry(w)
    from kb.text import safe

    assert entry["ID"] == cite_key(safe(w))  # an export drops control characters first (kb.export.render)
    assert bibtex_names(entry["author"])[-1] == "Zou, Andy"  # no name or brace ran into the next
