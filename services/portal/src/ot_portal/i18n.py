"""Languages: Finnish first, English by a switch (Flask-Babel with gettext catalogues).

The message ids in the templates and the code are English; translations/<lang>/LC_MESSAGES/
holds each language's text (English's only where the wording differs from the id): messages.po
for the shared layout, and one catalogue per page module (professional.po, team.po, ...).
The catalogues are read from the .po files when the app starts (Babel compiles them in memory),
so no compiled .mo file is built or committed. `pybabel extract -F babel.cfg` finds the ids, and
tests/test_i18n.py checks that every id has a Finnish text.
"""
from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import Babel, Domain, get_locale

LANGUAGES = ("fi", "en")
DEFAULT = "fi"
COOKIE = "ot_lang"
CATALOGUES = Path(__file__).resolve().parent / "translations"
# What each language is called in the switch, in that language (WCAG 3.1.2: marked with lang).
NAMES = {"fi": "Suomeksi", "en": "In English"}


def load_catalogue(language: str, directory: Path = CATALOGUES) -> Translations:
    """One language's texts: messages.po (the shared layout, sign-in, errors) merged with each page
    module's own catalogue (<module>.po, e.g. professional.po), so the modules change apart."""
    merged = None
    for path in sorted((directory / language / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as f:
            catalogue = read_po(f, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalogue)
        compiled.seek(0)
        translations = Translations(compiled)
        merged = translations if merged is None else merged.merge(translations)
    return merged if merged is not None else NullTranslations()


class CatalogueDomain(Domain):
    """Flask-Babel's domain, with the catalogues loaded once from the .po files."""

    def __init__(self, directory: Path = CATALOGUES):
        super().__init__(translation_directories=[str(directory)])
        self.catalogues = {language: load_catalogue(language, directory) for language in LANGUAGES}

    def get_translations(self):
        locale = get_locale()
        return self.catalogues.get(str(locale)) if locale else NullTranslations()


def current_language() -> str:
    chosen = request.cookies.get(COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT


def init_i18n(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Helsinki"
    babel = Babel(app, locale_selector=current_language)
    babel.domain_instance = CatalogueDomain()
