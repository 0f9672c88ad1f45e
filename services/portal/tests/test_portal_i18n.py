"""The catalogues: every text of the pages has its Finnish, and nothing stale lingers."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

PORTAL = Path(__file__).resolve().parents[1]
CATALOGUES = PORTAL / "src" / "ot_portal" / "translations"


def extracted_ids() -> set:
    with open(PORTAL / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {message if isinstance(message, str) else tuple(message)
            for _file, _line, message, _comments, _context in extract_from_dir(str(PORTAL), method_map, options_map)}


def catalogue(language: str):
    """Every catalogue of the language (messages.po and the page modules' own) as one."""
    merged = None
    for path in sorted((CATALOGUES / language / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as f:
            part = read_po(f, locale=language)
        if merged is None:
            merged = part
        else:
            for message in part:
                if message.id:
                    assert message.id not in merged, f"{message.id!r} is in two catalogues of {language}"
                    merged[message.id] = message
    return merged


def ids(cat) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in cat if m.id}


def test_every_text_has_its_finnish():
    fi = catalogue("fi")
    assert extracted_ids() - ids(fi) == set(), "new texts: pybabel extract + update the .po files"
    untranslated = [m.id for m in fi if m.id and (not m.string or (not isinstance(m.string, str)
                                                                   and not all(m.string)))]
    assert untranslated == []


def test_no_catalogue_keeps_texts_the_pages_no_longer_have():
    used = extracted_ids()
    for language in ("fi", "en"):
        assert ids(catalogue(language)) - used == set(), language


def test_english_catalogue_has_the_same_texts():
    assert ids(catalogue("en")) == ids(catalogue("fi"))


def test_placeholders_survive_translation():
    for message in catalogue("fi"):
        if message.id and isinstance(message.id, str) and "%(" in message.id:
            names = {part.split(")", 1)[0] for part in message.id.split("%(")[1:]}
            assert all(f"%({name})" in message.string for name in names), message.id
