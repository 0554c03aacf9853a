"""Text from importers and contributors made safe to store and to print. The rule itself (which escape sequences
and control characters go) is `importers.controls.strip_controls`, shared with the importers' repair; the merge applies
`safe` to every imported record, `kb.cli.output` to everything it prints, and `kb validate` refuses what it would have
to strip from one-line fields.
"""

from __future__ import annotations

import re

from importers.controls import strip_controls

__all__ = ["has_markup", "safe"]

# What would open a tag, a comment or a declaration if the text were read as HTML: "<" before a letter, "/", "!"
# or "?". A "<" or ">" anywhere else is text to every HTML parser ("p < 0.05", "P(doom) > 10%", "a -> b").
_MARKUP = re.compile(r"<[A-Za-z/!?]")


def has_markup(text: str) -> bool:
    return bool(_MARKUP.search(text))


def safe(value):
    """Any text (or the strings inside dicts and lists) made safe to print."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {k: safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(safe(v) for v in value)
    return value
