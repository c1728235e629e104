"""Display labels: every vocabulary code and intervention kind has words, in both languages."""

from __future__ import annotations

import importlib.util
import inspect
from enum import StrEnum
from pathlib import Path

import pytest

import core.enums
from core.enums import ClosureReason, ContactType, Locale, PlaceKind, Role, Stage, WorkCategory
from ui.i18n import SUPPORTED_LOCALES, Translator
from ui.labels import (
    INTERVENTION_KIND_LABELS,
    LABELS,
    LANGUAGE_NAMES,
    choices,
    intervention_kind_label,
    label,
)

VOCABULARIES: list[type[StrEnum]] = [
    cls
    for _name, cls in inspect.getmembers(core.enums, inspect.isclass)
    if issubclass(cls, StrEnum) and cls is not StrEnum and cls.__module__ == core.enums.__name__
]
MIGRATION = (
    Path(core.enums.__file__).parent / "db" / "migrations" / "versions" / "0001_initial_schema.py"
)


def intervention_catalogue() -> dict[str, list[str]]:
    """The kinds migration 0001 seeds into intervention_kinds (read from the file, not a DB)."""
    spec = importlib.util.spec_from_file_location("migration_0001", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.INTERVENTION_CATALOGUE


def test_the_vocabularies_are_found() -> None:
    assert {Role, Stage, ClosureReason, ContactType, Locale} <= set(VOCABULARIES)


def test_every_member_of_every_vocabulary_has_a_label() -> None:
    missing = [
        f"{cls.__name__}.{member.name}"
        for cls in VOCABULARIES
        for member in cls
        if member not in LABELS.get(cls, {}) and member not in LANGUAGE_NAMES
    ]
    assert missing == []


def test_the_label_tables_hold_no_code_the_vocabularies_lack() -> None:
    for cls, table in LABELS.items():
        assert all(type(code) is cls for code in table), cls.__name__


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_label_reads_as_words_not_as_a_code(locale: str) -> None:
    translator = Translator(locale)
    for cls in VOCABULARIES:
        for member in cls:
            shown = label(member, translator)
            assert shown and shown != member.value, f"{cls.__name__}.{member.name}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_two_members_of_a_vocabulary_share_a_label(locale: str) -> None:
    translator = Translator(locale)
    for cls in VOCABULARIES:
        shown = [label(member, translator) for member in cls]
        assert len(set(shown)) == len(shown), (cls.__name__, shown)


def test_a_welsh_reader_sees_welsh_labels() -> None:
    welsh = Translator("cy")

    assert label(Role.CASE_MANAGER, welsh) == "Rheolwr achos"
    assert label(Stage.CLOSED, welsh) == "Ar gau"
    assert label(ClosureReason.OTHER, welsh) == "Arall"
    assert label(WorkCategory.BEHAVIOUR_CHANGE, welsh) == "Newid ymddygiad"


def test_an_english_reader_sees_english_labels() -> None:
    english = Translator("en_GB")

    assert label(Role.CASE_MANAGER, english) == "Case manager"
    assert label(Stage.INDIRECT, english) == "Indirect work"
    assert label(PlaceKind.PHONE, english) == "By phone"
    assert label(ContactType.PHONE, english) == "Phone call"


def test_languages_are_named_in_their_own_words_whatever_the_readers_language() -> None:
    for locale in SUPPORTED_LOCALES:
        translator = Translator(locale)
        assert label(Locale.EN_GB, translator) == "English"
        assert label(Locale.CY, translator) == "Cymraeg"


def test_choices_list_every_member_in_order_with_its_label() -> None:
    assert choices(Stage, Translator("cy")) == [
        ("referred", "Atgyfeiriwyd"),
        ("allocated", "Dyrannwyd"),
        ("engaging", "Ymgysylltu"),
        ("active", "Gweithredol"),
        ("indirect", "Gwaith anuniongyrchol"),
        ("closed", "Ar gau"),
    ]


def test_every_intervention_kind_in_the_catalogue_has_a_label() -> None:
    codes = {code for kinds in intervention_catalogue().values() for code in kinds}

    assert codes - INTERVENTION_KIND_LABELS.keys() == set()
    assert INTERVENTION_KIND_LABELS.keys() - codes == set()


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_intervention_kind_reads_as_words_in_each_language(locale: str) -> None:
    translator = Translator(locale)
    shown = [intervention_kind_label(code, translator) for code in INTERVENTION_KIND_LABELS]

    assert all(text and text not in INTERVENTION_KIND_LABELS for text in shown)
    assert len(set(shown)) == len(shown)


def test_an_intervention_kind_reads_in_welsh_for_a_welsh_reader() -> None:
    assert intervention_kind_label("non_molestation_order", Translator("cy")) == (
        "Gorchymyn rhag molestu"
    )
    assert intervention_kind_label("dvpn_dvpo", Translator("en_GB")) == (
        "Domestic violence protection notice or order (DVPN/DVPO)"
    )


def test_an_unknown_intervention_kind_is_shown_as_its_code_rather_than_failing() -> None:
    assert intervention_kind_label("new_kind", Translator("cy")) == "new_kind"
