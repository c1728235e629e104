"""The shipped catalogs against the code: every marked string translated, nothing fuzzy or empty,
no placeholder lost in translation, and core's error codes all turned into words.

The messages are extracted from the source in-process, with babel.cfg and the keywords
``make i18n`` uses, so a string added without running ``make i18n`` (or without a Welsh
translation) fails here rather than showing English, or nothing, to a Welsh reader.
"""

from __future__ import annotations

import inspect
from datetime import date
from functools import cache
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import core.errors
from core.errors import (
    CaseClosed,
    DomainError,
    DuplicateReference,
    InvalidPlannedEnd,
    InvalidStageTransition,
    StaleVersion,
)
from ui.errors import DETAILED_ERROR_MESSAGES, ERROR_MESSAGES, error_message
from ui.i18n import LOCALES_DIR, SOURCE_LOCALE, SUPPORTED_LOCALES, Translator

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as the Makefile: pybabel's defaults plus -k N_ -k ngettext:1,2.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "ngettext": (1, 2)}

Msgid = str | tuple[str, ...]


@cache
def extracted_messages() -> dict[tuple[Msgid, str | None], str]:
    """(msgid, context) -> "file:line" of its first use, for every string marked in the source."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    found: dict[tuple[Msgid, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault((message, context), f"{filename}:{lineno}")
    return found


@cache
def shipped_catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def entries(locale: str) -> list[Message]:
    return [message for message in shipped_catalog(locale) if message.id]


def problem_with(message: Message | None, catalog: Catalog) -> str | None:
    """Why a reader would not see this entry translated, or None when it is fine."""
    if message is None:
        return "missing (run make i18n)"
    if message.fuzzy:
        return "fuzzy (check the translation, then remove the fuzzy flag)"
    if message.pluralizable:
        forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if len(forms) != catalog.num_plurals or not all(forms):
            return f"needs all {catalog.num_plurals} plural forms"
    elif not message.string:
        return "empty"
    return None


def untranslated_extracted_messages(locale: str) -> list[str]:
    catalog = shipped_catalog(locale)
    problems = []
    for (msgid, context), where in sorted(extracted_messages().items(), key=lambda kv: kv[1]):
        problem = problem_with(catalog.get(msgid, context=context), catalog)
        if problem:
            problems.append(f"{where} {msgid!r}: {problem}")
    return problems


def placeholders(text: str) -> set[str]:
    """The field names of a str.format template: "{reference}" and "{0.name}" give their roots."""
    names = set()
    for _literal, field, _spec, _conversion in Formatter().parse(text):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0])
    return names


def test_the_source_has_marked_messages_to_translate() -> None:
    # Guards the tests below against passing on an empty extraction (a wrong babel.cfg path).
    msgids = {msgid for msgid, _context in extracted_messages()}
    assert ERROR_MESSAGES["stale_version"] in msgids
    assert "Case manager" in msgids


def test_every_extracted_message_has_a_welsh_translation() -> None:
    assert untranslated_extracted_messages("cy") == []


def test_every_extracted_message_has_an_english_entry() -> None:
    assert untranslated_extracted_messages(SOURCE_LOCALE) == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_shipped_catalog_has_a_fuzzy_or_empty_entry(locale: str) -> None:
    catalog = shipped_catalog(locale)
    problems = [
        f"{message.id!r}: {problem}"
        for message in entries(locale)
        if (problem := problem_with(message, catalog))
    ]
    assert problems == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_translations_keep_every_placeholder_of_the_source(locale: str) -> None:
    mismatches = []
    for message in entries(locale):
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(placeholders(s) for s in sources)) - {"n"}
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            try:
                got = placeholders(form) - {"n"}
            except ValueError as error:  # an unbalanced brace
                mismatches.append(f"{message.id!r}: {form!r} does not parse ({error})")
                continue
            if got != expected:
                mismatches.append(f"{message.id!r}: {form!r} has {got}, expected {expected}")
    assert mismatches == []


def test_the_welsh_catalog_writes_every_apostrophe_one_way() -> None:
    """The source's straight apostrophe throughout: a page never mixes "wedi'i" and "wedi’i"."""
    curly = [
        m.id
        for m in entries("cy")
        for form in (m.string if isinstance(m.string, tuple) else (m.string,))
        if "\u2019" in form or "\u2018" in form
    ]
    assert curly == []


def test_the_english_catalog_repeats_each_source_string() -> None:
    differing = [m.id for m in entries(SOURCE_LOCALE) if not m.pluralizable and m.string != m.id]
    assert differing == []


def test_a_welsh_reader_gets_welsh_and_an_english_reader_gets_english() -> None:
    message = ERROR_MESSAGES["stale_version"]

    assert Translator("cy").gettext(message) == (
        "Newidiodd rhywun arall yr achos hwn tra oeddech chi'n ei olygu. "
        "Ail-lwythwch yr achos a gwnewch eich newid eto."
    )
    assert Translator("en_GB").gettext(message) == (
        "Someone else changed this case while you were editing. "
        "Reload it and make your change again."
    )


def test_dates_are_written_with_welsh_month_names_for_a_welsh_reader() -> None:
    day = date(2026, 3, 14)

    assert Translator("cy").format_date(day, "long") == "14 Mawrth 2026"
    assert Translator("en_GB").format_date(day, "long") == "14 March 2026"


def test_every_core_error_code_has_a_message() -> None:
    codes = {
        cls.code
        for _name, cls in inspect.getmembers(core.errors, inspect.isclass)
        if issubclass(cls, DomainError)
    }

    assert codes - ERROR_MESSAGES.keys() == set()
    assert DETAILED_ERROR_MESSAGES.keys() <= ERROR_MESSAGES.keys()


def test_a_closed_case_error_names_the_case_in_welsh() -> None:
    text = error_message(CaseClosed(reference="HER-0042"), Translator("cy"))

    assert text.startswith("Mae achos HER-0042 ar gau")


def test_an_error_missing_its_details_falls_back_to_the_plain_message() -> None:
    text = error_message(DuplicateReference(), Translator("en_GB"))

    assert text == "There is already a case with that reference. Check the reference and try again."


def test_a_stage_error_names_the_stages_as_the_reader_knows_them() -> None:
    error = InvalidStageTransition(from_stage="closed", to_stage="active")

    assert error_message(error, Translator("en_GB")).startswith(
        "A case cannot move from 'Closed' to 'Active'."
    )
    assert error_message(error, Translator("cy")).startswith(
        "Does dim modd i achos symud o 'Ar gau' i 'Gweithredol'."
    )


def test_a_planned_end_error_gives_the_allowed_dates_in_the_readers_language() -> None:
    error = InvalidPlannedEnd(earliest="2026-06-02", latest="2027-03-02")

    assert "between 2 June 2026 and 2 March 2027: 3 to 12 months" in error_message(
        error, Translator("en_GB")
    )
    assert "rhwng 2 Mehefin 2026 a 2 Mawrth 2027, sef 3 i 12 mis" in error_message(
        error, Translator("cy")
    )


def test_an_unknown_error_code_gets_the_generic_message() -> None:
    class SomethingNew(DomainError):
        code = "something_new"

    assert error_message(SomethingNew(), Translator("en_GB")) == ERROR_MESSAGES["error"]


def test_no_error_message_shows_a_raw_placeholder() -> None:
    for cls in (StaleVersion, CaseClosed, DuplicateReference, InvalidPlannedEnd):
        for locale in SUPPORTED_LOCALES:
            text = error_message(cls(), Translator(locale))
            assert "{" not in text and "}" not in text, (cls, locale, text)
