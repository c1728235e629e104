"""Core error codes turned into words a person can act on: what went wrong, what to do.

Every code has a plain message that needs nothing from the error. Some codes also have a fuller
message naming the case or the dates involved; it is used only when the error carries every
value it needs, so a missing detail never shows a raw ``{placeholder}`` to anyone.
"""

from __future__ import annotations

from datetime import date, datetime
from string import Formatter

from core.enums import Stage
from core.errors import DomainError
from core.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from core.rules import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_INTERVENTION_MONTHS,
    MIN_INTERVENTION_MONTHS,
)
from core.schemas.common import LONG_TEXT_MAX_LENGTH
from core.services.telegram_links import ATTEMPT_WINDOW, CODE_LIFETIME
from ui.i18n import N_, Translator
from ui.labels import label

ERROR_MESSAGES: dict[str, str] = {
    "error": N_(
        "Something went wrong. Try again, and tell your administrator if it keeps happening."
    ),
    "not_found": N_("We could not find that record. Check the reference and try again."),
    "not_permitted": N_(
        "You do not have permission to do that. If you need to, ask your service manager"
        " or administrator."
    ),
    "validation_failed": N_(
        "Something you entered is not valid. Check what you entered and try again."
    ),
    "case_closed": N_(
        "This case is closed, so it can no longer be changed. If that looks wrong, talk to"
        " your service manager."
    ),
    "invalid_stage_transition": N_(
        "A case cannot move to that stage from the stage it is at now. Choose a stage that"
        " can follow the current one."
    ),
    "closure_reason_required": N_("To close a case, choose a reason for closing it and try again."),
    "appointment_ends_before_start": N_(
        "The appointment must end after it starts. Check the start and end times and try again."
    ),
    "stale_version": N_(
        "Someone else changed this case while you were editing. Reload it and make your"
        " change again."
    ),
    "duplicate_reference": N_(
        "There is already a case with that reference. Check the reference and try again."
    ),
    "duplicate_email": N_(
        "There is already an account with that email address. Use that account, or enter"
        " a different email address."
    ),
    "invalid_planned_end": N_(
        "The planned end date must be {min_months} to {max_months} months after the case was"
        " allocated. Choose a date in that range."
    ),
    "clash": N_("Something else is booked at that time. Choose another time, or save it anyway."),
    "database_not_ready": N_("The database is not set up yet. Run: drive-assist db upgrade"),
    "date_out_of_range": N_("Enter a real date, between the years {first_year} and {last_year}."),
    "contact_in_future": N_(
        "The date and time of the contact must be now or in the past. Check them and try again."
    ),
    "contact_before_referral": N_(
        "The contact cannot be dated before the case was referred. Check the date and try again."
    ),
    "work_category_required": N_("Select at least one kind of work"),
    "action_due_in_past": N_("The due date must be today or in the future"),
    "meeting_in_past": N_("The meeting must be in the future"),
    "text_too_long": N_(
        "The text must be {max_text_length} characters or fewer. Shorten it and try again."
    ),
    "unsavable_text": N_(
        "The text has characters that cannot be saved. Remove them, or type the text again"
        " instead of pasting it."
    ),
    "audit_trail_blocked": N_(
        "Nothing was saved: the audit trail needs an administrator's attention."
        " Ask them to run: drive-assist audit verify"
    ),
    "unknown_account": N_(
        "There is no account with that email address. Check the address, or ask an"
        " administrator to add the account."
    ),
    "demo_data_present": N_(
        "The database already holds data, so no demo data was added. Use a new, empty database."
    ),
    "link_code_invalid": N_(
        "That link code does not work: it may be mistyped, already used or out of date."
        " Ask for a new code and send it within {link_code_minutes} minutes."
    ),
    "link_attempts_exceeded": N_(
        "Too many wrong link codes have been sent from this Telegram account. Wait"
        " {link_attempt_window_minutes} minutes, then send your code again."
    ),
    "sign_in_failed": N_(
        "We could not sign you in. Check your email address, password and the code from your"
        " authenticator app, then try again."
    ),
    "sign_in_throttled": N_(
        "There have been too many failed sign-ins with this email address from this device."
        " Wait a few minutes, then try again."
    ),
    "sign_in_client_throttled": N_(
        "There have been too many failed sign-ins from this device or network. Wait a few"
        " minutes, then try again."
    ),
    "passkey_rejected": N_(
        "That passkey cannot be used for Drive Assist: it may be for another website, removed,"
        " or the request may have timed out. Nothing was changed. Try again, or sign in with"
        " your password and authenticator code."
    ),
    "passkeys_unavailable": N_(
        "Passkeys are not set up for this service. Sign in with your password and"
        " authenticator code, and ask your administrator to set WEB_RP_ID."
    ),
    "account_locked": N_(
        "This account is locked because of many failed sign-ins from different places. Reset"
        " your password to unlock it, or ask your service manager or administrator to unlock it."
    ),
    "demo_mode_off": N_(
        "This only works in demo mode. Set DEMO_MODE=true to use it with demo data."
    ),
    "not_a_demo_account": N_("That is not a demo account, so its sign-in code cannot be shown."),
    "dash_answer_missing": N_(
        "Answer every question of the DASH checklist (yes, no or not known), or enter a known"
        " score instead."
    ),
    "date_in_future": N_("The date cannot be in the future. Check the date and try again."),
    "date_before_referral": N_(
        "The date cannot be before the case was referred. Check the date and try again."
    ),
    "date_before_last_change": N_(
        "The date cannot be before the case's last change of stage. Check the date and try again."
    ),
    "closure_reason_text_required": N_(
        "You chose 'Other' as the reason for closing: say in a few words what the reason is."
    ),
    "case_not_closed": N_("Only a closed case can be reopened."),
    "not_uk_mobile": N_("Enter a UK mobile number, like 07700 900123 or +44 7700 900123."),
    "mobile_needed_for_sms": N_(
        "You chose text messages, so enter your mobile number, or untick text message."
    ),
    "no_channel_chosen": N_("Choose at least one way to get each kind of message."),
    "channel_not_available": N_(
        "Email and text messages are not set up for Drive Assist yet. Choose Telegram or the"
        " Drive Assist inbox."
    ),
    "possible_duplicates": N_(
        "There may already be a case for this person. Check the possible matches, then save"
        " anyway if this is a different person or a new referral."
    ),
    "bench_database_not_empty": N_(
        "The database already holds cases, so no benchmark data was added. Use a new, empty"
        " database."
    ),
    "account_link_invalid": N_(
        "This link does not work. Ask your service manager or administrator for a new one."
    ),
    "password_not_allowed": N_(
        "Choose a different password: at least {min_password_length} characters, not a common"
        " password."
    ),
    "wrong_password": N_("That is not your current password. Check it and try again."),
    "authenticator_change_expired": N_(
        "That took too long, or your authenticator app was changed meanwhile. Start again:"
        " enter your password and a code from your current app."
    ),
    "wrong_code": N_(
        "That code is not right. Enter the 6-digit code your authenticator app shows now."
    ),
    "wrong_new_code": N_(
        "That is not the code your new authenticator app shows now. Check you scanned the QR code"
        " above with the new app, then enter the code it shows (codes change every 30 seconds)."
    ),
    "pin_not_allowed": N_("Choose a PIN of 6 digits that is not easy to guess."),
    "device_unknown": N_(
        "This browser cannot have a PIN yet. Sign out, sign in again on this device, then set"
        " your PIN."
    ),
    "pin_rejected": N_(
        "You cannot carry on with a PIN here. Sign in with your email address, password and"
        " authenticator code."
    ),
}

# Messages for one rule of an error (``details['rule']`` or ``details['reason']``), before the
# error's own message: ``"code:rule"``.
RULE_MESSAGES: dict[str, str] = {
    "account_link_invalid:expired": N_(
        "This link has expired. Ask your service manager or administrator to send you a new one."
    ),
    "account_link_invalid:used": N_(
        "This link has already been used. Sign in, or ask your service manager or administrator"
        " for a new link."
    ),
    "account_link_invalid:revoked": N_(
        "This link no longer works: a newer link was sent, or a wrong password or code was"
        " entered too many times. Use the newest link, or ask for a new one."
    ),
    "account_link_invalid:inactive": N_(
        "This account is switched off. If you need it, ask your administrator."
    ),
    "account_link_invalid:step_missing": N_(
        "Start again from the link in your email: the steps must be done in order."
    ),
    "password_not_allowed:too_short": N_(
        "Your password must be at least {min_password_length} characters long. A few unrelated"
        " words together make a long password that is easy to remember."
    ),
    "password_not_allowed:too_long": N_(
        "Your password must be {max_password_length} characters or fewer."
    ),
    "password_not_allowed:common": N_(
        "That password is too common: it is on a list of passwords that are often used or have"
        " been leaked. Choose another, such as three unrelated words."
    ),
    "password_not_allowed:like_account": N_(
        "Your password must not be your name or email address. Choose another."
    ),
    "pin_not_allowed:format": N_("Your PIN must be 6 digits, using only the numbers 0 to 9."),
    "pin_not_allowed:one_digit": N_(
        "Your PIN cannot be one digit 6 times. Choose a PIN that is harder to guess."
    ),
    "pin_not_allowed:sequence": N_(
        "Your PIN cannot be digits in order, like 123456 or 654321. Choose a PIN that is harder"
        " to guess."
    ),
    "validation_failed:own_account": N_(
        "You cannot do that to your own account. For your own password or authenticator, use"
        " My account."
    ),
    "validation_failed:inactive_account": N_(
        "That account is switched off. Switch it on first if the person needs to sign in."
    ),
    "validation_failed:not_set_up": N_(
        "That person has not set up their account yet. Send their invitation again instead."
    ),
    "validation_failed:already_set_up": N_(
        "That person has already set up their account, so there is no invitation to send. Reset"
        " their password or second factor instead."
    ),
}

# Fuller messages, used when the error's details fill every placeholder.
DETAILED_ERROR_MESSAGES: dict[str, str] = {
    "sign_in_throttled": N_(
        "There have been too many failed sign-ins with this email address from this device."
        " Try again at {retry_at}."
    ),
    "sign_in_client_throttled": N_(
        "There have been too many failed sign-ins from this device or network. Try again at"
        " {retry_at}."
    ),
    "contact_before_referral": N_(
        "The contact cannot be dated before {referral_date}, when the case was referred."
        " Check the date and try again."
    ),
    "text_too_long": N_(
        "The text must be {max_length} characters or fewer. Shorten it and try again."
    ),
    "unknown_account": N_(
        "There is no account with the email address {email}. Check the address, or ask an"
        " administrator to add the account."
    ),
    "case_closed": N_(
        "Case {reference} is closed, so it can no longer be changed. If that looks wrong,"
        " talk to your service manager."
    ),
    "invalid_stage_transition": N_(
        "A case cannot move from '{from_stage}' to '{to_stage}'. Choose a stage that can"
        " follow '{from_stage}'."
    ),
    "duplicate_reference": N_(
        "There is already a case with the reference {reference}. Check the reference and try again."
    ),
    "duplicate_email": N_(
        "There is already an account with the email address {email}. Use that account, or"
        " enter a different email address."
    ),
    "dash_answer_missing": N_(
        "DASH question {question} has no answer. Answer it (yes, no or not known), or enter a"
        " known score instead of the checklist."
    ),
    "date_before_referral": N_(
        "The date cannot be before {referral_date}, when the case was referred. Check the date"
        " and try again."
    ),
    "date_before_last_change": N_(
        "The date cannot be before {last_change}, when the case last changed stage. Check the"
        " date and try again."
    ),
    "invalid_planned_end": N_(
        "The planned end date must be between {earliest} and {latest}: {min_months} to"
        " {max_months} months after the case was allocated. Choose a date in that range."
    ),
}

# Values the face always knows, whatever the error carries.
_FIXED_PARAMS: dict[str, object] = {
    "min_months": MIN_INTERVENTION_MONTHS,
    "max_months": MAX_INTERVENTION_MONTHS,
    "link_code_minutes": int(CODE_LIFETIME.total_seconds() // 60),
    "link_attempt_window_minutes": int(ATTEMPT_WINDOW.total_seconds() // 60),
    "min_password_length": MIN_PASSWORD_LENGTH,
    "max_password_length": MAX_PASSWORD_LENGTH,
    "first_year": EARLIEST_DAY.year,
    "last_year": LATEST_DAY.year,
    "max_text_length": f"{LONG_TEXT_MAX_LENGTH:,}",
}
_STAGE_DETAILS = frozenset({"from_stage", "to_stage"})
_DATE_DETAILS = frozenset({"earliest", "latest", "referral_date", "last_change"})
_NUMBER_DETAILS = frozenset({"max_length"})
_TIME_DETAILS = frozenset({"retry_at"})


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def _shown(key: str, value: object, translator: Translator) -> str:
    """A detail as the reader should see it: stage codes as labels, ISO dates as local dates."""
    try:
        if key in _STAGE_DETAILS:
            return label(Stage(str(value)), translator)
        if key in _DATE_DETAILS:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            return translator.format_date(day, "long")
        if key == "question":  # a DASH question's key, q1..q24: its number
            return str(int(str(value).removeprefix("q")))
        if key in _TIME_DETAILS and isinstance(value, datetime):
            return translator.format_time(value, "short")  # today, in the reader's zone
        if key in _NUMBER_DETAILS:
            return f"{int(str(value)):,}"  # 5,000: both languages group thousands with a comma
    except ValueError:
        pass
    return str(value)


def error_message(error: DomainError, translator: Translator) -> str:
    generic = ERROR_MESSAGES["error"]
    plain = ERROR_MESSAGES.get(error.code, generic)
    params: dict[str, object] = dict(_FIXED_PARAMS)
    params.update({k: _shown(k, v, translator) for k, v in error.details.items()})
    rule = error.details.get("rule", error.details.get("reason"))
    candidates = (
        RULE_MESSAGES.get(f"{error.code}:{rule}"),
        DETAILED_ERROR_MESSAGES.get(error.code),
        plain,
    )
    for template in candidates:
        if template is None or not _placeholders(template) <= params.keys():
            continue
        try:
            return translator.gettext(template, **params)
        except (KeyError, IndexError, ValueError):
            continue  # a translation that names a value this error lacks
    return translator.gettext(generic)
