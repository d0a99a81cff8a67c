"""The web client's locale files: every language has exactly the keys English has, with the
same placeholders, and every key the client's source names exists (and none is left unused)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[1] / "static"
LOCALES = WEB / "src" / "locales"
LANGUAGES = ("en", "ar", "tr", "it", "ca", "da")
# t("key", ...) translates now, tk("key") marks a key translated later; both take literals.
KEY_USE = re.compile(r"""\btk?\(\s*["']([a-z0-9_.]+)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(language: str) -> dict[str, str]:
    data = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _used_keys() -> set[str]:
    used: set[str] = set()
    for source in (WEB / "src").rglob("*.ts"):
        used.update(KEY_USE.findall(source.read_text(encoding="utf-8")))
    return used


def test_the_six_languages_and_no_others() -> None:
    assert sorted(p.stem for p in LOCALES.glob("*.json")) == sorted(LANGUAGES)
    i18n = (WEB / "src" / "i18n.ts").read_text(encoding="utf-8")
    for language in LANGUAGES:
        assert f'from "./locales/{language}.json"' in i18n


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_locale_has_exactly_the_english_keys(language: str) -> None:
    english, other = _load("en"), _load(language)
    missing = sorted(set(english) - set(other))
    extra = sorted(set(other) - set(english))
    assert not missing, f"{language}.json misses {missing}"
    assert not extra, f"{language}.json has keys English does not: {extra}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    english, other = _load("en"), _load(language)
    for key, text in other.items():
        assert isinstance(text, str) and text.strip(), f"{language}: {key} is empty"
        expected = set(PLACEHOLDER.findall(english.get(key, "")))
        assert set(PLACEHOLDER.findall(text)) == expected, f"{language}: {key} placeholders"


def test_every_key_the_source_names_exists_and_every_key_is_used() -> None:
    english = set(_load("en"))
    used = _used_keys()
    assert used, "no t()/tk() call found: has the source moved?"
    assert not sorted(used - english), f"used but not in en.json: {sorted(used - english)}"
    assert not sorted(english - used), f"in en.json but never used: {sorted(english - used)}"
