"""LessWrong and the Alignment Forum through their GraphQL API: posts by user or tag, and a user's
comments with the posts and parent comments they answer. A post and its AF cross-post are one work
(they share an id)."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from collections.abc import Iterator

from importers.http import Polite
from importers.records import Link, SourceError, WorkRecord, discussed, linked_ids
from importers.text import clean, repaired

SITES = {"lesswrong": "https://www.lesswrong.com", "alignmentforum": "https://www.alignmentforum.org"}
PAGE = 50
SNIPPET = 60  # characters of a comment's text in its title
USER = "_id slug username displayName"
POST = f"_id slug title pageUrl url postedAt af htmlBody user {{ {USER} }}"  # url: a linkpost's link
PARENT = f"_id postId parentCommentId postedAt af htmlBody user {{ {USER} }}"  # a comment and whom it answers
COMMENT = f"{PARENT} post {{ {POST} }} parentComment {{ {PARENT} }}"
# A thread is read up to this many comments above a user's comment: deeper threads are rarer than a loop in bad data.
MAX_ANCESTORS = 100


def label(spec: dict) -> str:
    return f"{spec.get('site') or 'lesswrong'} {spec.get('user') or spec.get('tag')}"


def fetch(http: Polite, spec: dict) -> Iterator[WorkRecord]:
    """spec: site (lesswrong or alignmentforum), user and/or tag, comments (with user), limit, base_url."""
    client = Client(http, spec.get("site") or "lesswrong", spec.get("base_url"))
    limit = spec.get("limit")
    if not spec.get("user") and not spec.get("tag"):
        raise SourceError(client.site, "give a user or a tag")
    if spec.get("user"):
        yield from client.posts_by_user(spec["user"], limit)
        if spec.get("comments"):
            yield from client.comments_by_user(spec["user"], limit)
    if spec.get("tag"):
        yield from client.posts_by_tag(spec["tag"], limit)


# Every query below is checked against the forum's real schema (ForumMagnum) in the tests. The `selector` argument
# replaces the deprecated `input`; each view of a collection is a field of its selector (PostSelector.userPosts...).
USER_BY_SLUG = f"query($slug: String!) {{ GetUserBySlug(slug: $slug) {{ {USER} }} }}"
USER_BY_ID = f"query($id: String) {{ user(selector: {{_id: $id}}) {{ result {{ {USER} }} }} }}"
COMMENT_BY_ID = f"query($id: String) {{ comment(selector: {{_id: $id}}) {{ result {{ {PARENT} }} }} }}"
TAG_BY_SLUG = (
    "query($slug: String) { tags(selector: {tagBySlug: {slug: $slug}}, limit: 1) { results { _id name slug } } }"
)
VIEWS = {
    "userPosts": ("posts", "PostsUserPostsInput", POST),
    "tagRelevance": ("posts", "PostsTagRelevanceInput", POST),
    "profileComments": ("comments", "CommentsProfileCommentsInput", COMMENT),
}


def view_query(view: str) -> str:
    collection, terms_type, fields = VIEWS[view]
    return (
        f"query($terms: {terms_type}, $limit: Int, $offset: Int) {{ {collection}(selector: {{{view}: $terms}},"
        f" limit: $limit, offset: $offset) {{ results {{ {fields} }} }} }}"
    )


class Client:
    def __init__(self, http: Polite, site: str = "lesswrong", base_url: str | None = None):
        if site not in SITES:
            raise SourceError("lesswrong", f"unknown site {site!r}; known: {', '.join(SITES)}")
        self.http, self.site = http, site
        self.url = (base_url or SITES[site]).rstrip("/") + "/graphql"

    def query(self, text: str, variables: dict | None = None) -> dict:
        asked = {"query": text, "variables": variables or {}}
        try:
            body = self.http.post_json(self.url, asked)
        except SourceError as e:
            # GraphQL servers explain a refused query in the body, whatever the status (400 for an invalid query)
            messages = _errors(e.body)
            if messages:
                raise SourceError(self.site, f"GraphQL error: {messages} (HTTP {e.status})", self.url) from None
            raise
        try:
            return self._data(body)
        except SourceError:
            self.http.forget(self.url, json_body=asked)  # an unusable answer is not kept for the next run
            raise

    def _data(self, body: bytes) -> dict:
        try:
            answer = json.loads(body)
        except ValueError:
            raise SourceError(
                self.site,
                "the answer is not JSON",
                self.url,
                hint="the GraphQL endpoint may be down or behind a captcha",
            ) from None
        if not isinstance(answer, dict):
            raise SourceError(self.site, f"expected a JSON object, got {type(answer).__name__}", self.url)
        if messages := _errors(body):
            raise SourceError(self.site, f"GraphQL error: {messages}", self.url)
        if not isinstance(answer.get("data"), dict):
            raise SourceError(self.site, "the answer has no data", self.url)
        return answer["data"]

    def user_id(self, user: str) -> str:
        """A user's id from their slug (or the id itself)."""
        found = self.query(USER_BY_SLUG, {"slug": user}).get("GetUserBySlug")
        if isinstance(found, dict) and isinstance(found.get("_id"), str):
            return found["_id"]
        if re.fullmatch(r"[A-Za-z0-9]{17}", user):
            result = (self.query(USER_BY_ID, {"id": user}).get("user") or {}).get("result")
            if isinstance(result, dict) and isinstance(result.get("_id"), str):
                return result["_id"]
        raise SourceError(self.site, f"no user {user!r}")

    def tag_id(self, tag: str) -> str:
        results = _results(self.query(TAG_BY_SLUG, {"slug": tag}), "tags", self.site, self.url)
        if not results or not isinstance(results[0], dict) or not isinstance(results[0].get("_id"), str):
            raise SourceError(self.site, f"no tag {tag!r}")
        return results[0]["_id"]

    def _paged(self, view: str, terms: dict, limit: int | None) -> Iterator[dict]:
        collection = VIEWS[view][0]
        offset, seen = 0, set[str]()
        while limit is None or offset < limit:
            page = PAGE if limit is None else min(PAGE, limit - offset)
            data = self.query(view_query(view), {"terms": terms, "limit": page, "offset": offset})
            results = _results(data, collection, self.site, self.url)
            ids = {r["_id"] for r in results if isinstance(r, dict) and isinstance(r.get("_id"), str)}
            if results and ids <= seen:  # the server repeats a page: asking on would never end
                return
            seen |= ids
            yield from results
            if len(results) < page:
                return
            offset += page

    def posts_by_user(self, user: str, limit: int | None = None) -> Iterator[WorkRecord]:
        for p in self._paged("userPosts", {"userId": self.user_id(user)}, limit):
            yield post_record(p, self.site)

    def posts_by_tag(self, tag: str, limit: int | None = None) -> Iterator[WorkRecord]:
        for p in self._paged("tagRelevance", {"tagId": self.tag_id(tag)}, limit):
            yield post_record(p, self.site)

    def comments_by_user(self, user: str, limit: int | None = None) -> Iterator[WorkRecord]:
        """The user's comments, each preceded by the post and the parent comment it answers; then the comments above
        those parents in their threads, asked one by one, so that every comment replies to its true parent at any
        depth (a reply's parent comes with it; the parent's own parent would otherwise be missing)."""
        delivered: set[str] = set()
        above: dict[str, dict | None] = {}  # a parent comment not delivered -> the post its thread is under
        for c in self._paged("profileComments", {"userId": self.user_id(user)}, limit):
            if not isinstance(c, dict):
                raise SourceError(self.site, f"a comment that is not an object: {str(c)[:100]}", self.url)
            post = c["post"] if isinstance(c.get("post"), dict) else None
            if post:
                yield post_record(post, self.site)
            thread = [{**c["parentComment"], "post": post}] if isinstance(c.get("parentComment"), dict) else []
            for comment in [*thread, c]:
                record = comment_record(comment, self.site)
                delivered.add(comment["_id"])
                parent = _str(comment.get("parentCommentId"))
                if parent:
                    above.setdefault(parent, post)
                yield record
        yield from self._ancestors(above, delivered)

    def _ancestors(self, above: dict[str, dict | None], delivered: set[str]) -> Iterator[WorkRecord]:
        """The comments named as parents but not delivered, and theirs, up to MAX_ANCESTORS of them."""
        asked = 0
        while asked < MAX_ANCESTORS and (wanted := [c for c in above if c not in delivered]):
            for comment_id in wanted[: MAX_ANCESTORS - asked]:
                asked += 1
                delivered.add(comment_id)
                found = (self.query(COMMENT_BY_ID, {"id": comment_id}).get("comment") or {}).get("result")
                if not isinstance(found, dict):
                    continue  # deleted: the reply keeps its relation to the post it discusses
                post = above[comment_id]
                yield comment_record({**found, "post": post}, self.site)
                if parent := _str(found.get("parentCommentId")):
                    above.setdefault(parent, post)


def _errors(body: bytes | None) -> str | None:
    """The messages of a GraphQL answer's `errors`, joined; None when the body holds none."""
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        return None
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not errors:
        return None
    errors = errors if isinstance(errors, list) else [errors]
    return "; ".join(clean(str(e.get("message", e)) if isinstance(e, dict) else str(e))[:500] for e in errors[:5])


def _results(data: dict, collection: str, site: str, url: str) -> list:
    results = (data.get(collection) or {}).get("results") if isinstance(data.get(collection), dict) else None
    if not isinstance(results, list):
        raise SourceError(site, f"{collection}: expected a list of results", url)
    return results


def _text(html, limit: int = 4000) -> str:
    text = clean(htmllib.unescape(re.sub(r"<[^>]+>", " ", _str(html))))
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _str(value) -> str:
    """A string field of the answer, or "" when the answer put something else there."""
    return value if isinstance(value, str) else ""


def _id(obj: dict) -> str | None:
    value = _str(obj.get("_id"))
    return value if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value) else None


def _ids(obj: dict, site: str) -> dict[str, str]:
    ids = {site: obj["_id"]}
    if obj.get("af") is True and site == "lesswrong":
        ids["alignmentforum"] = obj["_id"]
    if site == "alignmentforum":
        ids["lesswrong"] = obj["_id"]  # every AF post is also on LessWrong under the same id
    return ids


def _when(obj: dict) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(_str(obj.get("postedAt")).replace("Z", "+00:00"))
        return when.astimezone(dt.UTC) if when.tzinfo else when
    except (ValueError, OverflowError):  # not a date, or one that leaves the calendar in UTC
        return None


def _author(obj: dict) -> tuple[list[str], dict]:
    user = obj["user"] if isinstance(obj.get("user"), dict) else {}
    name = clean(_str(user.get("displayName")) or _str(user.get("username")))
    slug = _str(user.get("slug")) or None
    return ([name], {name: {"lesswrong": slug}}) if name else ([], {})


def post_record(p: dict, site: str) -> WorkRecord:
    if not isinstance(p, dict) or not _id(p) or not clean(_str(p.get("title"))):
        raise SourceError(site, f"a post without an id or title: {str(p)[:200]}")
    authors, profiles = _author(p)
    when = _when(p)
    page = _str(p.get("pageUrl"))
    return repaired(
        WorkRecord(
            source=site,
            kind="post",
            title=p["title"],
            authors=authors,
            author_profiles=profiles,
            year=when.year if when else None,
            date=when.date().isoformat() if when else None,
            venue="Alignment Forum" if site == "alignmentforum" or p.get("af") is True else "LessWrong",
            abstract=_text(p.get("htmlBody"), 1500) or None,
            url=page
            if page.startswith(("https://", "http://"))
            else f"{SITES[site]}/posts/{p['_id']}/{_str(p.get('slug'))}",
            ids=_ids(p, site),
            links=_linked(p),
        )
    )


def _linked(p: dict) -> list[Link]:
    """What a post discusses: the works its text links to, and the work a linkpost is for (its `url`, an arXiv page
    or a DOI: an author's "Paper: ..." post presenting the paper), which the post's text need not name again."""
    links = discussed(_str(p.get("htmlBody")))
    known = {(link.scheme, link.value) for link in links}
    extra = [Link("discusses", s, v) for s, v in linked_ids(_str(p.get("url"))) if (s, v) not in known]
    return extra + links


def comment_record(c: dict, site: str) -> WorkRecord:
    """A comment as a work. Its title names who wrote it, on what, when (to the minute) and how it begins, so that
    two comments by one person on one post never share a title."""
    if not isinstance(c, dict) or not _id(c):
        raise SourceError(site, f"a comment without an id: {str(c)[:200]}")
    authors, profiles = _author(c)
    post = c["post"] if isinstance(c.get("post"), dict) else {}
    when = _when(c)
    post_id, parent_id = _str(c.get("postId")), _str(c.get("parentCommentId"))
    links = [Link("discusses", site, post_id)] if post_id else []
    if parent_id:
        links.append(Link("replies-to", site, parent_id))
    elif post_id:
        links.append(Link("replies-to", site, post_id))
    links += [link for link in discussed(_str(c.get("htmlBody"))) if (link.scheme, link.value) != (site, post_id)]
    who = authors[0] if authors else "someone"
    body = _text(c.get("htmlBody"))
    snippet = body if len(body) <= SNIPPET else body[: SNIPPET - 1].rsplit(" ", 1)[0] + "…"
    stamp = f", {when:%Y-%m-%d %H:%M} UTC" if when else ""
    title = f"{who} on “{clean(_str(post.get('title'))) or 'a post'}”{stamp}" + (f": {snippet}" if snippet else "")
    return repaired(
        WorkRecord(
            source=site,
            kind="comment",
            title=title,
            authors=authors,
            author_profiles=profiles,
            year=when.year if when else None,
            date=when.date().isoformat() if when else None,
            venue="Alignment Forum" if c.get("af") is True else "LessWrong",
            abstract=body or None,
            url=f"{SITES[site]}/posts/{post_id}?commentId={c['_id']}" if post_id else None,
            ids=_ids(c, site),
            links=links,
        )
    )
