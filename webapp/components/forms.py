"""GOV.UK Design System form parts: a visible label on every field, an optional hint, the
field's own error message, and the error summary that links to each field in error.

(https://design-system.service.gov.uk/components/text-input/ and /error-summary/)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import reflex as rx

from core.rules import is_real_day
from ui.i18n import N_, SOURCE_LOCALE, Translator
from webapp.i18n import READS_WELSH, _, translator


def text_field(
    *,
    name: str,
    label: rx.Var | str,
    hint: rx.Var | str | None = None,
    error: rx.Var | None = None,
    width_class: str = "",
    **input_props: Any,
) -> rx.Component:
    """A labelled input. ``error`` is a state var holding the message ('' when none)."""
    field_id = name
    described_by = [f"{field_id}-hint"] if hint is not None else []
    parts: list[rx.Component] = [rx.el.label(label, html_for=field_id, class_name="label")]
    if hint is not None:
        parts.append(rx.el.div(hint, id=f"{field_id}-hint", class_name="hint"))
    if error is not None:
        parts.append(field_error(error, f"{field_id}-error"))
        has_error = error != ""
        aria_describedby = rx.cond(
            has_error,
            " ".join([*described_by, f"{field_id}-error"]),
            " ".join(described_by),
        )
        input_class = rx.cond(has_error, f"input input-error {width_class}", f"input {width_class}")
        group_class = rx.cond(has_error, "form-group form-group-error", "form-group")
    else:
        aria_describedby = " ".join(described_by) or None
        input_class = f"input {width_class}"
        group_class = "form-group"
    parts.append(
        rx.el.input(
            id=field_id,
            name=name,
            class_name=input_class,
            aria_describedby=aria_describedby,
            **input_props,
        )
    )
    return rx.el.div(*parts, class_name=group_class)


def field_error(
    message: rx.Var, element_id: rx.Var | str, shown: rx.Var | None = None
) -> rx.Component:
    """A field's own error line ("Error:" for screen readers, then ``message``), shown while
    ``shown`` holds (by default: while ``message`` is not empty)."""
    return rx.cond(
        shown if shown is not None else message != "",
        rx.el.p(
            rx.el.span(_("Error:"), class_name="visually-hidden"),
            " ",
            message,
            id=element_id,
            class_name="error-message",
        ),
    )


@dataclass(frozen=True)
class FieldError:
    """One line of a page's error summary: the id of the field it is about, and what to fix."""

    field: str
    message: str


def error_summary(errors: rx.Var) -> rx.Component:
    """A summary of ``errors`` (a list of ``FieldError``) linking to each field."""
    return rx.cond(
        errors.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.h2(_("There is a problem"), class_name="error-summary-title"),
            rx.el.ul(
                rx.foreach(
                    errors,
                    # assets/focus.js moves focus to the field, its question in view.
                    lambda item: rx.el.li(rx.el.a(item["message"], href=f"#{item['field']}")),
                ),
                class_name="error-summary-list",
            ),
            role="alert",
            tab_index=-1,
            id="error-summary",
            class_name="error-summary",
            # assets/focus.js puts it before the page's title while the summary shows.
            custom_attrs={"data-title-prefix": _("Error:")},
        ),
    )


def button(label: rx.Var | str, *, variant: str = "", **props: Any) -> rx.Component:
    """A GOV.UK button. A submit button stays disabled until the page is connected to the
    server: pressed earlier, the browser would post the form itself (sign-in: a bare "Method
    Not Allowed" page; other forms: the answers in the address) instead of the event handler.
    ``variant``: extra classes, such as ``"button-warning"``."""
    if props.get("type") == "submit" and "disabled" not in props:
        props["disabled"] = ~rx.State.is_hydrated
    return rx.el.button(label, class_name=f"button {variant}".strip(), **props)


def focus(element_id: str, *, scroll: bool = False) -> rx.event.EventSpec:
    """Move keyboard focus to ``element_id`` once the page has drawn it (after a save, to the
    confirmation or the error summary); ``scroll`` also brings it to the top of the screen."""
    then = " e.scrollIntoView({block: 'start'});" if scroll else ""
    return rx.call_script(
        f"setTimeout(() => {{ const e = document.getElementById('{element_id}');"
        f" if (e) {{ e.focus();{then} }} }}, 50)"
    )


DATE_PARTS = (
    ("day", N_("Day"), "input-2"),
    ("month", N_("Month"), "input-2"),
    ("year", N_("Year"), "input-4"),
)


def date_parts(day: date | None) -> tuple[str, str, str]:
    """A date as the three fields' text (day, month, year), or three empty strings."""
    return ("", "", "") if day is None else (str(day.day), str(day.month), str(day.year))


def parse_date_parts(form: Mapping[str, Any], name: str) -> date | None:
    """The date typed into ``date_input(name=...)``'s three fields, or None when it is not a
    real date in the years core accepts. Spaces are ignored and leading zeros are optional
    ("07", "7"); the year needs its four digits (GOV.UK's date input pattern)."""
    texts = [re.sub(r"\s", "", str(form.get(f"{name}_{part}") or "")) for part, _, _ in DATE_PARTS]
    if not all(text.isdigit() for text in texts) or len(texts[2]) != 4:
        return None
    try:
        day = date(int(texts[2]), int(texts[1]), int(texts[0]))
    except ValueError:
        return None
    return day if is_real_day(day) else None


def date_input(
    *,
    name: str,
    legend: rx.Var | str,
    hint: rx.Var | str | None = None,
    error: rx.Var | None = None,
    defaults: tuple[Any, Any, Any] = ("", "", ""),
    element_id: rx.Var | str | None = None,
    in_error: rx.Var | None = None,
) -> rx.Component:
    """GOV.UK's date input: a legend, a hint, then Day, Month and Year as three short
    numeric fields (named ``{name}_day``, ``{name}_month``, ``{name}_year``; read them back
    with ``parse_date_parts``). The day field's id is ``name``, so an error summary link to
    ``#name`` focuses it with the question in view. ``defaults``: the fields' first text.

    A form repeated on a page (one per meeting) gives its ids a base of their own,
    ``element_id``, and says when ``error`` is its own with ``in_error``."""
    base: Any = name if element_id is None else element_id
    has_error: Any = False
    if in_error is not None:
        has_error = in_error
    elif error is not None:
        has_error = error != ""
    hint_id = base + "-hint" if hint is not None else None
    parts: list[rx.Component] = [
        rx.el.legend(legend, id=base + "-legend", class_name="fieldset-legend")
    ]
    if hint is not None:
        parts.append(rx.el.div(hint, id=hint_id, class_name="hint"))
    if error is not None:
        parts.append(field_error(error, base + "-error", in_error))
    items = []
    for (part, label, width), default in zip(DATE_PARTS, defaults, strict=True):
        field_id = base if part == "day" else base + f"-{part}"
        items.append(
            rx.el.div(
                rx.el.label(_(label), html_for=field_id, class_name="label date-input-label"),
                rx.el.input(
                    id=field_id,
                    name=f"{name}_{part}",
                    type="text",
                    input_mode="numeric",
                    auto_complete="off",
                    default_value=default,
                    class_name=rx.cond(has_error, f"input input-error {width}", f"input {width}"),
                ),
                class_name="date-input-item",
            )
        )
    parts.append(rx.el.div(*items, class_name="date-input"))
    aria: Any = hint_id
    if error is not None:
        with_error = base + "-error" if hint_id is None else hint_id + " " + base + "-error"
        aria = rx.cond(has_error, with_error, hint_id if hint_id is not None else "")
    return rx.el.div(
        rx.el.fieldset(*parts, class_name="fieldset", role="group", aria_describedby=aria),
        class_name=rx.cond(has_error, "form-group form-group-error", "form-group"),
    )


def parse_date_time_parts(
    form: Mapping[str, Any], name: str, time_name: str, words: Translator
) -> datetime | None:
    """``date_input(name=...)``'s date and the time field ``time_name`` as an aware datetime in
    the user's zone, or None when either is not real (the date: as ``parse_date_parts``)."""
    day = parse_date_parts(form, name)
    try:
        at = time.fromisoformat(str(form.get(time_name) or "").strip())
    except ValueError:
        return None
    return None if day is None else datetime.combine(day, at, tzinfo=words.timezone)


def date_time_input(
    *,
    name: str,
    time_name: str,
    legend: rx.Var | str,
    hint: rx.Var | str | None = None,
    error: rx.Var | None = None,
    defaults: tuple[Any, Any, Any] = ("", "", ""),
    time_default: Any = "",
    element_id: str | None = None,
    time_id: str | None = None,
    in_error: rx.Var | None = None,
) -> rx.Component:
    """``date_input``, then a time field (``time_name``, the browser's own 24-hour time); read
    them back with ``parse_date_time_parts``. ``error`` shows once, on the date.
    ``element_id``, ``time_id``, ``in_error``: as ``date_input``'s, for ids other than names."""
    has_error: Any = in_error if in_error is not None else (error is not None and error != "")
    return rx.fragment(
        date_input(
            name=name,
            legend=legend,
            hint=hint,
            error=error,
            defaults=defaults,
            element_id=element_id,
            in_error=in_error,
        ),
        rx.el.div(
            rx.el.label(_("Time"), html_for=time_id or time_name, class_name="label"),
            rx.el.input(
                type="time",
                id=time_id or time_name,
                name=time_name,
                default_value=time_default,
                class_name=rx.cond(has_error, "input input-time input-error", "input input-time"),
            ),
            class_name="form-group",
        ),
    )


def group_class(error: rx.Var) -> rx.Var:
    """A form group's class: with the red bar while ``error`` holds a message."""
    return rx.cond(error != "", "form-group form-group-error", "form-group")


def radio(name: str, value: str, text: Any, field_id: str, checked: Any) -> rx.Component:
    """One GOV.UK radio: the input and its label, a 44 px tall row."""
    return rx.el.div(
        rx.el.input(
            type="radio",
            name=name,
            value=value,
            id=field_id,
            default_checked=checked,
            class_name="radios-input",
        ),
        rx.el.label(text, html_for=field_id, class_name="radios-label"),
        class_name="radios-item",
    )


def fieldset(
    legend_id: str,
    legend: Any,
    *items: rx.Component | Iterable[rx.Component],
    hint: Any = None,
    error: rx.Var | None = None,
    error_id: str = "",
    inline: bool = False,
) -> rx.Component:
    """A question answered by radios or checkboxes: legend, hint, the error line, the choices.

    ``items``: the choices, each a component or an iterable of them.
    """
    described = [f"{legend_id}-hint"] if hint is not None else []
    parts: list[rx.Component] = [
        rx.el.legend(legend, id=legend_id, class_name="fieldset-legend", tab_index=-1)
    ]
    if hint is not None:
        parts.append(rx.el.div(hint, id=f"{legend_id}-hint", class_name="hint"))
    if error is not None:
        parts.append(field_error(error, f"{error_id}-error"))
        aria = rx.cond(
            error != "", " ".join([*described, f"{error_id}-error"]), " ".join(described)
        )
    else:
        aria = " ".join(described) or None
    children: list[rx.Component] = []
    for item in items:
        children.extend([item] if isinstance(item, rx.Component) else item)
    parts.append(rx.el.div(*children, class_name="radios radios-inline" if inline else "radios"))
    group = rx.el.fieldset(*parts, class_name="fieldset", aria_describedby=aria)
    return rx.el.div(group, class_name=group_class(error) if error is not None else "form-group")


# --- character count (https://design-system.service.gov.uk/components/character-count/) -----


def _characters_left(words: Translator, n: int, count: str) -> str:
    return words.ngettext(
        "You have {count} character remaining",
        "You have {count} characters remaining",
        n,
        count=count,
    )


def _characters_over(words: Translator, n: int, count: str) -> str:
    return words.ngettext(
        "You have {count} character too many",
        "You have {count} characters too many",
        n,
        count=count,
    )


CHARACTERS_ALLOWED = N_("You can enter up to {count} characters")
# The plural forms each language singles out (English: 1; Welsh: 1, 2, 3 and 6); any other
# count takes the form of ``_OTHER``. Enough to choose the words in the browser.
_SINGLED_OUT = (0, 1, 2, 3, 6)
_OTHER = 7
_COUNT = "__COUNT__"  # where the browser puts the number, grouped in the page's language


def _count_words(locale: str) -> str:
    """The count's words in ``locale`` for the browser: {"left"|"over": {"n"|"other": text}}."""
    words = translator(locale)

    numbers = {str(n): n for n in _SINGLED_OUT} | {"other": _OTHER}
    return json.dumps(
        {
            "left": {key: _characters_left(words, n, _COUNT) for key, n in numbers.items()},
            "over": {key: _characters_over(words, n, _COUNT) for key, n in numbers.items()},
        }
    )


def _count_script(field_id: str, max_length: int) -> str:
    """Browser code: the count under ``field_id`` for its text now; read out once typing stops."""
    return f"""(() => {{
  const box = document.getElementById({json.dumps(field_id)});
  const shown = document.getElementById({json.dumps(field_id + "-count")});
  const heard = document.getElementById({json.dumps(field_id + "-count-live")});
  if (!box || !shown || !heard) return;
  const left = {max_length} - Array.from(box.value.trim()).length;
  const n = Math.abs(left);
  const forms = JSON.parse(shown.dataset.words)[left < 0 ? "over" : "left"];
  const text = (forms[String(n)] || forms.other)
    .replace({json.dumps(_COUNT)}, n.toLocaleString(document.documentElement.lang || "en-GB"));
  shown.textContent = text;
  shown.className = left < 0 ? "error-message character-count" : "hint character-count";
  box.classList.toggle("textarea-error", left < 0);
  clearTimeout(window.daCountTimer);
  window.daCountTimer = setTimeout(() => {{ heard.textContent = text; }}, 1000);
}})()"""


def character_count(field_id: str, max_length: int) -> tuple[rx.Component, rx.event.EventSpec]:
    """The GOV.UK character count under a textarea: "You have N characters remaining" (or "too
    many", in red), counted in the browser as the person types, read out to screen readers once
    typing pauses; the textarea is described by "You can enter up to N characters" (its
    ``aria-describedby`` names ``<field_id>-count-hint``). Returns the count and the event for
    the textarea's ``on_change`` (run in the browser only). Core enforces the limit; this only
    shows it.
    """
    locales = (SOURCE_LOCALE, "cy")
    welsh = READS_WELSH

    def in_language(texts: dict[str, str]) -> rx.Var | str:
        same = texts["cy"] == texts[SOURCE_LOCALE]
        return texts[SOURCE_LOCALE] if same else rx.cond(welsh, texts["cy"], texts[SOURCE_LOCALE])

    grouped = f"{max_length:,}"
    allowed = {
        locale: translator(locale).gettext(CHARACTERS_ALLOWED, count=grouped) for locale in locales
    }
    remaining = {
        locale: _characters_left(translator(locale), max_length, grouped) for locale in locales
    }
    words = {locale: _count_words(locale) for locale in locales}
    count = rx.fragment(
        rx.el.div(in_language(allowed), id=f"{field_id}-count-hint", class_name="visually-hidden"),
        rx.el.div(
            in_language(remaining),
            id=f"{field_id}-count",
            class_name="hint character-count",
            aria_hidden="true",
            custom_attrs={"data-words": in_language(words)},
        ),
        rx.el.div(id=f"{field_id}-count-live", class_name="visually-hidden", aria_live="polite"),
    )
    return count, rx.call_script(_count_script(field_id, max_length))


def case_reference_field(label: rx.Var | str, error: rx.Var, value: rx.Var) -> rx.Component:
    """A case reference typed in (``case_reference``), as short as the code it holds."""
    return text_field(
        name="case_reference",
        label=label,
        hint=_("For example, HER-0042"),
        error=error,
        default_value=value,
        autocomplete="off",
        spell_check=False,
        width_class="input-code",
    )
