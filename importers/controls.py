"""Which escape sequences and control characters text loses before it is stored or printed: one rule, used by the
importers' repair (importers.text) and by everything kb prints (kb.text). Only `re`: the CLI imports it at start-up.
"""

from __future__ import annotations

import re

# Whole escape sequences first (CSI colours and cursor moves, OSC titles and hyperlinks ended by BEL or ST, DCS/SOS/
# PM/APC strings, two-character escapes, their 8-bit forms), so that no parameter bytes are left behind as text.
_SEVEN_BIT = (
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_ESCAPES = re.compile(
    _SEVEN_BIT + r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # 8-bit strings only when ended: else lone C1s
)
# Sequences opened by ESC: never mojibake, so they can go before a repair that would take the ESC alone and leave
# the rest ("]52;c;..." of a clipboard write) as text.
_SEVEN_BIT_ESCAPES = re.compile(_SEVEN_BIT)
# C0 but tab and newline, DEL, C1: what a terminal may act on (kb validate refuses them in prose by this class).
C0_C1 = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
# The invisible format characters that reorder or hide text: bidi marks, embeddings, overrides and isolates, zero-width
# space, joiners' cousins (word joiner, invisible operators) and the byte-order mark.
INVISIBLE = r"\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# What is left of the escape sequences' controls, and those.
_CONTROLS = re.compile(rf"[{C0_C1}{INVISIBLE}]")


def strip_controls(text: str) -> str:
    """`text` without escape sequences, control characters and invisible reordering characters (nothing else)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def strip_escape_sequences(text: str) -> str:
    """`text` without the escape sequences opened by ESC (those in 8-bit form, and lone controls, stay)."""
    return _SEVEN_BIT_ESCAPES.sub("", text)
