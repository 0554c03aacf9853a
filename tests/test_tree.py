"""The technique tree: one module answers every question about parents and children."""

from kb.tree import Tree

TAXONOMY = [
    {"slug": "probing", "parent": None},
    {"slug": "linear-probing", "parent": "probing"},
    {"slug": "mean-difference-probing", "parent": "linear-probing"},
    {"slug": "ccs", "parent": "probing"},
    {"slug": "pruning", "parent": None},
]


def test_lineage_runs_from_a_technique_up_to_its_root():
    assert Tree.of(TAXONOMY).lineage("mean-difference-probing") == [
        "mean-difference-probing",
        "linear-probing",
        "probing",
    ]


def test_ancestors_are_in_breadcrumb_order_and_depth_counts_them():
    tree = Tree.of(TAXONOMY)
    assert tree.ancestors("mean-difference-probing") == ["probing", "linear-probing"]
    assert tree.depth("mean-difference-probing") == 2
    assert tree.depth("pruning") == 0


def test_a_subtree_holds_the_technique_and_everything_below_it_in_taxonomy_order():
    assert Tree.of(TAXONOMY).subtree("probing") == ["probing", "linear-probing", "mean-difference-probing", "ccs"]


def test_depth_first_lists_parents_before_children():
    order = Tree.of(TAXONOMY).depth_first()
    assert order == ["probing", "linear-probing", "mean-difference-probing", "ccs", "pruning"]


def test_the_closure_pairs_each_technique_with_itself_and_every_ancestor():
    closure = set(Tree.of(TAXONOMY).closure())
    assert ("probing", "mean-difference-probing") in closure
    assert ("mean-difference-probing", "mean-difference-probing") in closure
    assert ("pruning", "ccs") not in closure
    assert len(closure) == 5 + 4  # five selves, four proper ancestor links


def test_unknown_parents_and_cycles_are_problems_and_never_hang_a_walk():
    tree = Tree([("a", "b"), ("b", "a"), ("c", "missing"), ("d", None)])
    assert sorted(tree.problems()) == [
        ("a", "its parents form a cycle"),
        ("b", "its parents form a cycle"),
        ("c", "unknown parent 'missing'"),
    ]
    assert tree.lineage("a") == ["a", "b"]
    assert tree.depth_first() == ["d"]


def test_objects_with_slug_and_parent_attributes_build_the_same_tree():
    class T:
        def __init__(self, slug, parent):
            self.slug, self.parent = slug, parent

    objects = [T(t["slug"], t["parent"]) for t in TAXONOMY]
    assert Tree.of(objects).depth_first() == Tree.of(TAXONOMY).depth_first()
