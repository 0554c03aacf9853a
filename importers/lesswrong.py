"""LessWrong and the Alignment Forum through their GraphQL API: posts by user or tag, and a user's
comments with the posts and parent comments they answer. A post and its AF cross-post are one work
(they share an id)."""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Iterator

from importers.http import Polite
from importers.records import Link, SourceError, WorkRecord, linked_ids

SITES = {"lesswrong": "https://www.lesswrong.com", "alignmentforum": "https://www.alignmentforum.org"}
PAGE = 50
USER = "_id slug username displayName"
POST = f"_id slug title pageUrl postedAt af htmlBody user {{ {USER} }}"
COMMENT = (
    f"_id postId parentCommentId postedAt af htmlBody user {{ {USER} }} post {{ {POST} }}"
    f" parentComment {{ _id postId postedAt af htmlBody user {{ {USER} }} }}"
)


class Client:
    def __init__(self, http: Polite, site: str = "lesswrong", base_url: str | None = None):
        if site not in SITES:
            raise SourceError("lesswrong", f"unknown site {site!r}; known: {', '.join(SITES)}")
        self.http, self.site = http, site
        self.url = (base_url or SITES[site]).rstrip("/") + "/graphql"

    def query(self, text: str, variables: dict | None = None) -> dict:
        body = self.http.post_json(self.url, {"query": text, "variables": variables or {}})
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
        if answer.get("errors"):
            messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in answer["errors"])
            raise SourceError(self.site, f"GraphQL error: {messages}", self.url)
        if not isinstance(answer.get("data"), dict):
            raise SourceError(self.site, "the answer has no data", self.url)
        return answer["data"]

    def user_id(self, user: str) -> str:
        """A user's id from their slug (or the id itself)."""
        data = self.query(
            f"query($slug: String) {{ user(input: {{selector: {{slug: $slug}}}}) {{ result {{ {USER} }} }} }}",
            {"slug": user},
        )
        result = (data.get("user") or {}).get("result")
        if result:
            return result["_id"]
        if re.fullmatch(r"[A-Za-z0-9]{17}", user):
            return user
        raise SourceError(self.site, f"no user {user!r}")

    def tag_id(self, tag: str) -> str:
        data = self.query(
            "query($slug: String) { tag(input: {selector: {slug: $slug}}) { result { _id name } } }", {"slug": tag}
        )
        result = (data.get("tag") or {}).get("result")
        if not result:
            raise SourceError(self.site, f"no tag {tag!r}")
        return result["_id"]

    def _paged(self, collection: str, fields: str, terms: dict, limit: int) -> Iterator[dict]:
        offset = 0
        while offset < limit:
            page = min(PAGE, limit - offset)
            data = self.query(
                f"query($terms: JSON) {{ {collection}(input: {{terms: $terms}}) {{ results {{ {fields} }} }} }}",
                {"terms": {**terms, "limit": page, "offset": offset}},
            )
            results = (data.get(collection) or {}).get("results")
            if not isinstance(results, list):
                raise SourceError(self.site, f"{collection}: expected a list of results", self.url)
            yield from results
            if len(results) < page:
                return
            offset += page

    def posts_by_user(self, user: str, limit: int = 1000) -> Iterator[WorkRecord]:
        for p in self._paged("posts", POST, {"view": "userPosts", "userId": self.user_id(user)}, limit):
            yield post_record(p, self.site)

    def posts_by_tag(self, tag: str, limit: int = 1000) -> Iterator[WorkRecord]:
        for p in self._paged("posts", POST, {"view": "tagRelevance", "tagId": self.tag_id(tag)}, limit):
            yield post_record(p, self.site)

    def comments_by_user(self, user: str, limit: int = 1000) -> Iterator[WorkRecord]:
        """The user's comments, each preceded by the post and the parent comment it answers."""
        for c in self._paged("comments", COMMENT, {"view": "profileComments", "userId": self.user_id(user)}, limit):
            if c.get("post"):
                yield post_record(c["post"], self.site)
            if c.get("parentComment"):
                yield comment_record({**c["parentComment"], "post": c.get("post")}, self.site)
            yield comment_record(c, self.site)


def _text(html: str | None, limit: int = 4000) -> str:
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html or "")).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _ids(obj: dict, site: str) -> dict[str, str]:
    ids = {site: obj["_id"]}
    if obj.get("af") and site == "lesswrong":
        ids["alignmentforum"] = obj["_id"]
    if site == "alignmentforum":
        ids["lesswrong"] = obj["_id"]  # every AF post is also on LessWrong under the same id
    return ids


def _discussed(html: str | None) -> list[Link]:
    """What a post or comment links to (arXiv, DOI, forum posts): it discusses those works."""
    hrefs = " ".join(re.findall(r"""href\s*=\s*["']([^"']+)""", html or "", re.I))
    return [Link("discusses", scheme, value) for scheme, value in linked_ids(hrefs)]


def _date(obj: dict) -> str | None:
    return (obj.get("postedAt") or "")[:10] or None


def _author(obj: dict) -> tuple[list[str], dict]:
    user = obj.get("user") or {}
    name = user.get("displayName") or user.get("username")
    return ([name], {name: {"lesswrong": user.get("slug")}}) if name else ([], {})


def post_record(p: dict, site: str) -> WorkRecord:
    if not isinstance(p, dict) or not p.get("_id") or not p.get("title"):
        raise SourceError(site, f"a post without an id or title: {str(p)[:200]}")
    authors, profiles = _author(p)
    date = _date(p)
    return WorkRecord(
        source=site,
        kind="post",
        title=p["title"],
        authors=authors,
        author_profiles=profiles,
        year=int(date[:4]) if date else None,
        date=date,
        venue="Alignment Forum" if site == "alignmentforum" or p.get("af") else "LessWrong",
        abstract=_text(p.get("htmlBody"), 1500) or None,
        url=p.get("pageUrl") or f"{SITES[site]}/posts/{p['_id']}/{p.get('slug', '')}",
        ids=_ids(p, site),
        links=_discussed(p.get("htmlBody")),
    )


def comment_record(c: dict, site: str) -> WorkRecord:
    if not isinstance(c, dict) or not c.get("_id"):
        raise SourceError(site, f"a comment without an id: {str(c)[:200]}")
    authors, profiles = _author(c)
    post = c.get("post") or {}
    date = _date(c)
    links = [Link("discusses", site, c["postId"])] if c.get("postId") else []
    if c.get("parentCommentId"):
        links.append(Link("replies-to", site, c["parentCommentId"]))
    elif c.get("postId"):
        links.append(Link("replies-to", site, c["postId"]))
    links += [link for link in _discussed(c.get("htmlBody")) if (link.scheme, link.value) != (site, c.get("postId"))]
    who = authors[0] if authors else "someone"
    # one user may comment on one post many times: the time tells the comments apart on a page and in a list
    when = f" ({(c.get('postedAt') or '')[:16].replace('T', ' ')})" if c.get("postedAt") else ""
    return WorkRecord(
        source=site,
        kind="comment",
        title=f"{who} on “{post.get('title', 'a post')}”{when}",
        authors=authors,
        author_profiles=profiles,
        year=int(date[:4]) if date else None,
        date=date,
        venue="Alignment Forum" if c.get("af") else "LessWrong",
        abstract=_text(c.get("htmlBody")) or None,
        url=f"{SITES[site]}/posts/{c.get('postId')}?commentId={c['_id']}" if c.get("postId") else None,
        ids=_ids(c, site),
        links=links,
    )


def from_spec(http: Polite, spec: dict) -> Iterator[WorkRecord]:
    """The importer seam: `{"user" or "tag", "comments", "site", "limit", "base_url"}` -> posts and comments."""
    client = Client(http, spec.get("site") or spec.get("type") or "lesswrong", spec.get("base_url"))
    limit = spec.get("limit", 200)
    if spec.get("user"):
        yield from client.posts_by_user(spec["user"], limit)
        if spec.get("comments", True):
            yield from client.comments_by_user(spec["user"], limit)
    if spec.get("tag"):
        yield from client.posts_by_tag(spec["tag"], limit)
