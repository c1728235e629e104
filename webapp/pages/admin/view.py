"""Admin: staff accounts, their roles, sites, Telegram link codes and failed notifications.

One page in sections, each with its heading, and a short contents list of links to them:
staff at a site (switch an account off or on, change the role held there, issue a Telegram
link code (shown once, with when it stops working) or revoke a link), adding a staff member,
sites (and creating one), and failed notifications (send one again). Every press calls a core
service, which decides whether the admin may (``Action.USER_MANAGE``, ``SITE_CREATE``,
``TELEGRAM_LINK_MANAGE``, ``NOTIFICATION_ADMIN``); anyone without ``USER_MANAGE`` anywhere sees
a "not allowed" notice and no data. Failed notifications show who, what kind and why, never
the message itself.
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.areas import Offer, offer_sites, offers
from core.enums import Role
from core.errors import DomainError
from core.schemas.actor import Actor
from core.schemas.notifications_admin import FailedNotificationRead
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, RoleChange, UserCreate, UserRead
from core.services import notifications_admin, sites, telegram_links, users
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label
from webapp import routes
from webapp.components.forms import button, error_summary, field_error, focus, text_field
from webapp.components.layout import not_allowed, page
from webapp.i18n import _, translator
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


def _staff_card(person: UserRead, site_id: int, me: int, words: Translator) -> dict[str, str]:
    here = [m for m in person.memberships if m.site_id == site_id]
    return {
        "id": str(person.id),
        "name": person.display_name,
        "email": person.email,
        "roles": ", ".join(label(m.role, words) for m in here),
        "role": here[0].role.value if here else "",
        "status": words.gettext("Active") if person.is_active else words.gettext("Switched off"),
        "active": "1" if person.is_active else "",
        "telegram": words.gettext("Linked")
        if person.telegram_linked
        else words.gettext("Not linked"),
        "linked": "1" if person.telegram_linked else "",
        "is_me": "1" if person.id == me else "",
        "name_id": f"{STAFF_FIELD_PREFIX}{person.id}-name",
        "field_id": f"{STAFF_FIELD_PREFIX}{person.id}",
        "role_field": f"{ROLE_FIELD_PREFIX}{person.id}",
        "form_key": f"{person.id}-{here[0].role.value if here else ''}",
    }


def _failed_card(message: FailedNotificationRead, words: Translator) -> dict[str, str]:
    return {
        "id": str(message.id),
        "kind": label(message.kind, words),
        "recipient": message.recipient_display_name,
        "attempts": str(message.attempts),
        "error": message.last_error or words.gettext("None recorded"),
        "created": words.format_datetime(message.created_at, "d MMM yyyy, HH:mm"),
        "field_id": f"{FAILED_FIELD_PREFIX}{message.id}",
    }


class AdminState(AppState):
    allowed: bool = True
    loaded: bool = False
    site_choices: list[dict[str, str]] = []  # the sites where the admin manages staff
    site_id: str = ""
    role_choices: list[dict[str, str]] = []  # {"value", "label"}
    staff_cards: list[dict[str, str]] = []
    site_cards: list[dict[str, str]] = []
    can_create_site: bool = False
    failed_cards: list[dict[str, str]] = []
    # A link code, shown once: gone at the next press or page load.
    link_code: str = ""
    link_code_for: str = ""
    link_code_until: str = ""
    confirmation: str = ""
    errors: list[dict[str, str]] = []
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

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.errors = []
        self.row_field = self.row_error = ""
        self.new_name_error = self.new_email_error = ""
        self.new_role_error = self.new_site_error = ""
        self.site_code_error = self.site_name_error = ""
        self.link_code = self.link_code_for = self.link_code_until = ""

    def _fail_row(self, field: str, message: str) -> None:
        self.row_field = field
        self.row_error = message
        self.errors = [{"field": field, "message": message}]

    async def _refresh(self, actor: Actor) -> None:
        from webapp.backend import container

        uow = container().uow
        words = translator(self.locale)
        managed = offer_sites(actor, Offer.MANAGE_STAFF)
        self.allowed = bool(managed)
        if not self.allowed:
            self.site_choices = self.staff_cards = self.site_cards = self.failed_cards = []
            return
        known = await sites.list_sites(uow=uow(), actor=actor)
        self.site_cards = [{"code": s.code, "name": s.name} for s in known]
        self.site_choices = [
            {"id": str(s.id), "code": s.code, "name": s.name} for s in known if s.id in managed
        ]
        self.can_create_site = offers(actor, Offer.CREATE_SITE)
        self.role_choices = [{"value": r.value, "label": label(r, words)} for r in Role]
        if self.site_id not in {c["id"] for c in self.site_choices}:
            self.site_id = self.site_choices[0]["id"] if self.site_choices else ""
        if self.site_id:
            staff = await users.list_users(uow=uow(), actor=actor, site_id=int(self.site_id))
            self.staff_cards = [
                _staff_card(person, int(self.site_id), actor.user_id, words)
                for person in sorted(staff, key=lambda p: (p.display_name, p.id))
            ]
        else:
            self.staff_cards = []
        if offers(actor, Offer.FAILED_NOTIFICATIONS):
            failed = await notifications_admin.list_failed_notifications(uow=uow(), actor=actor)
            self.failed_cards = [_failed_card(message, words) for message in failed]
        else:
            self.failed_cards = []

    async def _begin(self) -> Actor | None:
        actor = await self.actor()
        self._clear_messages()
        return actor

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._begin()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        self.add_form_key = self.add_form_key or uuid.uuid4().hex
        self.site_form_key = self.site_form_key or uuid.uuid4().hex
        await self._refresh(actor)
        self.loaded = True
        return None

    @rx.event
    async def choose_site(self, site_id: str) -> rx.event.EventSpec | None:
        actor = await self._begin()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        self.site_id = site_id
        await self._refresh(actor)
        return None

    def _name_of(self, user_id: str) -> str:
        return next((c["name"] for c in self.staff_cards if c["id"] == user_id), "")

    @rx.event
    async def set_active(self, user_id: str, is_active: bool):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        try:
            person = await users.set_user_active(
                uow=container().uow(), actor=actor, user_id=int(user_id), is_active=is_active
            )
        except DomainError as error:
            self._fail_row(f"{STAFF_FIELD_PREFIX}{user_id}", error_message(error, words))
            await self._refresh(actor)
            yield focus("error-summary")
            return
        self.confirmation = (
            words.gettext("{name}'s account is switched on.", name=person.display_name)
            if person.is_active
            else words.gettext(
                "{name}'s account is switched off. They can no longer sign in or use the bot.",
                name=person.display_name,
            )
        )
        await self._refresh(actor)
        yield focus("confirmation")

    @rx.event
    async def change_role(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        user_id = str(form.get("user_id") or "")
        role = str(form.get("role") or "")
        field = f"{ROLE_FIELD_PREFIX}{user_id}"
        if not user_id.isdigit() or not self.site_id:
            return
        if role not in {r.value for r in Role}:
            self._fail_row(field, words.gettext(CHOOSE_ROLE))
            yield focus("error-summary")
            return
        try:
            person = await users.change_role(
                uow=container().uow(),
                actor=actor,
                user_id=int(user_id),
                data=RoleChange(site_id=int(self.site_id), role=Role(role)),
            )
        except DomainError as error:
            self._fail_row(field, error_message(error, words))
            await self._refresh(actor)
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "{name} is now {role}.", name=person.display_name, role=label(Role(role), words)
        )
        await self._refresh(actor)
        yield focus("confirmation")

    @rx.event
    async def issue_code(self, user_id: str):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        name = self._name_of(user_id)
        try:
            issued = await telegram_links.issue_link_code(
                uow=container().uow(), actor=actor, user_id=int(user_id)
            )
        except DomainError as error:
            self._fail_row(f"{STAFF_FIELD_PREFIX}{user_id}", error_message(error, words))
            await self._refresh(actor)
            yield focus("error-summary")
            return
        await self._refresh(actor)
        self.link_code = issued.code
        self.link_code_for = words.gettext("Telegram link code for {name}", name=name)
        self.link_code_until = words.gettext(
            "It works once, until {time}. In Telegram, they send /start {code} to the bot.",
            time=words.format_datetime(issued.expires_at, "HH:mm, d MMM"),
            code=issued.code,
        )
        yield focus("link-code")

    @rx.event
    async def revoke_link(self, user_id: str):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        name = self._name_of(user_id)
        try:
            revoked = await telegram_links.revoke_telegram_link(
                uow=container().uow(), actor=actor, user_id=int(user_id)
            )
        except DomainError as error:
            self._fail_row(f"{STAFF_FIELD_PREFIX}{user_id}", error_message(error, words))
            await self._refresh(actor)
            yield focus("error-summary")
            return
        self.confirmation = (
            words.gettext("{name}'s Telegram link is revoked.", name=name)
            if revoked
            else words.gettext("{name} had no Telegram link to revoke.", name=name)
        )
        await self._refresh(actor)
        yield focus("confirmation")

    @rx.event
    async def add_staff(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        name = str(form.get("new_name") or "").strip()
        email = str(form.get("new_email") or "").strip()
        role = str(form.get("new_role") or "")
        site_id = str(form.get("new_site") or "")
        codes = {c["id"]: c["code"] for c in self.site_choices}
        problems: list[tuple[str, str]] = []
        data: UserCreate | None = None
        try:
            data = UserCreate(
                email=email,
                display_name=name,
                memberships=[MembershipCreate(site_code=codes.get(site_id, "XX"), role=role)],
            )
        except ValidationError as error:
            bad = {str(part) for problem in error.errors() for part in problem["loc"]}
            if "display_name" in bad:
                problems.append(("new_name", words.gettext(ENTER_NAME)))
            if "email" in bad:
                problems.append(("new_email", words.gettext(ENTER_EMAIL)))
        if role not in {r.value for r in Role}:
            problems.append(("new_role", words.gettext(CHOOSE_ROLE)))
        if site_id not in codes:
            problems.append(("new_site", words.gettext(CHOOSE_SITE)))
        if not problems and data is not None:
            try:
                person = await users.add_user(uow=container().uow(), actor=actor, data=data)
            except DomainError as error:
                field = "new_email" if error.code == "duplicate_email" else "new_site"
                problems.append((field, error_message(error, words)))
        if problems:
            self._show_form_problems(problems)
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "{name} added as {role} at {site}.",
            name=person.display_name,
            role=label(Role(role), words),
            site=codes[site_id],
        )
        self.add_form_key = uuid.uuid4().hex  # an empty form for the next one
        self.site_id = site_id
        await self._refresh(actor)
        yield focus("confirmation")

    @rx.event
    async def create_site(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        problems: list[tuple[str, str]] = []
        data: SiteCreate | None = None
        try:
            data = SiteCreate(
                code=str(form.get("site_code") or ""), name=str(form.get("site_name") or "")
            )
        except ValidationError as error:
            bad = {str(part) for problem in error.errors() for part in problem["loc"]}
            if "code" in bad:
                problems.append(("site_code", words.gettext(ENTER_SITE_CODE)))
            if "name" in bad:
                problems.append(("site_name", words.gettext(ENTER_SITE_NAME)))
        if not problems and data is not None:
            try:
                site = await sites.create_site(uow=container().uow(), actor=actor, data=data)
            except DomainError as error:
                problems.append(("site_code", error_message(error, words)))
        if problems:
            self._show_form_problems(problems)
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "Site {name} created, with the code {code}.", name=site.name, code=site.code
        )
        self.site_form_key = uuid.uuid4().hex
        await self._refresh(actor)
        yield focus("confirmation")

    def _show_form_problems(self, problems: list[tuple[str, str]]) -> None:
        found = dict(problems)
        self.new_name_error = found.get("new_name", "")
        self.new_email_error = found.get("new_email", "")
        self.new_role_error = found.get("new_role", "")
        self.new_site_error = found.get("new_site", "")
        self.site_code_error = found.get("site_code", "")
        self.site_name_error = found.get("site_name", "")
        self.errors = [{"field": field, "message": message} for field, message in problems]

    @rx.event
    async def retry(self, message_id: str):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        actor = await self._begin()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        try:
            message = await notifications_admin.retry_failed_notification(
                uow=container().uow(), actor=actor, message_id=int(message_id)
            )
        except DomainError as error:
            self._fail_row(f"{FAILED_FIELD_PREFIX}{message_id}", error_message(error, words))
            await self._refresh(actor)
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "The {kind} to {name} will be sent again.",
            kind=label(message.kind, words),
            name=message.recipient_display_name,
        )
        await self._refresh(actor)
        yield focus("confirmation")


# --- the page ---------------------------------------------------------------------------------


def _row(key: Any, value: Any) -> rx.Component:
    return rx.el.div(rx.el.dt(key), rx.el.dd(value), class_name="card-row")


def _row_error(field_id: rx.Var) -> rx.Component:
    return field_error(
        AdminState.row_error, field_id.to(str) + "-error", AdminState.row_field == field_id
    )


def _not_allowed() -> rx.Component:
    return not_allowed(
        _("The admin page is for administrators. If you need it, ask your administrator.")
    )


def _contents() -> rx.Component:
    def link(text: Any, anchor: str) -> rx.Component:
        return rx.el.li(rx.el.a(text, href=f"#{anchor}", class_name="link-action"))

    return rx.el.nav(
        rx.el.h2(_("Contents"), class_name="heading-xs"),
        rx.el.ul(
            link(_("Staff"), "staff-heading"),
            link(_("Add a staff member"), "add-staff-heading"),
            link(_("Sites"), "sites-heading"),
            link(_("Failed notifications"), "failed-heading"),
            rx.el.li(rx.el.a(_("Search the audit"), href=routes.AUDIT, class_name="link-action")),
            rx.el.li(
                rx.el.a(_("Subject access request"), href=routes.SAR, class_name="link-action")
            ),
            class_name="plain-list",
        ),
        aria_label=_("Contents"),
    )


def _site_switch() -> rx.Component:
    return rx.cond(
        AdminState.site_choices.length() > 1,  # type: ignore[attr-defined]
        rx.el.ul(
            rx.foreach(
                AdminState.site_choices,
                lambda site: rx.el.li(
                    rx.el.button(
                        site["code"],
                        type="button",
                        on_click=AdminState.choose_site(site["id"]),
                        aria_pressed=rx.cond(site["id"] == AdminState.site_id, "true", "false"),
                        class_name=rx.cond(
                            site["id"] == AdminState.site_id, "button", "button button-secondary"
                        ),
                    )
                ),
            ),
            class_name="button-group plain-list",
            aria_label=_("Show the staff at"),
        ),
    )


def _role_form(card: rx.Var) -> rx.Component:
    field_id = card["role_field"]
    in_error = AdminState.row_field == field_id
    return rx.el.form(
        rx.el.input(type="hidden", name="user_id", value=card["id"]),
        rx.el.div(
            rx.el.label(_("Role at this site"), html_for=field_id, class_name="label"),
            _row_error(field_id),
            rx.el.select(
                rx.foreach(
                    AdminState.role_choices,
                    lambda choice: rx.el.option(choice["label"], value=choice["value"]),
                ),
                id=field_id,
                name="role",
                default_value=card["role"],
                class_name=rx.cond(in_error, "input select input-error", "input select"),
            ),
            class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
        ),
        button(
            _("Change role"),
            type="submit",
            aria_describedby=card["name_id"],
        ),
        key=card["form_key"],
        on_submit=AdminState.change_role,
        no_validate=True,
    )


def _action_button(text: Any, card: rx.Var, on_click: Any, warning: bool = False) -> rx.Component:
    return rx.el.button(
        text,
        type="button",
        on_click=on_click,
        aria_describedby=card["name_id"],
        class_name="button button-warning" if warning else "button button-secondary",
    )


def _staff_card_view(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(card["name"], id=card["name_id"], class_name="card-title"),
        rx.el.dl(
            _row(_("Email"), card["email"]),
            _row(_("Role"), card["roles"]),
            _row(_("Account"), card["status"]),
            _row(_("Telegram"), card["telegram"]),
            class_name="card-details",
        ),
        rx.el.div(_row_error(card["field_id"]), id=card["field_id"], tab_index=-1),
        rx.cond(
            card["is_me"] == "",
            rx.el.details(
                rx.el.summary(
                    _("Change role, Telegram link or account"),
                    aria_describedby=card["name_id"],
                    class_name="link-action",
                    style={"display": "list-item", "cursor": "pointer", "padding": "10px 0"},
                ),
                _role_form(card),
                rx.el.div(
                    rx.cond(
                        card["active"] != "",
                        _action_button(
                            _("Issue Telegram link code"),
                            card,
                            AdminState.issue_code(card["id"]),
                        ),
                    ),
                    rx.cond(
                        card["linked"] != "",
                        _action_button(
                            _("Revoke Telegram link"), card, AdminState.revoke_link(card["id"])
                        ),
                    ),
                    rx.cond(
                        card["active"] != "",
                        _action_button(
                            _("Switch off account"),
                            card,
                            AdminState.set_active(card["id"], False),
                            warning=True,
                        ),
                        _action_button(
                            _("Switch on account"), card, AdminState.set_active(card["id"], True)
                        ),
                    ),
                    class_name="button-group",
                ),
            ),
            rx.el.p(_("This is your account."), class_name="empty-state"),
        ),
        class_name="card",
        custom_attrs={"data-testid": "staff-card"},
    )


def _link_code_panel() -> rx.Component:
    return rx.cond(
        AdminState.link_code != "",
        rx.el.div(
            rx.el.h3(AdminState.link_code_for, class_name="heading-xs"),
            rx.el.p(
                AdminState.link_code, class_name="secret", custom_attrs={"data-testid": "link-code"}
            ),
            rx.el.p(AdminState.link_code_until),
            rx.el.p(_("This code is shown only once. Do not send it by email.")),
            role="status",
            id="link-code",
            tab_index=-1,
            class_name="banner-success",
        ),
    )


def _select(
    name: str, text: Any, error: rx.Var, options: rx.Component, placeholder: Any
) -> rx.Component:
    return rx.el.div(
        rx.el.label(text, html_for=name, class_name="label"),
        field_error(error, f"{name}-error"),
        rx.el.select(
            rx.el.option(placeholder, value=""),
            options,
            id=name,
            name=name,
            class_name=rx.cond(error != "", "input select input-error", "input select"),
            aria_describedby=rx.cond(error != "", f"{name}-error", ""),
        ),
        class_name=rx.cond(error != "", "form-group form-group-error", "form-group"),
    )


def _add_staff_section() -> rx.Component:
    state = AdminState
    return rx.el.section(
        rx.el.h2(_("Add a staff member"), id="add-staff-heading", class_name="heading-m"),
        rx.el.form(
            text_field(
                name="new_name",
                label=_("Full name"),
                error=state.new_name_error,
                autocomplete="off",
            ),
            text_field(
                name="new_email",
                label=_("Email address"),
                hint=_("Their work email address. They sign in with it."),
                error=state.new_email_error,
                type="email",
                autocomplete="off",
                spell_check=False,
            ),
            _select(
                "new_role",
                _("Role"),
                state.new_role_error,
                rx.foreach(
                    state.role_choices,
                    lambda choice: rx.el.option(choice["label"], value=choice["value"]),
                ),
                _("Choose a role"),
            ),
            _select(
                "new_site",
                _("Site"),
                state.new_site_error,
                rx.foreach(
                    state.site_choices,
                    lambda site: rx.el.option(site["name"], value=site["id"]),
                ),
                _("Choose a site"),
            ),
            button(_("Add staff member"), type="submit"),
            key=state.add_form_key,
            on_submit=AdminState.add_staff,
            no_validate=True,
        ),
        aria_labelledby="add-staff-heading",
        class_name="case-section",
    )


def _sites_section() -> rx.Component:
    state = AdminState
    return rx.el.section(
        rx.el.h2(_("Sites"), id="sites-heading", class_name="heading-m"),
        rx.el.ul(
            rx.foreach(
                state.site_cards,
                lambda site: rx.el.li(
                    rx.el.span(site["code"], class_name="tag"), " ", site["name"]
                ),
            ),
            class_name="plain-list",
        ),
        rx.cond(
            state.can_create_site,
            rx.el.form(
                rx.el.h3(_("Create a site"), class_name="heading-xs"),
                text_field(
                    name="site_code",
                    label=_("Site code"),
                    hint=_("2 to 5 letters, used at the start of case references, like HER"),
                    error=state.site_code_error,
                    autocomplete="off",
                    width_class="input-code",
                ),
                text_field(
                    name="site_name",
                    label=_("Site name"),
                    error=state.site_name_error,
                    autocomplete="off",
                ),
                button(_("Create site"), type="submit"),
                key=state.site_form_key,
                on_submit=AdminState.create_site,
                no_validate=True,
            ),
        ),
        aria_labelledby="sites-heading",
        class_name="case-section",
    )


def _failed_card_view(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(card["kind"], class_name="card-title"),
        rx.el.dl(
            _row(_("To"), card["recipient"]),
            _row(_("First queued"), card["created"]),
            _row(_("Attempts"), card["attempts"]),
            _row(_("Last error"), card["error"]),
            class_name="card-details",
        ),
        rx.el.div(_row_error(card["field_id"]), id=card["field_id"], tab_index=-1),
        rx.el.button(
            _("Send again"),
            type="button",
            on_click=AdminState.retry(card["id"]),
            class_name="button button-secondary",
        ),
        class_name="card card-alert",
        custom_attrs={"data-testid": "failed-card"},
    )


def _failed_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Failed notifications"), id="failed-heading", class_name="heading-m"),
        rx.cond(
            AdminState.failed_cards.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(AdminState.failed_cards, _failed_card_view), class_name="card-list"
            ),
            rx.el.p(_("There are no failed notifications."), class_name="empty-state"),
        ),
        aria_labelledby="failed-heading",
        class_name="case-section",
    )


def _admin() -> rx.Component:
    return rx.fragment(
        error_summary(AdminState.errors),
        rx.cond(
            AdminState.confirmation != "",
            rx.el.div(
                rx.el.p(AdminState.confirmation, class_name="banner-text"),
                role="status",
                id="confirmation",
                tab_index=-1,
                class_name="banner-success",
            ),
        ),
        _contents(),
        rx.el.section(
            rx.el.h2(_("Staff"), id="staff-heading", class_name="heading-m"),
            _site_switch(),
            _link_code_panel(),
            rx.el.ul(rx.foreach(AdminState.staff_cards, _staff_card_view), class_name="card-list"),
            aria_labelledby="staff-heading",
            class_name="case-section",
        ),
        _add_staff_section(),
        _sites_section(),
        _failed_section(),
    )


def admin_page() -> rx.Component:
    return page(
        _("Admin"),
        rx.cond(
            AdminState.loaded,
            rx.cond(AdminState.allowed, _admin(), _not_allowed()),
        ),
        on_language_change=[AdminState.load],
    )
