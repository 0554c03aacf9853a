"""safety-kb: a catalogue of AI-safety literature and the methods it proposes.

The library behind the `kb` command, usable on its own::

    import kb

    ws = kb.Workspace.find()                      # data/ of this checkout, the catalogue beside it
    with ws.connect() as conn:                    # rebuilt first if data/ changed
        for row in kb.search(conn, kb.Query(text="mass-mean probing", limit=5)):
            print(row["id"], row["title"])

Names are imported when first used, so `import kb` stays as light as the CLI's start needs.
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> the module that owns it (ARCHITECTURE.md says what each module is for)
_PUBLIC = {
    "Workspace": "kb.workspace",  # where data/, the catalogue, the site and results live
    "Query": "kb.query",  # a search or listing: text, filters, order, limit
    "QuerySyntaxError": "kb.query",
    "search": "kb.catalogue",  # Query -> rows, best match first
    "get_work": "kb.catalogue",  # any identifier form -> one work with everything known about it
    "NotFound": "kb.catalogue",
    "load": "kb.store.datadir",  # data/ -> Dataset (records and the place of each)
    "Dataset": "kb.store.datadir",
    "Problem": "kb.store.problems",
    "DataProblems": "kb.store.problems",
    "check": "kb.store.validate",  # Dataset -> every problem, as path:line: message
    "Merger": "kb.ingest.merging",  # the identity rules: imported records -> works
    "apply": "kb.ingest.imports",  # fetched records -> data/ and the catalogue, under the data/ lock
    "fetch_source": "kb.ingest.imports",
    "SOURCES": "kb.store.sources",
    "Tree": "kb.tree",  # the technique tree
    "bibtex": "kb.export",  # works -> a .bib file (Better BibTeX-style keys); csl_json and ris likewise
    "csl_json": "kb.export",
    "ris": "kb.export",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'kb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
