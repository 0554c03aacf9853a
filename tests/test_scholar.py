"""Google Scholar through scholarly's real parsers: Navigator._get_page is the only thing replaced, by pages served
from fixtures and from ../shared (Google's real 403 page)."""

import json
import re
from pathlib import Path

import pytest

from importers.records import AuthorRecord, Notice, SourceError, WorkRecord
from kb.ingest.imports import collect
from tests.conftest import SHARED

FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED / "reference-responses"
PROFILE = (FIXTURES / "scholar_profile.html").read_text()
PUBLICATION = (FIXTURES / "scholar_publication.html").read_text()
ID = "FIXTUREid01AAAAJ"
CAPTCHA = (
    "<!doctype html><html><head><title>Google Scholar</title></head><body><h1>Please show you're not a robot</h1>"
    "<p>Our systems have detected unusual traffic from your computer network.</p>"
    "<form id='gs_captcha_f' action='/sorry/index'><div class='g-recaptcha'></div></form></body></html>"
)


def forbidden() -> str:
    path = REAL / "scholar" / "google_403_forbidden.html"
    if not path.exists():
        pytest.skip("no ../shared reference responses")
    return path.read_text()


def row(n: int, cited: int = 0) -> str:
    return (
        f'<tr class="gsc_a_tr"><td class="gsc_a_t"><a href="/citations?view_op=view_citation&amp;hl=en&amp;'
        f'user={ID}&amp;citation_for_view={ID}:pub{n:04d}" class="gsc_a_at">Paper number {n}</a>'
        f'<div class="gs_gray">A Lovelace</div><div class="gs_gray">Journal {n}, 2020</div></td>'
        f'<td class="gsc_a_c"><a href="https://scholar.google.com/scholar?oi=bibs&amp;hl=en&amp;cites={n}00{n}"'
        f' class="gsc_a_ac gs_ibl">{cited}</a></td><td class="gsc_a_y"><span class="gsc_a_h gsc_a_hc gs_ibl">2020'
        f"</span></td></tr>"
    )


def page(rows: list[str], more: bool, first: bool = True) -> str:
    """A profile page: the fixture's header with other rows, "Show more" enabled or disabled."""
    body = re.sub(
        r'<tbody id="gsc_a_b">.*</tbody>', '<tbody id="gsc_a_b">' + "".join(rows) + "</tbody>", PROFILE, flags=re.S
    )
    if more:
        body = body.replace(' disabled=""', "")
    if not first:  # pages after the first have the list only
        body = re.sub(r'<div id="gsc_prf_w">.*?</div></div>', "", body, flags=re.S)
    return body


CACHE: dict = {"dir": None}  # the cache folder of the test that runs


@pytest.fixture
def google(monkeypatch, tmp_path):
    """pages[predicate] = answer; every request is recorded in pages.asked."""
    pytest.importorskip("scholarly")
    from scholarly._navigator import Navigator

    CACHE["dir"] = str(tmp_path)  # what kb gives the importer from $KB_CACHE

    class Pages(dict):
        asked: list

    pages = Pages()
    pages.asked = []

    def fake_get_page(self, url, premium=False):
        pages.asked.append(url)
        for key, answer in reversed(list(pages.items())):
            if key in url:
                if isinstance(answer, Exception):
                    raise answer
                return answer
        raise AssertionError(f"unexpected request {url}")

    monkeypatch.setattr(Navigator, "_get_page", fake_get_page)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return pages


def run(fill: bool = False):
    from importers import scholar

    spec = {"id": ID, "fill": fill, "cache_dir": CACHE["dir"]}
    return collect(f"scholar {ID}", lambda: scholar.fetch(None, spec))


def resume_file() -> Path:
    from importers import scholar

    return scholar.resume_path(ID, Path(CACHE["dir"]) / "scholar")


def profile_requests(asked: list[str]) -> list[int]:
    return [int(re.search(r"cstart=(\d+)", u).group(1)) for u in asked if "view_op=view_citation" not in u]


def test_scholar_profile_gives_the_person_and_every_publication(google):
    from importers import scholar

    google[f"user={ID}"] = PROFILE
    owner, works = scholar.fetch_profile(ID, resume_dir=Path(CACHE["dir"]) / "scholar")
    assert (owner.name, owner.scholar_id, owner.affiliation, owner.homepage) == (
        "Ada Lovelace",
        ID,
        "Analytical Engine Institute",
        "https://ada.example/",
    )
    assert [w.title for w in works] == [
        "Representation Engineering: A Top-Down Approach to AI Transparency",
        "Notes on the Analytical Engine",
    ]
    assert works[0].year == 2023 and works[0].ids == {"scholar": f"{ID}:u5HHmVD_uO8C"}
    # the profile's own lists: the first one cut short ("A Zou, L Phan, ..."), the second whole
    assert works[0].authors == ["A Zou", "L Phan"] and works[0].more_authors
    assert works[1].authors == ["A Lovelace"] and not works[1].more_authors
    assert (works[1].venue, works[1].volume, works[1].pages) == ("Scientific Memoirs", "3", None)
    assert not resume_file().exists()  # complete: nothing to resume


def test_citation_counts_are_kept_with_the_date_they_were_read(google):
    import datetime as dt

    google[f"user={ID}"] = page([row(1, cited=412), row(2, cited=0)], more=False)
    before = dt.date.today()
    works = [r for r in run().records]
    days = {before.isoformat(), dt.date.today().isoformat()}  # dated by the clock: a run may cross midnight
    assert [w.citation_count for w in works] == [412, 0]
    assert all(w.citations_as_of in days for w in works)


def test_a_block_on_the_first_page_says_what_to_do(google):
    from scholarly._proxy_generator import MaxTriesExceededException

    google[f"user={ID}"] = MaxTriesExceededException("Cannot Fetch from Google Scholar.")
    fetched = run()
    assert fetched.records == [] and fetched.authors == []
    assert "blocking automated requests" in fetched.error and "nothing was recorded" in fetched.error
    assert "kb import openalex" in fetched.error and "resume" in fetched.error


@pytest.mark.parametrize("blocker", ["403", "captcha"])
def test_a_block_on_profile_page_2_keeps_page_1_and_the_next_run_resumes_there(google, blocker):
    block = forbidden() if blocker == "403" else CAPTCHA
    google[f"user={ID}"] = page([row(n, cited=n) for n in range(100)], more=True)
    google["cstart=100"] = block
    first = run()
    assert len(first.records) == 100 and all(isinstance(r, WorkRecord) for r in first.records)
    assert first.authors and first.authors[0].name == "Ada Lovelace"
    assert "stopped at profile page 2" in first.error and "blocking automated requests" in first.error
    assert "100 publication(s) from the profile were kept" in first.error and "resume" in first.error
    assert json.loads(resume_file().read_text())["next_start"] == 100

    google.asked.clear()
    google["cstart=100"] = page([row(n) for n in range(100, 130)], more=False, first=False)
    second = run()
    assert second.error is None and len(second.records) == 130
    assert profile_requests(google.asked) == [100]  # resumed where it stopped, page 1 not asked again
    assert second.authors[0].name == "Ada Lovelace"  # the owner read before the block is kept
    assert any("resumed" in n for n in second.notices)
    assert not resume_file().exists()


@pytest.mark.parametrize("blocker", ["403", "captcha"])
def test_a_block_during_fill_keeps_every_publication_and_resumes_at_the_one_it_stopped(google, blocker):
    block = forbidden() if blocker == "403" else CAPTCHA
    google[f"user={ID}"] = PROFILE
    google["citation_for_view=FIXTUREid01AAAAJ:u5HHmVD_uO8C"] = PUBLICATION
    google["citation_for_view=FIXTUREid01AAAAJ:d1gkVwhDpl0C"] = block
    first = run(fill=True)
    assert "stopped at publication 2 of 2 (--fill)" in first.error and "blocking" in first.error
    repe, notes = first.records
    assert repe.authors == ["Andy Zou", "Long Phan", "Sarah Chen", "Ada Lovelace"] and not repe.more_authors
    assert repe.abstract.startswith("We identify and characterize") and repe.url == "https://arxiv.org/abs/2310.01405"
    assert notes.title == "Notes on the Analytical Engine" and notes.authors == ["A Lovelace"]  # the profile's list

    google.asked.clear()
    google["citation_for_view=FIXTUREid01AAAAJ:d1gkVwhDpl0C"] = PUBLICATION.replace(
        "Andy Zou, Long Phan, Sarah Chen, Ada Lovelace", "Ada Lovelace, Luigi Menabrea"
    )
    second = run(fill=True)
    assert second.error is None
    assert google.asked == [
        "https://scholar.google.com/citations?hl=en&view_op=view_citation&citation_for_view=FIXTUREid01AAAAJ:d1gkVwhDpl0C"
    ]
    assert [w.authors for w in second.records][1] == ["Ada Lovelace", "Luigi Menabrea"]


def test_googles_real_403_page_on_the_first_page_is_a_block_not_a_crash(google):
    google[f"user={ID}"] = forbidden()
    fetched = run()
    assert "Google answered 403 Forbidden" in fetched.error and "nothing was recorded" in fetched.error


def test_a_page_that_repeats_stops_the_paging(google):
    same = page([row(n) for n in range(100)], more=True)
    google[f"user={ID}"] = same
    google["cstart=100"] = page([row(n) for n in range(100)], more=True, first=False)
    fetched = run()
    assert fetched.error is None and len(fetched.records) == 100
    assert profile_requests(google.asked) == [0, 100]  # never cstart=200, 300, ...


def test_paging_is_bounded(google, monkeypatch):
    from importers import scholar

    monkeypatch.setattr(scholar, "MAX_PAGES", 3)
    google[f"user={ID}"] = page([row(n) for n in range(100)], more=True)
    for start in (100, 200, 300, 400):
        google[f"cstart={start}"] = page([row(n) for n in range(start, start + 100)], more=True, first=False)
    fetched = run()
    assert profile_requests(google.asked) == [0, 100, 200] and len(fetched.records) == 300
    assert any("stopped after 3 pages" in n for n in fetched.notices)


def test_a_page_that_is_not_a_profile_is_not_taken_for_one(google):
    google[f"user={ID}"] = "<!doctype html><html><body><p>Scholar has moved.</p></body></html>"
    fetched = run()
    assert "could not be used" in fetched.error and "not the page asked for" in fetched.error


def test_the_owner_comes_first_and_notices_are_not_records(google):
    from importers import scholar

    google[f"user={ID}"] = PROFILE
    items = list(scholar.fetch(None, {"id": ID, "cache_dir": CACHE["dir"]}))
    assert isinstance(items[0], AuthorRecord) and all(isinstance(i, WorkRecord | Notice) for i in items[1:])


def test_a_resume_file_of_another_profile_or_version_is_ignored(google):
    resume_file().parent.mkdir(parents=True, exist_ok=True)
    resume_file().write_text(json.dumps({"version": 0, "id": ID, "publications": [{"id": "x"}], "next_start": 900}))
    google[f"user={ID}"] = PROFILE
    fetched = run()
    assert fetched.error is None and len(fetched.records) == 2 and profile_requests(google.asked) == [0]


def test_a_block_is_an_error_that_fetch_profile_raises(google):
    from importers import scholar

    google[f"user={ID}"] = CAPTCHA
    with pytest.raises(SourceError, match="Google asks for a captcha"):
        scholar.fetch_profile(ID, resume_dir=Path(CACHE["dir"]) / "scholar")


def test_a_profile_listing_a_paper_about_captchas_is_not_a_block(google):
    titled = row(1).replace("Paper number 1", "CAPTCHA: Using Hard AI Problems for Security")
    google[f"user={ID}"] = page(
        [titled, row(2).replace("Paper number 2", "Error 403 (Forbidden) in web crawls")], False
    )
    fetched = run()
    assert fetched.error is None and [w.title for w in fetched.records][0].startswith("CAPTCHA")


# -- issue 24: full author lists, the venue split, an honest User-Agent, a block's advice --------------------------


@pytest.mark.parametrize(
    "line, split",
    [
        (
            "International Journal of Heat and Mass Transfer 126, 287-296, 2018",
            ("International Journal of Heat and Mass Transfer", "126", "287-296"),
        ),
        ("Nature 521 (7553), 436-444, 2015", ("Nature", "521 (7553)", "436-444")),
        ("arXiv preprint arXiv:2310.01405, 2023", ("arXiv preprint arXiv:2310.01405", None, None)),
        (
            "Advances in Neural Information Processing Systems 36, 2024",
            ("Advances in Neural Information Processing Systems", "36", None),
        ),
        (
            "Proceedings of the IEEE conference on computer vision and pattern recognition, 770-778, 2016",
            ("Proceedings of the IEEE conference on computer vision and pattern recognition", None, "770-778"),
        ),
        ("Physical Review E 98, 012345, 2018", ("Physical Review E", "98", "012345")),
        (None, (None, None, None)),
    ],
)
def test_a_profiles_venue_line_is_split_into_name_volume_and_pages(line, split):
    from importers import scholar

    assert scholar.split_venue(line) == split


def test_scholar_requests_carry_our_user_agent_not_a_random_browsers(google):
    from scholarly._navigator import Navigator

    from importers.http import USER_AGENT

    google[f"user={ID}"] = PROFILE
    run()
    nav = Navigator()
    assert nav._session1.headers["User-Agent"] == USER_AGENT == nav._session2.headers["User-Agent"]


def test_a_block_on_the_first_page_suggests_an_openalex_import_that_can_work(google):
    google[f"user={ID}"] = CAPTCHA
    fetched = run()
    assert f'--author "{ID}"' not in fetched.error  # a Scholar id is no name OpenAlex knows
    assert 'kb import openalex --author "<their name>"' in fetched.error
    assert f"https://scholar.google.com/citations?user={ID}" in fetched.error


def test_a_cut_author_list_is_completed_from_the_openalex_work_of_the_same_title_and_year(google):
    import httpx

    from importers import scholar
    from importers.http import Polite, client

    google[f"user={ID}"] = PROFILE
    google["view_op=view_citation"] = CAPTCHA  # its own page blocked: the list is completed elsewhere
    asked = []

    def openalex(request):
        asked.append(request.url.params["filter"])
        work = {
            "id": "https://openalex.org/W4387",
            "display_name": "Representation Engineering: A Top-Down Approach to AI Transparency",
            "publication_year": 2023,
            "authorships": [{"author": {"display_name": n}} for n in ("Andy Zou", "Long Phan", "Sarah Chen")],
        }
        return httpx.Response(200, json={"results": [work]})

    http = Polite(client(httpx.MockTransport(openalex)), "scholar", cache_dir=None, sleep=lambda s: None)
    items = list(scholar.fetch(http, {"id": ID, "cache_dir": CACHE["dir"]}))
    works = [i for i in items if isinstance(i, WorkRecord)]
    assert works[0].authors == ["Andy Zou", "Long Phan", "Sarah Chen"] and not works[0].more_authors
    assert works[1].authors == ["A Lovelace"]  # whole on the profile: not asked
    assert asked == ["title.search:representation engineering a top down approach to ai transparency,"
                     "publication_year:2022-2024"]  # fmt: skip
    notes = [str(i) for i in items if isinstance(i, Notice)]
    assert any("from OpenAlex W4387 (the same title, 2023)" in n for n in notes)


def test_an_openalex_work_of_another_title_leaves_the_cut_list_as_it_was(google):
    import httpx

    from importers import scholar
    from importers.http import Polite, client

    google[f"user={ID}"] = PROFILE
    other = {"id": "https://openalex.org/W1", "display_name": "Representation Engineering Revisited",
             "publication_year": 2023, "authorships": [{"author": {"display_name": "Someone Else"}}]}  # fmt: skip
    http = Polite(
        client(httpx.MockTransport(lambda r: httpx.Response(200, json={"results": [other]}))),
        "scholar", cache_dir=None, sleep=lambda s: None,
    )  # fmt: skip
    works = [i for i in scholar.fetch(http, {"id": ID, "cache_dir": CACHE["dir"]}) if isinstance(i, WorkRecord)]
    assert works[0].authors == ["A Zou", "L Phan"] and works[0].more_authors


REPE_PAGE = f"citation_for_view={ID}:u5HHmVD_uO8C"  # the cut list's own page (the fixture's first publication)
ARXIV_ANSWER = (FIXTURES / "arxiv_ids.xml").read_text()


def polite(handler):
    import httpx

    from importers.http import Polite, client

    return Polite(client(httpx.MockTransport(handler)), "scholar", cache_dir=None, sleep=lambda s: None)


def test_a_cut_author_list_is_read_from_the_publications_own_page_without_fill_and_nothing_else_is_asked(google):
    import httpx

    from importers import scholar

    google[f"user={ID}"] = PROFILE
    google[REPE_PAGE] = PUBLICATION
    outside = []

    def answer(request):
        outside.append(str(request.url))
        return httpx.Response(404)

    http = polite(answer)
    items = list(scholar.fetch(http, {"id": ID, "cache_dir": CACHE["dir"]}))
    works = [i for i in items if isinstance(i, WorkRecord)]
    assert works[0].authors == ["Andy Zou", "Long Phan", "Sarah Chen", "Ada Lovelace"] and not works[0].more_authors
    assert works[1].authors == ["A Lovelace"]  # whole on the profile: its page is not asked for
    assert [u for u in google.asked if "view_citation" in u] == [
        f"https://scholar.google.com/citations?hl=en&view_op=view_citation&citation_for_view={ID}:u5HHmVD_uO8C"
    ]
    assert outside == []  # neither OpenAlex nor arXiv is asked for a list the page gave whole


def test_a_blocked_own_page_is_a_notice_and_the_list_comes_from_arxiv_when_openalex_has_no_match(google):
    import httpx

    from importers import scholar

    google[f"user={ID}"] = PROFILE
    google["view_op=view_citation"] = CAPTCHA
    asked = []

    def answer(request):
        asked.append(request.url.host)
        if request.url.host == "api.openalex.org":
            return httpx.Response(200, json={"results": []})
        return httpx.Response(200, text=ARXIV_ANSWER)

    items = list(scholar.fetch(polite(answer), {"id": ID, "cache_dir": CACHE["dir"]}))
    works = [i for i in items if isinstance(i, WorkRecord)]
    assert works[0].authors == ["Andy Zou", "Long Phan"] and not works[0].more_authors
    assert asked == ["api.openalex.org", "export.arxiv.org"]
    notes = [str(i) for i in items if isinstance(i, Notice)]
    assert any("own pages cannot be read (Blocked)" in n for n in notes)
    assert any("from arXiv 2310.01405 (the same title, 2023)" in n for n in notes)


def test_an_arxiv_entry_of_another_title_or_fewer_authors_leaves_the_cut_list(google):
    import httpx

    from importers import scholar

    google[f"user={ID}"] = PROFILE
    google["view_op=view_citation"] = CAPTCHA
    other = ARXIV_ANSWER.replace("Representation Engineering: A Top-Down", "Representation Engineering Revisited: A")

    def answer(request):
        if request.url.host == "api.openalex.org":
            return httpx.Response(200, json={"results": []})
        return httpx.Response(200, text=other)

    works = [
        i for i in scholar.fetch(polite(answer), {"id": ID, "cache_dir": CACHE["dir"]}) if isinstance(i, WorkRecord)
    ]
    assert works[0].authors == ["A Zou", "L Phan"] and works[0].more_authors


def test_own_pages_read_in_one_run_are_bounded_and_the_rest_say_so(google, monkeypatch):
    from importers import scholar

    monkeypatch.setattr(scholar, "MAX_OWN_PAGES", 0)
    google[f"user={ID}"] = PROFILE
    fetched = run()
    assert not [u for u in google.asked if "view_citation" in u]
    assert any("1 cut author list(s) not read from their own pages" in str(n) for n in fetched.notices)
