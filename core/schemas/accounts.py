"""What the staff-account services hand out: invitation and reset links (shown once when they
could not be emailed), the steps of following one, the "My account" page and the page where
service managers and admins reset a colleague's sign-in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.enums import Locale
from core.schemas.common import ReadModel
from core.schemas.passkeys import PasskeyRead
from core.schemas.sites import SiteRead
from core.schemas.users import UserRead


class LinkKind(StrEnum):
    INVITATION = "invitation"  # a new account: set a password, then enrol an authenticator
    PASSWORD_RESET = "password_reset"  # a new password, proved with the authenticator
    SECOND_FACTOR_RESET = "second_factor_reset"  # the password, then a new authenticator


class LinkDelivery(ReadModel):
    """A link was made for ``email``. ``emailed``: GOV.UK Notify took it. Otherwise ``url`` is
    the link, to be shown once to whoever made it and handed over by them, and
    ``notify_status``/``notify_reason`` say what Notify answered (None: Notify is not set up).
    ``url`` is empty when the link was emailed: nobody but its owner should see it."""

    kind: LinkKind
    user_id: int
    email: str
    display_name: str
    expires_at: datetime
    emailed: bool
    url: str
    notify_status: int | None = None
    notify_reason: str | None = None


class UserAdded(UserRead):
    """A new account and its invitation."""

    invitation: LinkDelivery


class LinkStep(StrEnum):
    SET_PASSWORD = "set_password"  # invitation: choose a password (then enrol)
    CONFIRM_PASSWORD = "confirm_password"  # second-factor reset: the password (then enrol)
    RESET_PASSWORD = "reset_password"  # password reset: a new password and a code


class AccountLinkRead(ReadModel):
    """A usable link's first step, and whose account it is (shown on the page it opens)."""

    kind: LinkKind
    step: LinkStep
    email: str
    display_name: str
    locale: Locale
    expires_at: datetime


class EnrolmentStart(ReadModel):
    """Show ``otpauth_uri`` as a QR code and ``secret`` for typing in; then the first code."""

    secret: str
    otpauth_uri: str


class AuthenticatorChangeStart(EnrolmentStart):
    """A new authenticator to set up from My account. ``ticket`` (sealed: only core can read
    or make one) carries the new secret to the last step, which the old authenticator's code
    and the password have earned; the face keeps it on its server side only."""

    ticket: str


class SessionRead(ReadModel):
    id: int
    created_at: datetime
    last_seen_at: datetime
    this_device: bool


class MyAccount(ReadModel):
    """The signed-in person's own account: who, since when their authenticator is set up (None:
    not set up), and their live web sessions, newest first."""

    email: str
    display_name: str
    totp_enrolled_at: datetime | None
    sessions: tuple[SessionRead, ...]


class AccountState(StrEnum):
    SET_UP = "set_up"  # a password and an authenticator
    INVITED = "invited"  # the invitation is not accepted yet (a live link)
    INVITATION_EXPIRED = "invitation_expired"  # not accepted, and no live link
    SWITCHED_OFF = "switched_off"


class StaffAccountRead(ReadModel):
    id: int
    display_name: str
    email: str
    state: AccountState
    link_expires_at: datetime | None  # the live invitation's end, if any
    passkeys: tuple[PasskeyRead, ...] = ()  # names and dates only, oldest first


class StaffAccountsPage(ReadModel):
    """The sites where the actor may reset colleagues' sign-in, the site shown, its staff."""

    sites: tuple[SiteRead, ...]
    site_id: int | None
    staff: tuple[StaffAccountRead, ...]
