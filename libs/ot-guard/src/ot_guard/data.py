"""The guard's compact data file (``guard_data.bin``), built from maintained packages.

Every service keeps the guard in process, so its start-up size matters (issue 14).
Built at import from Faker and confusable-homoglyphs, the name lexicon took 24 MiB in
239,000 Python objects (about 130,000 case forms, each a string and a dict entry),
Faker's provider modules about 9 MB and the confusables JSON 6 MB, and the build took
most of a second.  This module builds the same data once, from the same packages,
into one file that the guard reads with a few ``array`` calls:

* the lexicon: the sorted 64-bit BLAKE2b digests of every case form of every name
  (``ot_guard.lexicon`` expanded by ``ot_guard.inflect``) and, in a parallel array,
  the index of its base name (about 8,000 strings) and whether it is a first name;
* the digests of the lexicon's forms in lower case;
* the digests of the place names of Faker's address lists and of their case forms;
* the confusables table the guard uses (a character -> one ASCII character);
* the digests of the lower-case words of Debian's English and Swedish word lists
  (``wamerican``, ``wswedish``; hashing their 180,000 words took 0.7 s at every start).

A word outside a set shares a digest with one inside it with probability about
n / 2^64 (1e-14 here): never in practice; the build refuses a collision inside a set.
``tests/test_data.py`` rebuilds the file from the installed packages and fails when it
differs, so it cannot go stale.  It is a build output, not committed: ``make install`` and each
image's build stage run ``python libs/ot-guard/src/ot_guard/data.py``.
"""
from __future__ import annotations

import json
import sys
from array import array
from bisect import bisect_left
from functools import lru_cache
from hashlib import blake2b
from pathlib import Path

DATA_PATH = Path(__file__).with_name("guard_data.bin")
_FORMAT = 1


def digest(word: str) -> int:
    return int.from_bytes(blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class DigestSet:
    """``word in s`` over sorted 64-bit digests (8 bytes a word).

    The answers for recently asked words are kept (at most RECENT_WORDS, then forgotten at once,
    so memory stays bounded under text of random words): case text repeats its words, and a
    digest plus a binary search costs about 2 µs where a dictionary hit costs 0.05 µs."""
    __slots__ = ("_digests", "_recent")
    RECENT_WORDS = 4096

    def __init__(self, digests: array):
        self._digests = digests
        self._recent: dict[str, int] = {}

    def index(self, word: str) -> int:
        i = self._recent.get(word)
        if i is not None:
            return i
        d = digest(word)
        i = bisect_left(self._digests, d)
        i = i if i < len(self._digests) and self._digests[i] == d else -1
        if len(self._recent) >= self.RECENT_WORDS:
            self._recent.clear()
        self._recent[word] = i
        return i

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.index(word) >= 0

    def __len__(self) -> int:
        return len(self._digests)


class Lexicon:
    """Case form -> (base name, is a first name), as a DigestSet and two parallel arrays."""
    __slots__ = ("_forms", "_values", "bases")

    def __init__(self, forms: DigestSet, values: array, bases: list[str]):
        self._forms, self._values, self.bases = forms, values, bases

    def get(self, word: str) -> tuple[str, bool] | None:
        i = self._forms.index(word)
        if i < 0:
            return None
        v = self._values[i]
        return self.bases[v >> 1], bool(v & 1)

    def __contains__(self, word: object) -> bool:
        return word in self._forms

    def __len__(self) -> int:
        return len(self._forms)


# --- building (from the packages) --------------------------------------------------

def _lexicon_entries() -> dict[str, tuple[str, bool]]:
    """Every case form -> (its name, is_first); a first name wins over a surname of
    the same form (and, within each, the alphabetically first base), and a name that
    is also a case form of another name is that name ("Karin" is Karin, not Kari's
    genitive)."""
    from . import lexicon
    from .inflect import inflections

    first_names, last_names = lexicon.lexicon()
    lex: dict[str, tuple[str, bool]] = {}
    for names, is_first in ((last_names, False), (first_names, True)):
        for base in sorted(names, reverse=True):
            if len(base) > 1 and base[0].isupper():
                lex.update(dict.fromkeys(inflections(base), (base, is_first)))
    for names, is_first in ((last_names, False), (first_names, True)):
        for base in names:
            if len(base) > 1 and base[0].isupper():
                lex[base] = (base, is_first)
    return lex


def faker_place_names() -> frozenset[str]:
    """Cities, regions and countries of Faker's Finnish, Swedish and Danish address lists."""
    from faker.providers.address.da_DK import Provider as AddressDk
    from faker.providers.address.fi_FI import Provider as AddressFi
    from faker.providers.address.sv_SE import Provider as AddressSv

    return (frozenset(AddressFi.cities) | frozenset(AddressFi.states)
            | frozenset(AddressFi.countries) | frozenset(AddressSv.cities)
            | frozenset(AddressDk.cities))


def word_list(path: Path, encoding: str) -> set[str]:
    """The lower-case words of a system word list (proper nouns are not words here)."""
    try:
        with path.open(encoding=encoding) as lines:  # line by line: no copy of the whole file
            return {w for w in (line.strip() for line in lines) if w.isalpha() and w.islower()}
    except OSError as exc:
        raise ImportError(f"ot_guard needs the word list {path}: install the Debian packages "
                          "wamerican and wswedish (scripts/guard_deps.sh)") from exc


ENGLISH_WORDS_PATH = Path("/usr/share/dict/american-english")
SWEDISH_WORDS_PATH = Path("/usr/share/dict/swedish")


def _digests(words) -> array:
    out = sorted({digest(w) for w in words})
    if len(out) != len(set(words)):
        raise ValueError("two words share a digest")  # never seen; refuse rather than guess
    return array("Q", out)


def build() -> bytes:
    """The data file's bytes, from the installed packages."""
    from . import confusables
    from .inflect import expand

    entries = _lexicon_entries()
    bases = sorted({base for base, _ in entries.values()})
    base_index = {b: i for i, b in enumerate(bases)}
    by_digest = sorted((digest(form), base_index[base] << 1 | is_first)
                       for form, (base, is_first) in entries.items())
    if len({d for d, _ in by_digest}) != len(by_digest):
        raise ValueError("two case forms share a digest")
    places = faker_place_names()
    arrays = {
        "forms": array("Q", [d for d, _ in by_digest]),
        "values": array("I", [v for _, v in by_digest]),
        "lower": _digests({form.lower() for form in entries}),
        "place_names": _digests(places),
        "place_forms": _digests(expand(places)),
        "english": _digests(word_list(ENGLISH_WORDS_PATH, "utf-8")),
        "swedish": _digests(word_list(SWEDISH_WORDS_PATH, "latin-1")),
    }
    header = {"format": _FORMAT, "bases": bases, "confusables": confusables.build(),
              "arrays": [(name, a.typecode, len(a)) for name, a in arrays.items()]}
    head = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    body = b"".join(_little_endian(a).tobytes() for a in arrays.values())
    return len(head).to_bytes(4, "little") + head + body


def _little_endian(a: array) -> array:
    if sys.byteorder == "big":
        a = array(a.typecode, a)
        a.byteswap()
    return a


# --- loading -------------------------------------------------------------------------

class Data:
    __slots__ = ("lexicon", "lower", "place_names", "place_forms", "english", "swedish",
                 "confusables")


def load(path: Path = DATA_PATH) -> Data:
    raw = path.read_bytes()
    n = int.from_bytes(raw[:4], "little")
    header = json.loads(raw[4:4 + n].decode("utf-8"))
    if header["format"] != _FORMAT:
        raise ImportError(f"{path.name}: format {header['format']}, expected {_FORMAT}; "
                          "rebuild it with python libs/ot-guard/src/ot_guard/data.py")
    pos, arrays = 4 + n, {}
    for name, typecode, length in header["arrays"]:
        a = array(typecode)
        a.frombytes(raw[pos:pos + length * a.itemsize])
        pos += length * a.itemsize
        arrays[name] = _little_endian(a)
    data = Data()
    data.lexicon = Lexicon(DigestSet(arrays["forms"]), arrays["values"], header["bases"])
    data.lower = DigestSet(arrays["lower"])
    data.place_names = DigestSet(arrays["place_names"])
    data.place_forms = DigestSet(arrays["place_forms"])
    data.english = DigestSet(arrays["english"])
    data.swedish = DigestSet(arrays["swedish"])
    data.confusables = header["confusables"]
    return data


@lru_cache(maxsize=1)
def loaded() -> Data:
    """The data file, read once per process."""
    try:
        return load()
    except FileNotFoundError as exc:
        raise ImportError(f"ot_guard's data file {DATA_PATH} is missing: build it with `make install` "
                          "(or python libs/ot-guard/src/ot_guard/data.py)") from exc


def main() -> None:
    DATA_PATH.write_bytes(build())
    print(f"wrote {DATA_PATH} ({DATA_PATH.stat().st_size:,} bytes)")


if __name__ == "__main__":
    # Run as a file (python libs/ot-guard/src/ot_guard/data.py): the package's
    # __init__ reads the data file this writes, so the package is set up bare.
    import types

    _pkg = types.ModuleType("ot_guard")
    _pkg.__path__ = [str(Path(__file__).resolve().parent)]
    sys.modules["ot_guard"] = _pkg
    from ot_guard.data import main as _main

    _main()
