"""What both readers of the command line share (kb.cli.launch's quick one and click's in kb.cli.commands): the
errors every command turns into one-line messages, and the bodies of the two reading commands."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from kb.cli import output

SEARCH_LIMIT = 20  # `kb search`'s default --limit, in both readers


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


@contextmanager
def users_mistakes():
    """The errors that are facts about the user's data or machine, as one-line messages: no traceback."""
    from kb.store.lock import DataLocked
    from kb.store.problems import DataProblems

    try:
        yield
    except DataLocked as e:  # another writer held data/ past the timeout
        fail(str(e))
    except DataProblems as e:  # a reading command rebuilt a stale catalogue: data/'s problems, as validate says
        output.problems(e.problems)
        fail(str(e))


def show(ws, work: str, provenance: bool, as_json: bool) -> None:
    """`kb show`: one work by id, arXiv id, DOI or URL."""
    from kb import catalogue

    with ws.connect() as conn:
        try:
            record = catalogue.get_work(conn, work)
        except catalogue.NotFound as e:
            fail(str(e))
    output.work(record, as_json, provenance)


def search(ws, as_json: bool, **query) -> None:
    """`kb search` by words and `kb list`: the works a Query finds."""
    from kb import catalogue
    from kb.query import Query, QuerySyntaxError

    with ws.connect() as conn:
        try:
            rows = catalogue.search(conn, Query(**query))
        except catalogue.NotFound as e:
            fail(str(e))
        except QuerySyntaxError as e:  # a usage error, as click reports a bad option: exit 2
            print(f"error: cannot read the query {query.get('text')!r}: {e}", file=sys.stderr)
            sys.exit(2)
    output.works(rows, as_json, query=query.get("text"))
