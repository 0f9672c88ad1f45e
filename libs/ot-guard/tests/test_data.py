"""The guard's data file (src/ot_guard/guard_data.bin, see ot_guard.data) is what
the maintained packages and word lists give: rebuilt here from them, byte for byte,
so that it cannot go stale when a package is upgraded.  And the guard stays small
enough to keep in every service's process (issue 14): a size, measured in a
subprocess, never a time (the import time is printed by bench/guard_scan.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from ot_guard import data, names, normalise

# Bare Python is about 9 MB; the guard with its data file adds about 22 MB (it added
# 66 MB when the lexicon was built at import from Faker).  A service's budget is 100 MB.
MAX_GUARD_RSS_MB = 45


def test_the_data_file_is_what_the_packages_give():
    assert data.DATA_PATH.read_bytes() == data.build(), (
        "guard_data.bin is stale: rebuild it with python libs/ot-guard/src/ot_guard/data.py")


def test_the_loaded_data_answers_like_the_packages():
    """The digests answer for the names, places and words they were built from."""
    entries = data._lexicon_entries()
    assert len(entries) > 100_000 and len(names._LEXICON) == len(entries)
    assert all(names._LEXICON.get(form) == entry for form, entry in entries.items())
    assert entries["Karin"] == ("Karin", True)  # a name's own form wins over Kari's genitive
    assert names._LEXICON.get("Koirasta") is None and "koirasta" not in names._LOWER_LEXICON
    assert all(form.lower() in names._LOWER_LEXICON for form in list(entries)[::97])
    place = sorted(data.faker_place_names())[0]
    assert place in names._DATA.place_names
    assert normalise.CONFUSABLES == data.loaded().confusables and "\u0410" in normalise.CONFUSABLES


def test_a_data_file_of_another_format_is_refused(tmp_path):
    raw = data.DATA_PATH.read_bytes()
    n = int.from_bytes(raw[:4], "little")
    head = raw[4:4 + n].replace(b'"format": 1', b'"format": 99')
    bad = tmp_path / "guard_data.bin"
    bad.write_bytes(len(head).to_bytes(4, "little") + head + raw[4 + n:])
    with pytest.raises(ImportError, match="format 99"):
        data.load(bad)


_RSS = "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"


def _rss_kb(code: str) -> int:
    out = subprocess.run([sys.executable, "-c", code + "\n" + _RSS], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])


def test_the_guard_fits_in_a_service():
    """Import and one scan add at most MAX_GUARD_RSS_MB to a bare Python process."""
    bare = _rss_kb("pass")
    guard = _rss_kb("import ot_guard\not_guard.scan('Äiti Maija Virtanen soitti.')")
    added_mb = (guard - bare) / 1024
    assert added_mb <= MAX_GUARD_RSS_MB, f"the guard adds {added_mb:.1f} MB"
