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


def usage(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


@contextmanager
def users_mistakes(workspace=lambda: None):
    """The errors that are facts about the user's data or machine, as one-line messages: no traceback.
    `workspace()` gives the command's Workspace once made (None before), to name the catalogue it reads."""
    import sqlite3

    from kb.catalogue import Unreadable
    from kb.store.lock import DataLocked
    from kb.store.problems import DataProblems
    from kb.workspace import SettingError

    try:
        yield
    except DataLocked as e:  # another writer held data/ past the timeout
        fail(str(e))
    except DataProblems as e:  # a reading command rebuilt a stale catalogue: data/'s problems, as validate says
        output.problems(e.problems)
        fail(str(e))
    except SettingError as e:  # $KB_LOCK_TIMEOUT=abc: as a bad option is, a usage error
        usage(str(e))
    except Unreadable as e:
        fail(str(e))
    except (sqlite3.DatabaseError, UnicodeDecodeError) as e:
        # a catalogue damaged after it was built (its header intact): a page that is not SQLite's, or text that is
        # not UTF-8 (data/'s own files are read with their problems named, so what is left is the catalogue's)
        where = getattr(workspace(), "db_path", None) or "the catalogue"
        reason = f"text that is not UTF-8 at byte {e.start}" if isinstance(e, UnicodeDecodeError) else str(e)
        fail(f"{where} cannot be read ({reason}): delete it or run `kb build` to make it again from data/")
    except BrokenPipeError:  # the reader of stdout left: the caller's (and click's) to end quietly
        raise
    except OSError as e:  # a full disk, a folder where a file should be, a missing folder, a symlink loop
        fail(os_error(e))


def os_error(e: OSError) -> str:
    """'path: No space left on device' (both paths of a rename), or the error's own words."""
    paths = [str(p) for p in (e.filename, e.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {e.strerror}" if paths and e.strerror else str(e)


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
