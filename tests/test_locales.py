"""The web client's locale files: every language has exactly the keys English has, with the
same placeholders, and every key the client's source names exists (and none is left unused)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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


# Messages that count something: each is an ICU plural in every language (issue 17: "1 posts").
COUNTED = {
    "forums.thread_meta": "count",
    "forums.search_count": "count",
    "forums.activity_chat": "count",
    "forums.activity_thread": "count",
    "forums.activity_bulletin": "count",
    "privacy.preview_result": "chat",
    "logins.kept": "days",
    "password.rule": "count",
    "error.rate_limited_minutes": "minutes",
    "materials.count": "count",
    "materials.review_title": "count",
}
# CLDR's cardinal categories for integers (Italian and Catalan's `many` is for millions only).
CATEGORIES = {
    "en": {"one", "other"},
    "ar": {"zero", "one", "two", "few", "many", "other"},
    "ca": {"one", "other"},
    "da": {"one", "other"},
    "it": {"one", "other"},
    "tr": {"one", "other"},
}
PLURAL = re.compile(r"\{(\w+), plural,((?:[^{}]|\{[^{}]*\})*)\}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_counted_messages_are_plurals_with_each_form_of_the_language(language: str) -> None:
    messages = _load(language)
    for key, variable in COUNTED.items():
        found = {name: body for name, body in PLURAL.findall(messages[key])}
        assert variable in found, f"{language}: {key} is not a plural of {variable}"
        for body in found.values():
            forms = set(re.findall(r"(\w+) \{", body))
            assert forms == CATEGORIES[language], f"{language}: {key} has {sorted(forms)}"


def test_every_plural_message_formats_in_its_language() -> None:
    """Each plural, compiled by the client's own intl-messageformat, for 0, 1, 2, 3, 11, 100."""
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "intl-messageformat").is_dir():
        pytest.skip("node and static/node_modules are needed (`make web`)")
    script = """
const { IntlMessageFormat } = require("intl-messageformat");
const out = {};
for (const [lang, messages] of Object.entries(JSON.parse(process.argv[1]))) {
  for (const [key, text] of Object.entries(messages)) {
    const format = new IntlMessageFormat(text, lang);
    out[`${lang}:${key}`] = [0, 1, 2, 3, 11, 100].map((n) =>
      format.format({ count: n, chat: n, materials: n, journal: n, audit: n, minutes: n, hours: n, days: n, name: "N",
                      date: "D", channel: "C", thread: "T", actor: "A", target: "B" }));
  }
}
console.log(JSON.stringify(out));
"""
    plural = {
        language: {k: v for k, v in _load(language).items() if ", plural," in v}
        for language in LANGUAGES
    }
    done = subprocess.run(
        [node, "-e", script, json.dumps(plural)],
        cwd=WEB,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    formatted = json.loads(done.stdout)
    assert formatted["en:forums.search_count"][:3] == ["0 results", "1 result", "2 results"]
    # Arabic: zero, one, two, few (3–10: the plural noun), many (11–99: the singular).
    assert formatted["ar:forums.search_count"][:5] == [
        "لا نتائج",
        "نتيجة واحدة",
        "نتيجتان اثنتان",
        "3 نتائج",
        "11 نتيجة",
    ]
    for key, texts in formatted.items():
        for text in texts:
            assert "{" not in text and "#" not in text, (key, text)
