"""The `kb` executable. `kb show` and `kb search`, the commands people type most, are read here without click
when their arguments take the plain forms; everything else goes to click (kb.cli.commands).

Why: importing click costs about what starting Python does (it imports inspect, typing, uuid, datetime), and a
cold `kb show` was three times a bare sqlite3 lookup. This reader declines whatever it does not understand
whole — help, --version, an unknown or repeated option, a value click would convert or refuse, a mistake — and
then click reads the same arguments and answers (or says what is wrong). Both run the same functions (kb.cli.common);
tests/test_launch.py holds the two readers to the same options and the same output.

What both readers run is in kb.cli.common.
"""

from __future__ import annotations

import os
import sys

from kb.cli.common import SEARCH_LIMIT, search, show, users_mistakes

# -- the plain forms -------------------------------------------------------------------------------------------


class _Decline(Exception):
    """Not a plain form: click reads these arguments."""


def _text(value: str) -> str:
    if not value or value.startswith("-"):  # click would take it; whether the user meant it is click's to say
        raise _Decline
    return value


def _number(value: str, low: int, high: int) -> int:
    # click's int() also takes " 7", "+7", "1_0" and other digits than ASCII's; it says what is wrong with the rest
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(high)):
        raise _Decline
    number = int(value)
    if not low <= number <= high:
        raise _Decline
    return number


def _year(value: str) -> int:
    from kb.query import YEARS

    return _number(value, *YEARS)


def _positive(value: str) -> int:
    from kb.query import MOST

    return _number(value, 1, MOST)


def _path(value: str) -> str:
    if os.path.exists(value) and not os.access(value, os.R_OK):  # click.Path refuses what cannot be read
        raise _Decline
    return _text(value)


def _one_of(*choices: str):
    def read(value: str) -> str:
        if value not in choices:
            raise _Decline
        return value

    return read


FLAG = None  # an option that takes no value


def _table(*options: tuple[tuple[str, ...], str, object]) -> dict:
    """option -> (parameter, how its value is read), from (the option's names, parameter, reader)."""
    return {name: (param, read) for names, param, read in options for name in names}


# what kb.cli.commands declares for the same commands
GLOBAL = _table((("--data",), "data", _path), (("--db",), "db", _path))
SHOW = _table((("--provenance",), "provenance", FLAG), (("--json",), "as_json", FLAG))
_SEARCH = _table(
    (("--technique", "-t"), "technique", _text),
    (("--motivation", "-m"), "motivation", _text),
    (("--author", "-a"), "author", _text),
    (("--since",), "since", _year),
    (("--until",), "until", _year),
    (("--venue",), "venue", _text),
    (("--stated",), "stated", FLAG),
    (("--include-suggested",), "include_suggested", FLAG),
    (("--limit", "-n"), "limit", _positive),
    (("--json",), "as_json", FLAG),
)
LEFT_TO_CLICK = {"--semantic", "--hybrid"}  # they load a model: click's start-up is nothing beside it


def search_options() -> dict:
    """`kb search`'s options; the choices of --kind and --sort are kb.query's and kb.catalogue's (imported
    here, not at start-up, so that `kb --help` does not pay for them)."""
    from kb.catalogue import SORTS
    from kb.query import RELATIONS, WORK_KINDS

    return {
        **_SEARCH,
        **_table(
            (("--kind",), "kind", _one_of(*WORK_KINDS)),
            (("--sort",), "sort", _one_of(*SORTS)),
            (("--relation",), "relation", _one_of(*RELATIONS)),
        ),
    }


def _options(args: list[str], known: dict, params: dict, *, until_positional: bool) -> list[str]:
    """Reads the options in `args` into `params` (each at most once); returns the positionals. With
    `until_positional`, stops at the first positional and returns it with what follows."""
    rest = []
    seen = set()
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            if until_positional:
                return args[i - 1 :]
            rest.append(arg)
            continue
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name not in known:
            raise _Decline
        param, read = known[name]
        if param in seen:  # click keeps the last; a repeat is more likely a mistake to show
            raise _Decline
        seen.add(param)
        if read is FLAG:
            if equals:
                raise _Decline
            params[param] = True
            continue
        if not equals:
            if i == len(args):
                raise _Decline
            value = args[i]
            i += 1
        params[param] = read(value)
    return rest


def plain(args: list[str]):
    """(command, its keyword arguments, data, db) when `args` is a plain `show` or `search`; else None."""
    try:
        where = {"data": None, "db": None}
        rest = _options(args, GLOBAL, where, until_positional=True)
        if not rest:
            raise _Decline
        command, rest = rest[0], rest[1:]
        if command == "show":
            params: dict[str, object] = {"provenance": False, "as_json": False}
            positionals = _options(rest, SHOW, params, until_positional=False)
            if len(positionals) != 1:
                raise _Decline
            return show, {"work": positionals[0], **params}, where["data"], where["db"]
        if command == "search":
            params = {"as_json": False, "limit": SEARCH_LIMIT}
            positionals = _options(rest, search_options(), params, until_positional=False)
            if len(positionals) != 1:
                raise _Decline
            return search, {"text": positionals[0], **params}, where["data"], where["db"]
    except _Decline:
        pass
    return None


# click's shell completion runs when this is set (`_KB_COMPLETE=bash_source kb`): click's to answer
COMPLETION = "_KB_COMPLETE"


def main(args: list[str] | None = None, quick: bool = True) -> None:
    """`kb ARGS...`; `quick=False` sends every command to click."""
    args = sys.argv[1:] if args is None else list(args)
    call = plain(args) if quick and COMPLETION not in os.environ else None
    if call is None:
        from kb.cli.commands import cli

        cli.main(args=args, prog_name="kb")  # "Usage: kb ...", and $_KB_COMPLETE, however kb was started
        return
    command, params, data, db = call
    try:
        from pathlib import Path

        from kb.workspace import Workspace

        made: list[Workspace] = []
        with users_mistakes(lambda: made[0] if made else None):
            made.append(Workspace.find(data and Path(data), db and Path(db)))
            command(made[0], **params)
    except BrokenPipeError:  # `kb search x | head`: the reader left; say nothing more, as click does
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (a test captures it): nothing will flush to it
            pass
        sys.exit(1)
    except (KeyboardInterrupt, EOFError):
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
