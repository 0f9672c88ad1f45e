from __future__ import annotations

import pytest

from ot_guard import scan
from ot_guard.identity_code import CENTURY_SIGNS, check_char, is_valid


def _code(ddmmyy: str, sign: str, nnn: str) -> str:
    return f"{ddmmyy}{sign}{nnn}{check_char(ddmmyy, nnn)}"


def test_check_char_rule():
    # The textbook example: int("131052308") % 31 == 25 -> "T"
    assert int("131052308") % 31 == 25
    assert check_char("131052", "308") == "T"
    assert is_valid("131052-308T")
    assert not is_valid("131052-308U")
    assert is_valid("131052-308t")  # letters are case-insensitive
    assert check_char("010101", "000") == "0123456789ABCDEFHJKLMNPRSTUVWXY"[10101000 % 31]


@pytest.mark.parametrize("sign", list(CENTURY_SIGNS))
def test_every_century_sign(sign):
    code = _code("010203", sign, "045")
    assert is_valid(code)
    text = f"hetu {code} tässä"
    assert [(f.kind, f.start, f.end) for f in scan(text)] == [("identity_code", 5, 16)]


def test_temporary_number_and_wrong_check_char_are_refused():
    temp = _code("240899", "-", "987")
    assert is_valid(temp)
    wrong = temp[:-1] + ("A" if temp[-1] != "A" else "B")
    assert not is_valid(wrong)
    for code in (temp, wrong, wrong.lower()):
        assert [f.kind for f in scan(f"({code})")] == ["identity_code"]


def test_shapes_that_are_not_codes():
    for text in ("120312-12345", "1203121-123A", "ABC120312-123A", "320312-123A", "121312-123A"):
        assert [f for f in scan(text) if f.kind == "identity_code"] == [], text
