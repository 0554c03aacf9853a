"""Text from importers and contributors made safe to store and to print: the one place that strips control
characters and terminal escape sequences. The merge applies it to every imported record; `kb.output` to
everything it prints; `kb validate` refuses what it would have to strip from one-line fields.
"""

from __future__ import annotations

import re

__all__ = ["safe"]

# What must never reach a terminal from the catalogue: escape sequences (colours, window titles, OSC 8 links)
# whole, then any other C0 control but tab and newline, DEL, and C1 controls (\x9b is a one-byte CSI).
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(value):
    """Any text (or the strings inside dicts and lists) made safe to print: the one place that does it."""
    if isinstance(value, str):
        return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", value))
    if isinstance(value, dict):
        return {k: safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(safe(v) for v in value)
    return value
