"""Typed errors raised by core. Each carries a stable ``code``; faces translate codes to text.

Core never writes user-facing words: ``details`` holds values a face may put into its message.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"

    def __init__(self, **details: Any) -> None:
        self.details = details
        super().__init__(f"{self.code} {details}" if details else self.code)


class NotFound(DomainError):
    code = "not_found"


class NotPermitted(DomainError):
    """The policy turned the actor down.

    Besides its ``details`` (what a face may say), it carries who was refused and, when known,
    which record: the unit of work it leaves puts the refusal on record
    (``core.services.refusals``), so no face has to. ``recorded`` says that was done.
    """

    code = "not_permitted"

    def __init__(self, *, actor: Any = None, site_id: int | None = None, **details: Any) -> None:
        super().__init__(**details)
        self.actor = actor
        self.site_id = site_id
        self.entity_type: str | None = None
        self.entity_id: int | None = None
        self.recorded = False

    def about(self, entity_type: str, entity_id: int | None) -> NotPermitted:
        """Name the record that was refused. A service that loads one record through another
        (an appointment through its case) names the one it was asked about last, so it wins."""
        self.entity_type, self.entity_id = entity_type, entity_id
        return self


class ValidationFailed(DomainError):
    """Input broke a rule. ``details['field']`` names the field, ``details['rule']`` the rule."""

    code = "validation_failed"


class CaseClosed(DomainError):
    code = "case_closed"


class InvalidStageTransition(DomainError):
    code = "invalid_stage_transition"


class ClosureReasonRequired(DomainError):
    code = "closure_reason_required"


class AppointmentEndsBeforeStart(DomainError):
    code = "appointment_ends_before_start"


class StaleVersion(DomainError):
    """Someone else changed the record since it was read: reload and apply the change again."""

    code = "stale_version"


class DuplicateReference(DomainError):
    code = "duplicate_reference"


class UnknownAccount(DomainError):
    """No active staff account has that email address."""

    code = "unknown_account"


class DuplicateEmail(DomainError):
    code = "duplicate_email"


class InvalidPlannedEnd(DomainError):
    code = "invalid_planned_end"


class DatabaseNotReady(DomainError):
    """The schema is missing or behind: run ``drive-assist db upgrade``."""

    code = "database_not_ready"


class LinkCodeInvalid(DomainError):
    """A Telegram link code is unknown, already used, expired, or its account is inactive.

    One error for every case, so a wrong guess learns nothing about which it was.
    """

    code = "link_code_invalid"


class LinkAttemptsExceeded(DomainError):
    """Too many wrong link codes from one Telegram account lately; wait and try again."""

    code = "link_attempts_exceeded"


class SignInFailed(DomainError):
    """A web sign-in did not succeed: unknown email, wrong password or code, inactive account, or a
    handoff or enrolment token that is unknown, used or out of date.

    One error for every case, so a wrong guess learns nothing about which it was.
    """

    code = "sign_in_failed"


class PasskeyRejected(DomainError):
    """A passkey ceremony did not succeed: made for another site (origin or RP ID), an unknown
    or removed passkey, a used or out-of-date challenge, no user verification, a bad signature
    or a sign count that went backwards. ``details['step']`` is "register" or "sign_in".

    One error for every case, as ``SignInFailed``: the audit event holds the reason.
    """

    code = "passkey_rejected"


class PasskeysUnavailable(DomainError):
    """Passkeys are not set up for this installation (no ``WEB_RP_ID`` or allowed origin)."""

    code = "passkeys_unavailable"


class SignInThrottled(DomainError):
    """Too many failed sign-ins lately for this email address from this client (device or
    network); ``details['retry_at']`` is when the next try will be looked at.

    Counted per address *and* client, so failures from elsewhere never hold anyone back, and
    unknown addresses are throttled the same way, so a refusal does not show that an account
    exists.
    """

    code = "sign_in_throttled"


class SignInClientThrottled(DomainError):
    """Too many failed sign-ins lately from this client, whatever the addresses;
    ``details['retry_at']`` is when it may try again. Says nothing about any account."""

    code = "sign_in_client_throttled"


class AccountLocked(DomainError):
    """The account was locked after many failed sign-ins from several clients. Raised only to
    someone who gave its right password, so it does not show that an account exists. The
    person's own reset link, or a service manager or admin, unlocks it."""

    code = "account_locked"


# --- input a person could not have meant, each with ``details['field']`` for the face -------


class DateOutOfRange(ValidationFailed):
    """A date outside ``core.rules.EARLIEST_DAY``..``LATEST_DAY``: a slip such as year 0001 or
    9999, which a person never means (and which would overflow date arithmetic)."""

    code = "date_out_of_range"


class ContactInFuture(ValidationFailed):
    """A contact dated after now (beyond the few minutes a phone's clock may drift)."""

    code = "contact_in_future"


class ContactBeforeReferral(ValidationFailed):
    """A contact dated before the case's referral date (``details['referral_date']``)."""

    code = "contact_before_referral"


class WorkCategoryRequired(ValidationFailed):
    """A contact with no kind of work (disruption, support, behaviour change): every contact is
    some work on the case, and the reports count it by kind."""

    code = "work_category_required"


class ActionDueInPast(ValidationFailed):
    """A panel action due before today (the site's day): an action is work still to do."""

    code = "action_due_in_past"


class MeetingInPast(ValidationFailed):
    """A panel meeting scheduled at or before now: a meeting is scheduled ahead."""

    code = "meeting_in_past"


class TextTooLong(ValidationFailed):
    """Text longer than its field allows; ``details['max_length']`` is the limit."""

    code = "text_too_long"


class UnsavableText(ValidationFailed):
    """Text holding characters no database can store: NUL, or half of a surrogate pair."""

    code = "unsavable_text"


class AuditTrailBlocked(DomainError):
    """An audited write could not be appended to the audit chain: a row sits where the next
    event belongs (one inserted past the chain's head, outside the application). Nothing was
    saved; ``drive-assist audit verify`` names the row for the operator to investigate."""

    code = "audit_trail_blocked"


class Clash(DomainError):
    """Saving would double-book: another appointment on the same case overlaps the time, or
    another panel meeting at the same site is at the same time. Nothing was saved.

    ``clashes`` holds what it clashes with (``core.schemas.clashes.ClashRead``), for the face to
    list before offering "save anyway"; ``details['kind']`` is ``"appointment"`` or
    ``"panel_meeting"`` and ``details['count']`` how many.
    """

    code = "clash"

    def __init__(self, *, clashes: tuple[object, ...], kind: str) -> None:
        super().__init__(kind=kind, count=len(clashes))
        self.clashes = clashes


# --- case work (issue 19) ---------------------------------------------------------------------


class DashAnswerMissing(ValidationFailed):
    """The DASH checklist was given without an answer to ``details['question']`` (q1..q24)."""

    code = "dash_answer_missing"


class DateInFuture(ValidationFailed):
    """A referral or a stage move dated after today."""

    code = "date_in_future"


class DateBeforeReferral(ValidationFailed):
    """A stage move dated before the case's referral date (``details['referral_date']``)."""

    code = "date_before_referral"


class DateBeforeLastChange(ValidationFailed):
    """A stage move dated before the case's last move (``details['last_change']``): the history
    runs in order."""

    code = "date_before_last_change"


class ClosureReasonTextRequired(ValidationFailed):
    """A closure for an "other" reason needs the reason in words."""

    code = "closure_reason_text_required"


class CaseNotClosed(DomainError):
    """Only a closed case can be reopened."""

    code = "case_not_closed"


class PossibleDuplicates(DomainError):
    """A referral matches existing cases (same folded name, or surname and initial, and a date
    of birth equal or with day and month swapped). Nothing was saved; the face shows
    ``matches`` (``core.schemas.referrals.DuplicateCheckRead``) and may save anyway.

    ``details['count']`` is how many matched, at every site.
    """

    code = "possible_duplicates"

    def __init__(self, *, matches: object, count: int) -> None:
        super().__init__(count=count)
        self.matches = matches


class NotAUkMobile(ValidationFailed):
    """A mobile number for text messages that is not a UK mobile (07..., +447...)."""

    code = "not_uk_mobile"


class MobileNeededForSms(ValidationFailed):
    """Text messages chosen for a kind of notification, and no mobile number to send them to."""

    code = "mobile_needed_for_sms"


class NoChannelChosen(ValidationFailed):
    """A kind of notification left with no way to reach the person."""

    code = "no_channel_chosen"


class ChannelNotAvailable(ValidationFailed):
    """Email or text messages chosen where GOV.UK Notify is not set up for them."""

    code = "channel_not_available"


# --- staff accounts: invitations, resets, passwords (core.services.accounts) ---------------


class AccountLinkInvalid(DomainError):
    """An invitation or reset link that cannot be used. ``details['reason']``: ``unknown``
    (made up or mistyped), ``expired``, ``used``, ``revoked`` (a newer link replaced it, or too
    many wrong tries) or ``inactive`` (the account is switched off)."""

    code = "account_link_invalid"


class AuthenticatorChangeExpired(DomainError):
    """The new authenticator's code came too late to finish a change started on My account,
    or after the account's authenticator was changed or reset meanwhile: start again."""

    code = "authenticator_change_expired"


class PasswordNotAllowed(ValidationFailed):
    """A new password breaks a rule: ``details['rule']`` is ``too_short``, ``too_long``,
    ``common`` or ``like_account`` (core.passwords.password_problem)."""

    code = "password_not_allowed"


class WrongPassword(DomainError):
    """The current password given to confirm a change is not the account's."""

    code = "wrong_password"


class WrongCode(DomainError):
    """The authenticator code given is not right (or was used already)."""

    code = "wrong_code"


class WrongNewCode(WrongCode):
    """Changing authenticator app: the code given is not the *new* app's (its own message
    says which app, where ``wrong_code`` names none)."""

    code = "wrong_new_code"


# --- device PINs: resuming an idle session (core.services.device_pins) --------------------


class PinNotAllowed(ValidationFailed):
    """A new PIN breaks a rule: ``details['rule']`` is ``format`` (not exactly 6 digits),
    ``one_digit`` (all the same digit) or ``sequence`` (a straight run, up or down)."""

    code = "pin_not_allowed"


class DeviceUnknown(DomainError):
    """This browser has no device id (its cookie is missing): a PIN cannot be bound to it.
    Signing in again on the device gives it one."""

    code = "device_unknown"


class PinRejected(DomainError):
    """A PIN did not resume the session: wrong, or the session may not be resumed with a PIN
    on this device. ``details['removed']`` is True when that was the last try and the PIN is
    gone from the device; ``details['tries_left']`` otherwise, when a PIN was checked."""

    code = "pin_rejected"
