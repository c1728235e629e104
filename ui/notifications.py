"""Notification text: an outbox message's key and params in the recipient's language.

The outbox stores only ``message_key`` (a ``NotificationKind`` code) and params that may leave
the system: a case reference, an instant as an ISO string, a place kind, a count. Rendering
shows instants in Europe/London through the Translator and place kinds through their labels;
a message whose params are missing or malformed falls back to a plain prompt rather than
showing a raw ``{placeholder}`` or failing the send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from core.enums import KIND_GROUPS, KindGroup, NotificationKind, PlaceKind
from ui.i18n import DEFAULT_TIMEZONE, N_, Translator
from ui.labels import label

# Keys are NotificationKind codes, bare or as "notification.<kind>" (core.notifications.schedulers).
KEY_PREFIX = "notification."
FALLBACK = N_("You have a new notification. Open Drive Assist to see it.")

TEMPLATES: dict[str, str] = {
    NotificationKind.APPOINTMENT_REMINDER: N_(
        "Reminder: appointment for {reference} at {time} ({place})."
    ),
    NotificationKind.MISSED_APPOINTMENT: N_(
        "The appointment for {reference} at {time} has no outcome yet. Record whether it went"
        " ahead."
    ),
    NotificationKind.PANEL_REMINDER: N_("Reminder: the panel meets at {time}."),
    NotificationKind.PANEL_BROADCAST: N_("The {site} panel meets on {date} at {clock}."),
    NotificationKind.DISRUPTION_ALERT: N_(
        "Disruption alert for {reference}. Please acknowledge it."
    ),
    NotificationKind.ESCALATION: N_(
        "The disruption alert for {reference} has not been acknowledged yet. Please act on it."
    ),
    NotificationKind.TELEGRAM_LINK_CODE_ISSUED: N_(
        "An administrator made a code at {time} that links a Telegram account to your Drive"
        " Assist account. If you did not ask for one, tell your manager straight away."
    ),
    NotificationKind.ACCOUNT_PASSWORD_RESET: N_(
        "Your password was reset at {time} by a service manager or administrator, and you were"
        " signed out everywhere. Choose a new one with the link sent to your email. If you did"
        " not ask for this, tell your manager straight away."
    ),
    NotificationKind.ACCOUNT_SECOND_FACTOR_RESET: N_(
        "Your authenticator app was reset at {time} by a service manager or administrator, and"
        " you were signed out everywhere. Set it up again with the link sent to your email. If"
        " you did not ask for this, tell your manager straight away."
    ),
    NotificationKind.ACCOUNT_AUTHENTICATOR_CHANGED: N_(
        "The authenticator app for your Drive Assist account was changed at {time} from My"
        " account. Codes from the old app no longer work. If this was not you, tell your"
        " manager straight away."
    ),
    NotificationKind.ACCOUNT_PASSKEY_REMOVED: N_(
        "A service manager or administrator removed one of your passkeys at {time}, and you were"
        " signed out everywhere. It can no longer sign you in. If you did not ask for this, tell"
        " your manager straight away."
    ),
}


def _moment(params: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(params["time"] if "time" in params else params["starts_at"]))


def _time(params: Mapping[str, Any], translator: Translator) -> str:
    return translator.format_datetime(_moment(params), "EEE d MMM, HH:mm")


def _date(params: Mapping[str, Any], translator: Translator) -> str:
    return translator.format_datetime(_moment(params), "EEEE d MMMM")


def _clock(params: Mapping[str, Any], translator: Translator) -> str:
    return translator.format_datetime(_moment(params), "HH:mm")


def _site(params: Mapping[str, Any], _translator: Translator) -> str:
    """The site's name (an office, never a person), or its code in messages queued before
    names were carried."""
    return str(params.get("site_name") or params["site_code"])


def _place(params: Mapping[str, Any], translator: Translator) -> str:
    return label(PlaceKind(params["place_kind"]), translator)


# Each placeholder a template may use, and how to make it from the params.
_FIELDS: dict[str, Callable[[Mapping[str, Any], Translator], str]] = {
    "reference": lambda params, _translator: str(params["reference"]),
    "time": _time,
    "date": _date,
    "clock": _clock,
    "site": _site,
    "place": _place,
}


def render(
    message_key: str, params: Mapping[str, Any], locale: str, timezone: str = DEFAULT_TIMEZONE
) -> str:
    """The text of one notification for a reader of ``locale``.

    Params by key: ``reference`` (a case reference), ``time`` or ``starts_at`` (an ISO 8601
    instant with its offset), ``site_name`` or ``site_code`` (a site, for panel messages),
    ``place_kind`` (a ``PlaceKind`` code), ``appointments_today``
    or ``count`` (the daily digest).
    """
    translator = Translator(locale, timezone)  # the service's zone (Settings.timezone)
    message_key = message_key.removeprefix(KEY_PREFIX)
    if message_key == NotificationKind.DAILY_DIGEST:
        try:
            count = int(
                params["appointments_today"] if "appointments_today" in params else params["count"]
            )
        except (KeyError, TypeError, ValueError):
            return translator.gettext(FALLBACK)
        return translator.ngettext(
            "Good morning. You have {n} appointment today.",
            "Good morning. You have {n} appointments today.",
            count,
        )
    template = TEMPLATES.get(message_key)
    if template is None:
        return translator.gettext(FALLBACK)
    try:
        values = {
            name: make(params, translator)
            for name, make in _FIELDS.items()
            if "{" + name + "}" in template
        }
    except (KeyError, TypeError, ValueError):
        return translator.gettext(FALLBACK)
    return translator.gettext(template, **values)


# Said after the text where a message carries no buttons (an email or a text message): where
# to act on it. Telegram adds its own line under its buttons instead (bot.keyboards).
IN_THE_APP = N_("Open Drive Assist to do so.")
_ACTED_ON_IN_THE_APP = frozenset({NotificationKind.DISRUPTION_ALERT, NotificationKind.ESCALATION})


def render_without_buttons(
    message_key: str, params: Mapping[str, Any], locale: str, timezone: str = DEFAULT_TIMEZONE
) -> str:
    """``render``, then where to act on it for a message with no buttons (email, SMS)."""
    text = render(message_key, params, locale, timezone)
    if message_key.removeprefix(KEY_PREFIX) not in _ACTED_ON_IN_THE_APP:
        return text
    return f"{text} {Translator(locale, timezone).gettext(IN_THE_APP)}"


# An email's subject, by the group of its kind: what it is about, never which case.
SUBJECTS: dict[KindGroup, str] = {
    KindGroup.REMINDERS: N_("Drive Assist: reminder"),
    KindGroup.DIGEST: N_("Drive Assist: your day"),
    KindGroup.ALERTS: N_("Drive Assist: disruption alert"),
    KindGroup.PANEL: N_("Drive Assist: panel meeting"),
}
SUBJECT_FALLBACK = N_("Drive Assist")


def render_subject(
    message_key: str, params: Mapping[str, Any], locale: str, timezone: str = DEFAULT_TIMEZONE
) -> str:
    """An email's subject for one notification, in ``locale`` (the params are not used: a
    subject names the kind of message only)."""
    translator = Translator(locale, timezone)
    try:
        group = KIND_GROUPS.get(NotificationKind(message_key.removeprefix(KEY_PREFIX)))
    except ValueError:
        group = None
    return translator.gettext(SUBJECTS[group] if group is not None else SUBJECT_FALLBACK)
