"""The one-message log's words (``ui.quick_log``): any order, either language, every mistake named.

The bot's use of it (replies, saving, duplicates) is in ``tests/e2e/test_bot_log_one_message.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import ContactType, WorkCategory
from core.schemas.common import LONG_TEXT_MAX_LENGTH
from core.schemas.contacts import MAX_DURATION_MINUTES
from ui.i18n import Translator
from ui.quick_log import (
    TYPE_WORDS,
    WORK_WORDS,
    Problem,
    parse_quick_log,
    problem_messages,
    vocabulary,
)


def problems(text: str) -> list[Problem]:
    return [item.problem for item in parse_quick_log(text).problems]


def test_the_issues_own_example_is_read() -> None:
    contact = parse_quick_log('HER-0012 45m phone d s "short note"').contact
    assert contact is not None
    assert contact.reference == "HER-0012" and contact.duration_minutes == 45
    assert contact.contact_type is ContactType.PHONE
    assert contact.categories == {WorkCategory.DISRUPTION, WorkCategory.SUPPORT}
    assert contact.notes == "short note"


@pytest.mark.parametrize(
    ("written", "minutes"),
    [("45m", 45), ("45", 45), ("45 min", 45), ("45mins", 45), ("45mun", 45), ("45 munud", 45),
     ("1h", 60), ("1 hour", 60), ("1awr", 60), ("2 awr", 120), ("1.5h", 90), ("1.25h", 75),
     ("1h30", 90), ("1h30m", 90), ("1awr30", 90), ("1 hour 30 minutes", 90), ("1:30", 90),
     ("0m", 0), ("10h", MAX_DURATION_MINUTES)],
)  # fmt: skip
def test_durations_in_each_spelling(written: str, minutes: int) -> None:
    contact = parse_quick_log(f"HER-0012 phone s {written}").contact
    assert contact is not None and contact.duration_minutes == minutes


@pytest.mark.parametrize("written", ["1h75", "1:75", "45x", "1.5", "٤٥"])
def test_what_is_not_a_duration_is_a_word_not_understood(written: str) -> None:
    assert Problem.UNKNOWN_WORDS in problems(f"HER-0012 phone s 30m {written}")


def test_a_duration_over_cores_limit_is_named() -> None:
    assert problems(f"HER-0012 phone s {MAX_DURATION_MINUTES + 1}") == [Problem.TOO_LONG]


@pytest.mark.parametrize(
    ("words", "expected"),
    [("f2f", ContactType.FACE_TO_FACE), ("face to face", ContactType.FACE_TO_FACE),
     ("Face-to-face", ContactType.FACE_TO_FACE), ("wyneb yn wyneb", ContactType.FACE_TO_FACE),
     ("ffôn", ContactType.PHONE), ("FFON", ContactType.PHONE), ("Galwad ffôn", ContactType.PHONE),
     ("phone call", ContactType.PHONE), ("video call", ContactType.VIDEO),
     ("fideo", ContactType.VIDEO), ("sms", ContactType.TEXT), ("neges destun", ContactType.TEXT),
     ("llythyr", ContactType.LETTER), ("visit", ContactType.HOME_VISIT),
     ("home visit", ContactType.HOME_VISIT), ("ymweliad cartref", ContactType.HOME_VISIT),
     ("attempt", ContactType.ATTEMPT_NO_ANSWER), ("no answer", ContactType.ATTEMPT_NO_ANSWER),
     ("Contact attempt, no answer", ContactType.ATTEMPT_NO_ANSWER),
     ("ymgais", ContactType.ATTEMPT_NO_ANSWER)],
)  # fmt: skip
def test_contact_types_by_code_and_by_name_in_either_language(
    words: str, expected: ContactType
) -> None:
    contact = parse_quick_log(f"HER-0012 30m s {words}").contact
    assert contact is not None and contact.contact_type is expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [("d", {WorkCategory.DISRUPTION}), ("t", {WorkCategory.DISRUPTION}),
     ("Tarfu", {WorkCategory.DISRUPTION}), ("s c", {WorkCategory.SUPPORT}),
     ("cymorth", {WorkCategory.SUPPORT}), ("b", {WorkCategory.BEHAVIOUR_CHANGE}),
     ("n", {WorkCategory.BEHAVIOUR_CHANGE}), ("Newid ymddygiad", {WorkCategory.BEHAVIOUR_CHANGE}),
     ("behaviour change", {WorkCategory.BEHAVIOUR_CHANGE}),
     ("d,s+b", set(WorkCategory)), ("support/disruption", {WorkCategory.SUPPORT,
                                                           WorkCategory.DISRUPTION})],
)  # fmt: skip
def test_kinds_of_work_by_letter_and_by_name_in_either_language(
    words: str, expected: set[WorkCategory]
) -> None:
    contact = parse_quick_log(f"HER-0012 30m phone {words}").contact
    assert contact is not None and contact.categories == expected


def test_every_name_and_code_means_one_thing_and_each_has_its_own() -> None:
    table = vocabulary()  # raises if one spelling meant two things
    assert set(table.values()) == set(ContactType) | set(WorkCategory)
    assert set(TYPE_WORDS) == set(ContactType) and set(WORK_WORDS) == set(WorkCategory)


@pytest.mark.parametrize(
    ("text", "note"),
    [('HER-0012 30m phone s "a note"', "a note"), ("HER-0012 30m phone s “a note”", "a note"),
     ("“a note” HER-0012 30m phone s", "a note"), ('HER-0012 30m phone s "no end', "no end"),
     ('HER-0012 30m phone s "she said “no” twice"', "she said “no” twice"),
     ('HER-0012 30m phone s ""', None), ('HER-0012 "mid" 30m phone s', "mid")],
)  # fmt: skip
def test_the_note_is_everything_between_the_first_and_the_last_quote_mark(
    text: str, note: str | None
) -> None:
    contact = parse_quick_log(text).contact
    assert contact is not None and contact.notes == note


def test_a_note_longer_than_core_takes_is_named() -> None:
    text = 'HER-0012 30m phone s "' + "x" * (LONG_TEXT_MAX_LENGTH + 1) + '"'
    assert problems(text) == [Problem.NOTE]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", [Problem.NO_REFERENCE, Problem.NO_DURATION, Problem.NO_TYPE, Problem.NO_WORK]),
     ("HER-0012 HER-0013 30m phone s", [Problem.TWO_REFERENCES]),
     ("HER-0012 HER-0012 30m phone s", []),
     ("HER-0012 30m 1h phone s", [Problem.TWO_DURATIONS]),
     ("HER-0012 30m phone video s", [Problem.TWO_TYPES]),
     ("HER-0012 30m phone", [Problem.NO_WORK]),
     ("HER-12 30m phone s", [Problem.NO_REFERENCE, Problem.UNKNOWN_WORDS])],
)  # fmt: skip
def test_each_mistake_is_named(text: str, expected: list[Problem]) -> None:
    assert problems(text) == expected


def test_words_not_understood_are_named_by_their_place_counting_the_note_as_one() -> None:
    [item] = parse_quick_log('HER-0012 Quorvath 30m "a long note" phone s Brindlemoss').problems
    assert item.positions == (2, 7)
    [message] = problem_messages([item], Translator())
    assert message.startswith("Words 2, 7 after /log are not")
    assert "Quorvath" not in message and "Brindlemoss" not in message


TOKENS = ["HER-0012", "45m", "phone", "d", "s", '"short note"']


@settings(deadline=None)  # the first example reads both catalogs for the names
@given(order=st.permutations(TOKENS))
def test_the_order_of_the_words_does_not_matter(order: list[str]) -> None:
    contact = parse_quick_log(" ".join(order)).contact
    assert contact == parse_quick_log(" ".join(TOKENS)).contact


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_gives_a_contact_or_problems_whose_messages_never_repeat_it(text: str) -> None:
    parsed = parse_quick_log(text)
    assert (parsed.contact is None) == bool(parsed.problems)
    for locale in ("en_GB", "cy"):
        for message in problem_messages(parsed.problems, Translator(locale)):
            assert message.strip()
            words = [w for w in text.split() if len(w) >= 6 and not w.isdigit()]
            assert not any(word in message for word in words if word not in "/log HER-0012")
