"""Markdown files with a YAML front matter block, read with line numbers for error messages."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it


class FrontMatterError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


@dataclass
class Document:
    meta: dict
    body: str
    key_lines: dict[str, int]  # front-matter key -> 1-based line in the file
    body_line: int


# Windows Notepad (before 2019) and some other editors begin a UTF-8 file with a byte-order mark, which reads as
# U+FEFF once decoded: invisible in the editor, so a file that looks right would be refused as not opening with '---'.
# It carries nothing (UTF-8 has one byte order) and is dropped; it takes no line, so line numbers are unchanged.
BOM = "\ufeff"


def parse(text: str) -> Document:
    text = text.removeprefix(BOM)
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError(1, "the file must start with a front matter block opened by '---'")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise FrontMatterError(1, "the front matter opened on line 1 is never closed by '---'") from None
    source = "".join(lines[1:end])
    loader = _Loader(source)
    try:
        # one parse gives both the values and the line of each key
        node = loader.get_single_node()
        duplicate = _duplicate_key(node)
        meta = loader.construct_document(node) if node is not None and duplicate is None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(e, "problem", None) or str(e)
        raise FrontMatterError(line, f"front matter is not valid YAML: {problem}") from None
    # a value YAML reads but Python cannot hold: 2026-13-45; '!!timestamp tomorrow' (PyYAML's constructor fails on
    # what its own pattern does not match with an AttributeError); '!!binary' that is not base64; nesting too deep
    except (ValueError, TypeError, OverflowError, AttributeError, RecursionError) as e:
        raise FrontMatterError(*_bad_value(node, e)) from None
    finally:
        loader.dispose()
    if duplicate is not None:
        raise FrontMatterError(*duplicate)
    if not isinstance(meta, dict):
        raise FrontMatterError(2, "front matter must be a mapping of keys to values")
    key_lines = {k.value: k.start_mark.line + 2 for k, _ in node.value} if node is not None else {}
    rest = lines[end + 1 :]
    blank = next((i for i, line in enumerate(rest) if line.strip()), len(rest))
    return Document(meta, "".join(rest).strip() + "\n", key_lines, end + 2 + blank)


def _duplicate_key(node) -> tuple[int, str] | None:
    """The line and key of the first key given twice in one mapping, at any depth. YAML loaders keep the last value
    without a word, so 'status: draft' far above 'status: reviewed' would be a summary silently marked reviewed.
    Checked on the nodes before they are built: building folds '<<' merges into the mapping, where a key that
    overrides a merged one is no duplicate."""
    seen_nodes: set[int] = set()  # an alias is the same node again, and an anchor may even hold itself
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in current.value:
                stack.append(value)
                if not isinstance(key, yaml.ScalarNode) or key.tag.endswith(":merge"):
                    stack.append(key)
                    continue
                line = key.start_mark.line + 2  # + 1 for 1-based lines, + 1 for the '---' line
                if (key.tag, key.value) in first:  # the tag tells 1 from '1'
                    where = first[(key.tag, key.value)]
                    name = key.value if key.value.isprintable() else repr(key.value)  # a quoted key may hold '\x1b'
                    return line, f"{name}: given twice in the front matter, on line {where} and again here"
                first[(key.tag, key.value)] = line
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def _bad_value(node, error: Exception) -> tuple[int, str]:
    """The line and key of the value that could not be constructed (YAML's error names neither)."""
    import datetime as dt

    for key, value in getattr(node, "value", None) or []:
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":timestamp"):
            try:
                dt.date.fromisoformat(value.value[:10])
            except ValueError:
                return value.start_mark.line + 2, f"{key.value}: {value.value!r} is not a real date ({error})"
    return 2, f"front matter has a value that cannot be read: {error}"


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    # prose reads best as a literal block, the way a contributor would write it by hand
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(meta: dict, body: str) -> str:
    front = yaml.dump(meta, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{front}---\n\n{body.strip()}\n"
