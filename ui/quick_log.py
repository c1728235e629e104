"""The one-message log: ``HER-0012 45m phone d s "a short note"``, read in any order.

For the bot's ``/log`` with arguments (and any other face that takes a contact as one line of
text). Pure: the words after the command go in; out comes the contact to log
(``ContactOnReference``, for one core call) or every problem with it, which
:func:`problem_messages` puts into the reader's language. A problem never repeats what was
typed: it names the word by its place ("word 5"), since a stray word may be a name.

The words, in either language whatever the reader's own, letter case and accents aside:

- the case reference (``HER-0012``: the site's code, a hyphen, the number);
- the duration: ``45m``, ``45 min``, ``45mun``, ``90`` (minutes), ``1h``, ``1awr``, ``1.5h``,
  ``1h30``, ``1:30``; at most ``MAX_DURATION_MINUTES``, as core takes;
- the contact type, by a short code (``f2f``, ``phone``, ``visit``; ``wyneb``, ``ffôn``) or by
  its name (``Phone call``, ``Galwad ffôn``);
- the kinds of work, one or more, by a letter (``d`` ``s`` ``b``; ``t`` ``c`` ``n``) or name;
- the note, in quotes (straight or curly); from the first quote mark to the last, or to the end
  of the message when it is not closed. The note's limits are core's (``text_problem``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from core.enums import ContactType, WorkCategory
from core.errors import ValidationFailed
from core.schemas.common import text_problem
from core.schemas.contacts import MAX_DURATION_MINUTES, ContactOnReference
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label

OPENING_QUOTES = '"“”„«'
CLOSING_QUOTES = '"”“»'
_REFERENCE = re.compile(r"^[A-Za-z]{2,5}-[0-9]{4,6}$")
_MINUTE_UNITS = "m|min|mins|minute|minutes|mun|munud"
_HOUR_UNITS = "h|hr|hrs|hour|hours|awr|oriau"
_MINUTES = re.compile(rf"^([0-9]{{1,6}})(?:{_MINUTE_UNITS})?$")
_HOURS = re.compile(rf"^([0-9]{{1,2}})(?:\.([0-9]{{1,2}}))?(?:{_HOUR_UNITS})$")
_HOURS_MINUTES = re.compile(
    rf"^([0-9]{{1,2}})(?:{_HOUR_UNITS}|:)([0-9]{{1,2}})(?:{_MINUTE_UNITS})?$"
)
_LONGEST_DURATION = 4  # words: "1 hour 30 minutes"
_TRIM = ".:;!?()[]"

# Short codes and other names, English then Welsh; each vocabulary's first code in each
# language is the one /help shows. The labels (in both languages) are names too.
TYPE_WORDS: dict[ContactType, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ContactType.FACE_TO_FACE: (("f2f", "ftf", "in person"), ("wyneb", "wyneb yn wyneb")),
    ContactType.PHONE: (("phone", "tel", "telephone"), ("ffôn", "ffonio")),
    ContactType.VIDEO: (("video",), ("fideo",)),
    ContactType.TEXT: (("text", "sms"), ("neges", "testun", "neges testun")),
    ContactType.LETTER: (("letter",), ("llythyr",)),
    ContactType.HOME_VISIT: (("visit", "home"), ("ymweliad", "cartref")),
    ContactType.ATTEMPT_NO_ANSWER: (("attempt", "no answer", "na"), ("ymgais", "dim ateb")),
}
WORK_WORDS: dict[WorkCategory, tuple[tuple[str, ...], tuple[str, ...]]] = {
    WorkCategory.DISRUPTION: (("d", "disrupt"), ("t", "darfu")),
    WorkCategory.SUPPORT: (("s",), ("c", "gymorth")),
    WorkCategory.BEHAVIOUR_CHANGE: (
        ("b", "bc", "behaviour", "behavior", "behavior change"),
        ("n", "newid", "ymddygiad"),
    ),
}
NAME_LOCALES = ("en_GB", "cy")


class Problem(StrEnum):
    NO_REFERENCE = "no_reference"
    TWO_REFERENCES = "two_references"
    NO_DURATION = "no_duration"
    TWO_DURATIONS = "two_durations"
    TOO_LONG = "too_long"
    NO_TYPE = "no_type"
    TWO_TYPES = "two_types"
    NO_WORK = "no_work"
    UNKNOWN_WORDS = "unknown_words"
    NOTE = "note"


@dataclass(frozen=True)
class QuickLogProblem:
    problem: Problem
    positions: tuple[int, ...] = ()  # UNKNOWN_WORDS: the words' places, 1 = first after /log
    error: ValidationFailed | None = None  # NOTE: core's reason


@dataclass(frozen=True)
class QuickLog:
    """What the words said: the contact, or (when anything is wrong) the problems."""

    contact: ContactOnReference | None
    problems: tuple[QuickLogProblem, ...] = ()


def fold(word: str) -> str:
    """A word as compared: no accents, no letter case (``Ffôn`` -> ``ffon``)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def vocabulary() -> dict[tuple[str, ...], ContactType | WorkCategory]:
    """Every name and code, as folded words, with what it means."""
    table: dict[tuple[str, ...], ContactType | WorkCategory] = {}
    sources: list[tuple[ContactType | WorkCategory, list[str]]] = []
    translators = [Translator(locale) for locale in NAME_LOCALES]
    for words in (TYPE_WORDS, WORK_WORDS):
        for value, (english, welsh) in words.items():
            labels = [label(value, t) for t in translators]
            sources.append((value, [value.value.replace("_", " "), *english, *welsh, *labels]))
    for value, names in sources:
        for name in names:
            key = tuple(_words(name))
            if table.setdefault(key, value) != value:
                raise ValueError(f"{name!r} would mean both {table[key]} and {value}")
    return table


def _words(text: str) -> list[str]:
    """Folded words; a hyphen parts words (``face-to-face``) but not figures (``HER-12``)."""
    parts = re.split(r"[\s,;+/]+", text)
    parts = [q for p in parts for q in (p.split("-") if not re.search(r"[0-9]", p) else [p])]
    return [w for w in (fold(q).strip(_TRIM) for p in parts for q in p.split("_")) if w]


def _duration(text: str) -> int | None:
    """Minutes for one duration written without spaces (folded), or None."""
    if match := _MINUTES.match(text):
        return int(match[1])
    if match := _HOURS.match(text):
        tenths = match[2] or "0"
        return round((int(match[1]) + int(tenths) / 10 ** len(tenths)) * 60)
    if (match := _HOURS_MINUTES.match(text)) and int(match[2]) < 60:
        return int(match[1]) * 60 + int(match[2])
    return None


def _split_note(text: str) -> tuple[str, str | None, str]:
    """(before the note, the note or None, after it)."""
    start = next((i for i, c in enumerate(text) if c in OPENING_QUOTES), None)
    if start is None:
        return text, None, ""
    end = max((i for i, c in enumerate(text) if c in CLOSING_QUOTES and i > start), default=None)
    if end is None:
        return text[:start], text[start + 1 :], ""
    return text[:start], text[start + 1 : end], text[end + 1 :]


def parse_quick_log(text: str) -> QuickLog:
    """The words after ``/log``: the contact they describe, or what is wrong with them."""
    before, note, after = _split_note(text)
    before_words = before.split()
    # (place, word): the note counts as one word, so the places match what was typed.
    tokens = [(i + 1, w) for i, w in enumerate(before_words)]
    first_after = len(before_words) + (2 if note is not None else 1)
    tokens += [(first_after + i, w) for i, w in enumerate(after.split())]
    references: list[str] = []
    words: list[tuple[int, str]] = []
    for place, token in tokens:
        reference = token.strip(_TRIM + ",")
        if _REFERENCE.match(reference):
            references.append(reference.upper())
        else:
            words += [(place, w) for w in _words(token)]
    durations, types, work, unknown = _read_words(words)
    return _verdict(references, durations, types, work, unknown, note)


def _read_words(
    words: list[tuple[int, str]],
) -> tuple[list[int], list[ContactType], list[WorkCategory], list[int]]:
    table = vocabulary()
    longest = max(len(key) for key in table)
    durations: list[int] = []
    types: list[ContactType] = []
    work: list[WorkCategory] = []
    unknown: list[int] = []
    i = 0
    while i < len(words):
        taken = 0
        if words[i][1][:1].isdigit():
            for n in range(min(_LONGEST_DURATION, len(words) - i), 0, -1):
                if n > 1 and words[i + 1][1][:1].isdigit():
                    continue  # "45 30m" is two durations, not 4,530 minutes
                minutes = _duration("".join(w for _, w in words[i : i + n]))
                if minutes is not None:
                    durations.append(minutes)
                    taken = n
                    break
        else:
            for n in range(min(longest, len(words) - i), 0, -1):
                meaning = table.get(tuple(w for _, w in words[i : i + n]))
                if meaning is not None:
                    (types if isinstance(meaning, ContactType) else work).append(meaning)  # type: ignore[arg-type]
                    taken = n
                    break
        if not taken:
            unknown.append(words[i][0])
            taken = 1
        i += taken
    return durations, types, work, unknown


def _verdict(
    references: list[str],
    durations: list[int],
    types: list[ContactType],
    work: list[WorkCategory],
    unknown: list[int],
    note: str | None,
) -> QuickLog:
    problems: list[QuickLogProblem] = []
    distinct_references, distinct_durations = set(references), set(durations)
    distinct_types = set(types)

    def check(problem: Problem, wrong: bool) -> None:
        if wrong:
            problems.append(QuickLogProblem(problem))

    check(Problem.NO_REFERENCE, not distinct_references)
    check(Problem.TWO_REFERENCES, len(distinct_references) > 1)
    check(Problem.NO_DURATION, not distinct_durations)
    check(Problem.TWO_DURATIONS, len(distinct_durations) > 1)
    check(Problem.TOO_LONG, any(m > MAX_DURATION_MINUTES for m in distinct_durations))
    check(Problem.NO_TYPE, not distinct_types)
    check(Problem.TWO_TYPES, len(distinct_types) > 1)
    check(Problem.NO_WORK, not work)
    if unknown:
        positions = tuple(sorted(set(unknown)))
        problems.append(QuickLogProblem(Problem.UNKNOWN_WORDS, positions=positions))
    note = (note or "").strip() or None
    note_error = None if note is None else text_problem(note, field="notes")
    if note_error is not None:
        problems.append(QuickLogProblem(Problem.NOTE, error=note_error))
    if problems:
        return QuickLog(contact=None, problems=tuple(problems))
    contact = ContactOnReference(
        reference=references[0],
        contact_type=types[0],
        duration_minutes=durations[0],
        categories=frozenset(work),
        notes=note,
    )
    return QuickLog(contact=contact)


# --- words for people -------------------------------------------------------------------------

_MESSAGES: dict[Problem, str] = {
    Problem.NO_REFERENCE: N_("Add the case reference, for example HER-0012."),
    Problem.TWO_REFERENCES: N_(
        "Give one case reference, not two: log each case in its own message."
    ),
    Problem.NO_DURATION: N_("Add how long it took, for example 45m, 1h or 1h30."),
    Problem.TWO_DURATIONS: N_("Give one duration, not two."),
    Problem.TOO_LONG: N_("A contact can last at most {hours} hours: check the duration."),
    Problem.NO_TYPE: N_("Add the kind of contact, for example phone, f2f or visit."),
    Problem.TWO_TYPES: N_("Give one kind of contact, not two: log each in its own message."),
    Problem.NO_WORK: N_(
        "Add at least one kind of work: d (disruption), s (support) or b (behaviour change)."
    ),
}


def problem_messages(problems: Iterable[QuickLogProblem], t: Translator) -> list[str]:
    """One sentence per problem, in the reader's language; none repeats what was typed."""
    lines = []
    for item in problems:
        if item.problem is Problem.UNKNOWN_WORDS:
            places = ", ".join(str(p) for p in item.positions)
            lines.append(
                t.ngettext(
                    "Word {places} after /log is not a case reference, a duration, a kind of"
                    ' contact or a kind of work. Put a note in quotes, "like this".',
                    "Words {places} after /log are not a case reference, a duration, a kind of"
                    ' contact or a kind of work. Put a note in quotes, "like this".',
                    len(item.positions),
                    places=places,
                )
            )
        elif item.problem is Problem.NOTE and item.error is not None:
            lines.append(error_message(item.error, t))
        else:
            lines.append(t.gettext(_MESSAGES[item.problem], hours=MAX_DURATION_MINUTES // 60))
    return lines


def _shown_code(words: tuple[tuple[str, ...], tuple[str, ...]], t: Translator) -> str:
    english, welsh = words
    return welsh[0] if t.locale == "cy" else english[0]


def help_lines(t: Translator) -> list[str]:
    """The one-message form and its codes, in the reader's language (for /help)."""
    types = ", ".join(_shown_code(words, t) for words in TYPE_WORDS.values())
    work = ", ".join(
        f"{_shown_code(words, t)} {label(category, t).lower()}"
        for category, words in WORK_WORDS.items()
    )
    return [
        t.gettext("Log a contact in one message, in any order:"),
        t.gettext('/log HER-0012 45m phone d s "short note"'),
        t.gettext("Contact: {codes}", codes=types),
        t.gettext("Work (one or more): {codes}", codes=work),
        t.gettext("Duration: 45m, 1h, 1h30 or 90 (minutes)"),
    ]
