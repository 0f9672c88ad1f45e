"""Finnish personal identity code (henkilötunnus) detection.

Format: DDMMYY + century sign + NNN + check character.
Century signs: ``+`` (1800s), ``- Y X W V U`` (1900s), ``A B C D E F`` (2000s);
the extra signs Y-U and B-F are valid from 2023 on.
Individual numbers 900-999 are temporary codes and are refused the same way.

Detection is shape-based: a code-shaped string with a wrong check character is
still refused, because a typo in the check character does not make the rest of
the code any less identifying.  ``is_valid`` exists to document and test the
check-character rule, not to decide refusal.
"""
from __future__ import annotations

import re

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURY_SIGNS = "+-YXWVUABCDEF"

# Day 01-31 and month 01-12 keep random digit runs out; the check position
# accepts any letter or digit so that a mistyped check character is still found.
PATTERN = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?P<dd>0[1-9]|[12]\d|3[01])(?P<mm>0[1-9]|1[0-2])(?P<yy>\d{2})"
    # The sign may have spaces around it when the code was typed or pasted
    # carelessly ("010203 - 123A").
    r"\s?(?P<sign>[-+YXWVUABCDEFyxwvuabcdef])\s?"
    r"(?P<nnn>\d{3})(?P<check>[0-9A-Za-z])"
    r"(?![0-9A-Za-z])"
)


def check_char(ddmmyy: str, nnn: str) -> str:
    """Check character for the given date part and individual number."""
    return CHECK_CHARS[int(ddmmyy + nnn) % 31]


def is_valid(code: str) -> bool:
    """True when ``code`` has the right shape and the right check character."""
    m = PATTERN.fullmatch(code.strip())
    if not m or " " in code.strip():
        return False  # found when spaced, but a valid code has no spaces
    expected = check_char(m["dd"] + m["mm"] + m["yy"], m["nnn"])
    return m["check"].upper() == expected


def find(text: str) -> list[tuple[int, int]]:
    """Spans of identity-code-shaped strings, valid check character or not."""
    return [m.span() for m in PATTERN.finditer(text)]
