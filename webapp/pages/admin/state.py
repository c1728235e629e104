"""The Admin page's state: one core read (``core.services.admin.admin_page``) for what it
shows, and one core call for each button (each refusal shown by the row or field it is about).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.areas import Offer, offers
from core.enums import Locale, Role
from core.errors import DomainError
from core.schemas.admin import AdminPage
from core.schemas.notifications_admin import FailedNotificationRead
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, RoleChange, UserCreate, UserRead
from core.services import admin, notifications_admin, sites, telegram_links, users
from ui.account_mail import NotifyLinkMailer, delivery_text
from ui.i18n import N_, Translator
from ui.labels import label
from webapp.components.forms import FieldError, focus
from webapp.handlers import Caller, signed_in
from webapp.state import AppState

ROLE_FIELD_PREFIX = "role-"
STAFF_FIELD_PREFIX = "staff-"
FAILED_FIELD_PREFIX = "failed-"
ENTER_NAME = N_("Enter the staff member's full name")
ENTER_EMAIL = N_("Enter an email address in the correct format, like name@example.org")
CHOOSE_ROLE = N_("Choose a role")
CHOOSE_SITE = N_("Choose a site")
ENTER_SITE_CODE = N_("Enter a site code of 2 to 5 letters, like HER")
ENTER_SITE_NAME = N_("Enter the site's name")
# The form fields a refusal of Add or Create may be shown by (other presses: by their row).
_FORM_FIELDS = frozenset({"new_name", "new_email", "new_role", "new_site", "site_code"})


@dataclass(frozen=True)
class SiteChoice:
    """A site where the admin manages staff."""

    id: str
    code: str
    name: str


@dataclass(frozen=True)
class SiteLine:
    code: str
    name: str


@dataclass(frozen=True)
class RoleChoice:
    value: str
    label: str


@dataclass(frozen=True)
class StaffCard:
    """A staff member at the site shown, with the ids of their card's parts."""

    id: str
    name: str
    email: str
    roles: str
    role: str  # the role held here ('' when none)
    status: str
    active: bool
    telegram: str
    linked: bool
    is_me: bool
    name_id: str
    field_id: str
    role_field: str
    form_key: str


@dataclass(frozen=True)
class FailedCard:
    """A failed notification: who, what kind and why, never the message itself."""

    id: str
    kind: str
    channel: str  # Telegram, email, text message or the inbox
    recipient: str
    attempts: str
    error: str
    created: str
    field_id: str


def _staff_card(person: UserRead, site_id: int, me: int, words: Translator) -> StaffCard:
    here = [m for m in person.memberships if m.site_id == site_id]
    role = here[0].role.value if here else ""
    return StaffCard(
        id=str(person.id),
        name=person.display_name,
        email=person.email,
        roles=", ".join(label(m.role, words) for m in here),
        role=role,
        status=words.gettext("Active") if person.is_active else words.gettext("Switched off"),
        active=person.is_active,
        telegram=words.gettext("Linked") if person.telegram_linked else words.gettext("Not linked"),
        linked=person.telegram_linked,
        is_me=person.id == me,
        name_id=f"{STAFF_FIELD_PREFIX}{person.id}-name",
        field_id=f"{STAFF_FIELD_PREFIX}{person.id}",
        role_field=f"{ROLE_FIELD_PREFIX}{person.id}",
        form_key=f"{person.id}-{role}",
    )


def _failed_card(message: FailedNotificationRead, words: Translator) -> FailedCard:
    return FailedCard(
        id=str(message.id),
        kind=label(message.kind, words),
        channel=label(message.channel, words),
        recipient=message.recipient_display_name,
        attempts=str(message.attempts),
        error=message.last_error or words.gettext("None recorded"),
        created=words.format_datetime(message.created_at, "d MMM yyyy, HH:mm"),
        field_id=f"{FAILED_FIELD_PREFIX}{message.id}",
    )


def _invalid_fields(error: ValidationError) -> set[str]:
    return {str(part) for problem in error.errors() for part in problem["loc"]}


def _site_problems(bad: set[str], words: Translator) -> list[tuple[str, str]]:
    """What to fix in the Create a site form, by field (``bad``: the fields core's model
    refused)."""
    problems = []
    if "code" in bad:
        problems.append(("site_code", words.gettext(ENTER_SITE_CODE)))
    if "name" in bad:
        problems.append(("site_name", words.gettext(ENTER_SITE_NAME)))
    return problems


class AdminState(AppState):
    allowed: bool = True
    loaded: bool = False
    site_choices: list[SiteChoice] = []  # the sites where the admin manages staff
    site_id: str = ""
    role_choices: list[RoleChoice] = []
    staff_cards: list[StaffCard] = []
    site_cards: list[SiteLine] = []
    can_create_site: bool = False
    failed_cards: list[FailedCard] = []
    # A link code, shown once: gone at the next press or page load.
    link_code: str = ""
    link_code_for: str = ""
    link_code_until: str = ""
    confirmation: str = ""
    invitation: str = ""  # what became of a new member of staff's invitation
    invitation_url: str = ""  # its link, when it could not be emailed: shown once
    errors: list[FieldError] = []
    row_field: str = ""
    row_error: str = ""
    new_name_error: str = ""
    new_email_error: str = ""
    new_role_error: str = ""
    new_site_error: str = ""
    site_code_error: str = ""
    site_name_error: str = ""
    add_form_key: str = ""
    site_form_key: str = ""
    _pressed: str = ""  # the row or field of the press in hand: where core's refusal shows

    def _clear_messages(self) -> None:
        self.confirmation = self.invitation = self.invitation_url = ""
        self.errors = []
        self.row_field = self.row_error = ""
        self.new_name_error = self.new_email_error = ""
        self.new_role_error = self.new_site_error = ""
        self.site_code_error = self.site_name_error = ""
        self.link_code = self.link_code_for = self.link_code_until = ""
        self._pressed = ""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        """Core refused a press: by its form's field, or by the row it was on."""
        if self._pressed in _FORM_FIELDS:
            field = "new_email" if error.code == "duplicate_email" else self._pressed
            return self._show_form_problems([(field, message)])
        return self._fail_row(self._pressed, message)

    def _fail_row(self, field: str, message: str) -> rx.event.EventSpec:
        self.row_field = field
        self.row_error = message
        self.errors = [FieldError(field, message)]
        return focus("error-summary")

    def _show_form_problems(self, problems: list[tuple[str, str]]) -> rx.event.EventSpec:
        found = dict(problems)
        self.new_name_error = found.get("new_name", "")
        self.new_email_error = found.get("new_email", "")
        self.new_role_error = found.get("new_role", "")
        self.new_site_error = found.get("new_site", "")
        self.site_code_error = found.get("site_code", "")
        self.site_name_error = found.get("site_name", "")
        self.errors = [FieldError(field, message) for field, message in problems]
        return focus("error-summary")

    def _show(self, shown: AdminPage, me: int, words: Translator) -> None:
        self.site_cards = [SiteLine(code=s.code, name=s.name) for s in shown.sites]
        self.site_choices = [
            SiteChoice(id=str(s.id), code=s.code, name=s.name)
            for s in shown.sites
            if s.id in shown.managed_site_ids
        ]
        self.can_create_site = shown.can_create_site
        self.role_choices = [RoleChoice(value=r.value, label=label(r, words)) for r in Role]
        self.site_id = str(shown.site_id) if shown.site_id is not None else ""
        self.staff_cards = [
            _staff_card(person, shown.site_id or 0, me, words) for person in shown.staff
        ]
        self.failed_cards = [_failed_card(message, words) for message in shown.failed]

    async def _refresh(self, caller: Caller) -> None:
        self.allowed = offers(caller.actor, Offer.MANAGE_STAFF)
        if not self.allowed:
            self.site_choices, self.staff_cards, self.site_cards = [], [], []
            self.failed_cards = []
            return
        site_id = int(self.site_id) if self.site_id.isdigit() else None
        shown = await admin.admin_page(uow=caller.uow(), actor=caller.actor, site_id=site_id)
        self._show(shown, caller.actor.user_id, caller.words)

    @asynccontextmanager
    async def _pressing(self, caller: Caller, pressed: str) -> AsyncIterator[None]:
        """Around a press on a row: where core's refusal shows, and the page read again after
        it, done or refused."""
        self._pressed = pressed
        try:
            yield
        finally:
            await self._refresh(caller)

    def _name_of(self, user_id: str) -> str:
        return next((card.name for card in self.staff_cards if card.id == user_id), "")

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.add_form_key = self.add_form_key or uuid.uuid4().hex
        self.site_form_key = self.site_form_key or uuid.uuid4().hex
        await self._refresh(caller)
        self.loaded = True

    @rx.event
    @signed_in
    async def choose_site(self, caller: Caller, site_id: str) -> None:
        self.site_id = site_id
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def set_active(self, caller: Caller, user_id: str, is_active: bool) -> rx.event.EventSpec:
        async with self._pressing(caller, f"{STAFF_FIELD_PREFIX}{user_id}"):
            person = await users.set_user_active(
                uow=caller.uow(), actor=caller.actor, user_id=int(user_id), is_active=is_active
            )
        self.confirmation = (
            caller.words.gettext("{name}'s account is switched on.", name=person.display_name)
            if person.is_active
            else caller.words.gettext(
                "{name}'s account is switched off. They can no longer sign in or use the bot.",
                name=person.display_name,
            )
        )
        return focus("confirmation")

    @rx.event
    @signed_in
    async def change_role(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        user_id = str(form.get("user_id") or "")
        role = str(form.get("role") or "")
        if not user_id.isdigit() or not self.site_id:
            return None  # not a form this page made
        field = f"{ROLE_FIELD_PREFIX}{user_id}"
        if role not in {r.value for r in Role}:
            return self._fail_row(field, caller.words.gettext(CHOOSE_ROLE))
        change = RoleChange(site_id=int(self.site_id), role=Role(role))
        async with self._pressing(caller, field):
            person = await users.change_role(
                uow=caller.uow(), actor=caller.actor, user_id=int(user_id), data=change
            )
        self.confirmation = caller.words.gettext(
            "{name} is now {role}.", name=person.display_name, role=label(change.role, caller.words)
        )
        return focus("confirmation")

    @rx.event
    @signed_in
    async def issue_code(self, caller: Caller, user_id: str) -> rx.event.EventSpec:
        words, name = caller.words, self._name_of(user_id)
        async with self._pressing(caller, f"{STAFF_FIELD_PREFIX}{user_id}"):
            issued = await telegram_links.issue_link_code(
                uow=caller.uow(), actor=caller.actor, user_id=int(user_id)
            )
        self.link_code = issued.code
        self.link_code_for = words.gettext("Telegram link code for {name}", name=name)
        self.link_code_until = words.gettext(
            "It works once, until {time}. In Telegram, they send /start {code} to the bot.",
            time=words.format_datetime(issued.expires_at, "HH:mm, d MMM"),
            code=issued.code,
        )
        return focus("link-code")

    @rx.event
    @signed_in
    async def revoke_link(self, caller: Caller, user_id: str) -> rx.event.EventSpec:
        name = self._name_of(user_id)
        async with self._pressing(caller, f"{STAFF_FIELD_PREFIX}{user_id}"):
            revoked = await telegram_links.revoke_telegram_link(
                uow=caller.uow(), actor=caller.actor, user_id=int(user_id)
            )
        self.confirmation = (
            caller.words.gettext("{name}'s Telegram link is revoked.", name=name)
            if revoked
            else caller.words.gettext("{name} had no Telegram link to revoke.", name=name)
        )
        return focus("confirmation")

    def _new_staff(
        self, form: dict[str, Any], words: Translator
    ) -> tuple[UserCreate | None, list[tuple[str, str]]]:
        """The Add form's answers as a new account, or what to fix (by field)."""
        role = str(form.get("new_role") or "")
        site_id = str(form.get("new_site") or "")
        codes = {choice.id: choice.code for choice in self.site_choices}
        problems: list[tuple[str, str]] = []
        data: UserCreate | None = None
        try:
            data = UserCreate(
                email=str(form.get("new_email") or "").strip(),
                display_name=str(form.get("new_name") or "").strip(),
                # The language of their invitation, their screens and their messages.
                locale=Locale.CY if form.get("new_locale") == Locale.CY.value else Locale.EN_GB,
                memberships=[MembershipCreate(site_code=codes.get(site_id, "XX"), role=role)],
            )
        except ValidationError as error:
            bad = _invalid_fields(error)
            if "display_name" in bad:
                problems.append(("new_name", words.gettext(ENTER_NAME)))
            if "email" in bad:
                problems.append(("new_email", words.gettext(ENTER_EMAIL)))
        if role not in {r.value for r in Role}:
            problems.append(("new_role", words.gettext(CHOOSE_ROLE)))
        if site_id not in codes:
            problems.append(("new_site", words.gettext(CHOOSE_SITE)))
        return (None if problems else data), problems

    @rx.event
    @signed_in
    async def add_staff(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        data, problems = self._new_staff(form, caller.words)
        if data is None:
            return self._show_form_problems(problems)
        self._pressed = "new_site"
        person = await users.add_user(
            uow=caller.uow(),
            actor=caller.actor,
            data=data,
            mailer=NotifyLinkMailer(caller.container.settings),
        )
        [membership] = data.memberships
        self.confirmation = caller.words.gettext(
            "{name} added as {role} at {site}.",
            name=person.display_name,
            role=label(membership.role, caller.words),
            site=membership.site_code,
        )
        # The invitation: emailed, or its link shown this once to hand over.
        self.invitation = delivery_text(person.invitation, caller.words)
        self.invitation_url = person.invitation.url
        self.add_form_key = uuid.uuid4().hex  # an empty form for the next one
        self.site_id = str(form.get("new_site") or "")
        await self._refresh(caller)
        return focus("confirmation")

    @rx.event
    @signed_in
    async def create_site(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        words = caller.words
        try:
            data = SiteCreate(
                code=str(form.get("site_code") or ""), name=str(form.get("site_name") or "")
            )
        except ValidationError as error:
            return self._show_form_problems(_site_problems(_invalid_fields(error), words))
        self._pressed = "site_code"
        site = await sites.create_site(uow=caller.uow(), actor=caller.actor, data=data)
        self.confirmation = words.gettext(
            "Site {name} created, with the code {code}.", name=site.name, code=site.code
        )
        self.site_form_key = uuid.uuid4().hex
        await self._refresh(caller)
        return focus("confirmation")

    @rx.event
    @signed_in
    async def retry(self, caller: Caller, message_id: str) -> rx.event.EventSpec:
        async with self._pressing(caller, f"{FAILED_FIELD_PREFIX}{message_id}"):
            message = await notifications_admin.retry_failed_notification(
                uow=caller.uow(), actor=caller.actor, message_id=int(message_id)
            )
        self.confirmation = caller.words.gettext(
            "The {kind} to {name} will be sent again.",
            kind=label(message.kind, caller.words),
            name=message.recipient_display_name,
        )
        return focus("confirmation")
