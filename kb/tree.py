"""The technique tree: the one place that walks parents and children.

Built from (slug, parent) pairs in taxonomy order, so it serves every layer alike: validation (unknown
parents, cycles), the catalogue build (depth, the ancestor/descendant closure), tagging (a tag implies its
ancestors), the site (breadcrumbs, subtrees) and the CLI (the tree printed depth first). A broken tree
(a cycle, a missing parent) never hangs a walk: each walk stops at the first repeated or unknown node, and
`problems()` says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Tree"]


class Tree:
    """Techniques as a forest. `Tree.of(items)` takes dicts or objects that have `slug` and `parent`."""

    def __init__(self, pairs: Iterable[tuple[str, str | None]]):
        self.parent: dict[str, str | None] = {}
        self.children: dict[str | None, list[str]] = {}
        for slug, parent in pairs:
            self.parent[slug] = parent
            self.children.setdefault(parent, []).append(slug)

    @classmethod
    def of(cls, items: Iterable) -> Tree:
        def pair(item):
            if isinstance(item, dict):
                return item["slug"], item.get("parent")
            return item.slug, item.parent

        return cls(pair(i) for i in items)

    def __contains__(self, slug: object) -> bool:
        return slug in self.parent

    def __len__(self) -> int:
        return len(self.parent)

    def lineage(self, slug: str) -> list[str]:
        """The slug and its ancestors, nearest first: [slug, parent, grandparent, ...]."""
        out: list[str] = []
        seen: set[str] = set()
        node: str | None = slug
        while node is not None and node in self.parent and node not in seen:
            seen.add(node)
            out.append(node)
            node = self.parent[node]
        return out

    def ancestors(self, slug: str) -> list[str]:
        """The ancestors from the root down to the parent (breadcrumb order)."""
        return self.lineage(slug)[:0:-1]

    def depth(self, slug: str) -> int:
        return max(len(self.lineage(slug)) - 1, 0)

    def subtree(self, slug: str) -> list[str]:
        """The slug and every technique below it, depth first in taxonomy order."""
        out, seen, stack = [], set(), [slug]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            out.append(node)
            stack.extend(reversed(self.children.get(node, [])))
        return out

    def depth_first(self) -> list[str]:
        """Every technique reachable from a root, parents before children, siblings in taxonomy order."""
        return [s for root in self.children.get(None, []) for s in self.subtree(root)]

    def closure(self) -> list[tuple[str, str]]:
        """(ancestor, descendant) pairs, each technique its own ancestor: filtering by a technique uses them."""
        return [(a, slug) for slug in self.parent for a in self.lineage(slug)]

    def problems(self) -> list[tuple[str, str]]:
        """(slug, message) for each technique whose parent is unknown or whose parents form a cycle."""
        out = []
        for slug, parent in self.parent.items():
            if parent is not None and parent not in self.parent:
                out.append((slug, f"unknown parent {parent!r}"))
                continue
            seen: set[str] = set()
            node: str | None = slug
            while node is not None and node in self.parent and node not in seen:
                seen.add(node)
                node = self.parent[node]
            if node is not None and node in seen:
                out.append((slug, "its parents form a cycle"))
        return out
