"""One module owns every identifier form, and every reader (the query reader, the parsers, the merge's link finder,
data/'s schema, refresh) reads each form alike."""

from hypothesis import given
from hypothesis import strategies as st

from importers import identifiers
from importers.records import linked_ids
from kb.query import identifier_candidates
from kb.store.records import Work

new_style = st.builds(  # four digits after the dot until 1412, five since 1501
    lambda yy, mm, n: f"{yy:02d}{mm:02d}.{n:0{4 if yy < 15 else 5}d}",
    st.integers(7, 26),
    st.integers(1, 12),
    st.integers(1, 9999),
)
old_style = st.builds(
    lambda archive, cls, number: f"{archive}{cls}/{number:07d}",
    st.sampled_from(["hep-th", "astro-ph", "quant-ph", "cond-mat", "math", "cs", "physics"]),
    st.sampled_from(["", ".GT", ".AG", ".LG"]),
    st.integers(1, 9_999_999),
)
arxiv_ids = st.one_of(new_style, old_style)
versions = st.one_of(st.just(""), st.integers(1, 30).map(lambda v: f"v{v}"))


def pasted_forms(bare: str, version: str) -> list[str]:
    return [
        f"{bare}{version}",
        f"arXiv:{bare}{version}",
        f"https://arxiv.org/abs/{bare}{version}",
        f"http://export.arxiv.org/pdf/{bare}{version}.pdf",
        f"arxiv.org/abs/{bare}{version}",  # no scheme, as copied from an address bar
        f"https://doi.org/10.48550/arXiv.{bare}",
    ]


@given(arxiv_ids, versions)
def test_every_pasted_form_of_an_arxiv_id_names_the_same_stored_id(bare, version):
    for form in pasted_forms(bare, version):
        assert ("arxiv", bare.lower()) in identifier_candidates(form), form


@given(arxiv_ids, versions)
def test_the_link_finder_and_the_parsers_strip_the_version_alike(bare, version):
    text = f'<a href="https://arxiv.org/abs/{bare}{version}">the paper</a>'
    assert linked_ids(text) == [("arxiv", bare)]
    assert identifiers.strip_version(f"{bare}{version}") == bare
    assert identifiers.is_arxiv_id(f"{bare}{version}", versioned=True)
    assert identifiers.is_arxiv_id(bare) and identifiers.is_arxiv_id(f"{bare}{version}") == (version == "")


@given(arxiv_ids)
def test_data_stores_exactly_the_ids_the_readers_give(bare):
    work = Work(id="w", kind="paper", title="T", ids={"arxiv": bare})
    assert work.ids["arxiv"] == bare
    assert identifiers.arxiv_from_doi(f"10.48550/arXiv.{bare}") == bare.lower()


def test_what_is_no_identifier_is_none_of_them():
    not_ids = ("probing", "2310.014", "231.01405", "10.1/x", "hep-th/990100", "https://example.org/abs/2310.01405", "W")
    for text in not_ids:
        assert identifier_candidates(text) == [], text
    assert identifiers.arxiv_from_doi("10.1162/coli.a.572") is None
    assert identifiers.strip_version("10.1000/abcv2") == "10.1000/abcv2"  # a DOI that ends like a version


def test_forum_and_openalex_forms():
    post = "https://www.lesswrong.com/posts/PLqopCagHKo2EK5cE/some-title"
    assert identifier_candidates(post) == [("lesswrong", "PLqopCagHKo2EK5cE")] * 2
    assert identifier_candidates("alignmentforum.org/posts/PLqopCagHKo2EK5cE")[0] == (
        "alignmentforum",
        "PLqopCagHKo2EK5cE",
    )
    assert identifier_candidates("https://openalex.org/W4387") == [("openalex", "w4387")]
    assert identifier_candidates("doi:10.1162/COLI.a.572.") == [("doi", "10.1162/coli.a.572")]
