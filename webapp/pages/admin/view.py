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

from typing import Any

import reflex as rx

from webapp import routes
from webapp.components.forms import button, error_summary, field_error, text_field
from webapp.components.layout import not_allowed, page
from webapp.i18n import _
from webapp.pages.admin.state import AdminState


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
            rx.el.li(
                rx.el.a(
                    _("Reset a password or second factor"),
                    href=routes.STAFF_SIGN_IN,
                    class_name="link-action",
                )
            ),
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
                        site.code,
                        type="button",
                        on_click=AdminState.choose_site(site.id),
                        aria_pressed=rx.cond(site.id == AdminState.site_id, "true", "false"),
                        class_name=rx.cond(
                            site.id == AdminState.site_id, "button", "button button-secondary"
                        ),
                    )
                ),
            ),
            class_name="button-group plain-list",
            aria_label=_("Show the staff at"),
        ),
    )


def _role_form(card: rx.Var) -> rx.Component:
    field_id = card.role_field
    in_error = AdminState.row_field == field_id
    return rx.el.form(
        rx.el.input(type="hidden", name="user_id", value=card.id),
        rx.el.div(
            rx.el.label(_("Role at this site"), html_for=field_id, class_name="label"),
            _row_error(field_id),
            rx.el.select(
                rx.foreach(
                    AdminState.role_choices,
                    lambda choice: rx.el.option(choice.label, value=choice.value),
                ),
                id=field_id,
                name="role",
                default_value=card.role,
                class_name=rx.cond(in_error, "input select input-error", "input select"),
            ),
            class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
        ),
        button(
            _("Change role"),
            type="submit",
            aria_describedby=card.name_id,
        ),
        key=card.form_key,
        on_submit=AdminState.change_role,
        no_validate=True,
    )


def _action_button(text: Any, card: rx.Var, on_click: Any, warning: bool = False) -> rx.Component:
    return rx.el.button(
        text,
        type="button",
        on_click=on_click,
        aria_describedby=card.name_id,
        class_name="button button-warning" if warning else "button button-secondary",
    )


def _staff_card_view(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(card.name, id=card.name_id, class_name="card-title"),
        rx.el.dl(
            _row(_("Email"), card.email),
            _row(_("Role"), card.roles),
            _row(_("Account"), card.status),
            _row(_("Telegram"), card.telegram),
            class_name="card-details",
        ),
        rx.el.div(_row_error(card.field_id), id=card.field_id, tab_index=-1),
        rx.cond(
            card.is_me,
            rx.el.p(_("This is your account."), class_name="empty-state"),
            rx.el.details(
                rx.el.summary(
                    _("Change role, Telegram link or account"),
                    aria_describedby=card.name_id,
                    class_name="link-action",
                    style={"display": "list-item", "cursor": "pointer", "padding": "10px 0"},
                ),
                _role_form(card),
                rx.el.div(
                    rx.cond(
                        card.active,
                        _action_button(
                            _("Issue Telegram link code"),
                            card,
                            AdminState.issue_code(card.id),
                        ),
                    ),
                    rx.cond(
                        card.linked,
                        _action_button(
                            _("Revoke Telegram link"), card, AdminState.revoke_link(card.id)
                        ),
                    ),
                    rx.cond(
                        card.active,
                        _action_button(
                            _("Switch off account"),
                            card,
                            AdminState.set_active(card.id, False),
                            warning=True,
                        ),
                        _action_button(
                            _("Switch on account"), card, AdminState.set_active(card.id, True)
                        ),
                    ),
                    class_name="button-group",
                ),
            ),
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
                hint=_(
                    "Their work email address. They sign in with it, and their invitation to"
                    " set up the account is sent to it."
                ),
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
                    lambda choice: rx.el.option(choice.label, value=choice.value),
                ),
                _("Choose a role"),
            ),
            _select(
                "new_site",
                _("Site"),
                state.new_site_error,
                rx.foreach(
                    state.site_choices,
                    lambda site: rx.el.option(site.name, value=site.id),
                ),
                _("Choose a site"),
            ),
            rx.el.div(
                rx.el.label(_("Language"), html_for="new_locale", class_name="label"),
                rx.el.div(
                    _("Their invitation, screens and messages are in this language."),
                    id="new_locale-hint",
                    class_name="hint",
                ),
                rx.el.select(
                    rx.el.option("English", value="en_GB", lang="en-GB"),
                    rx.el.option("Cymraeg", value="cy", lang="cy"),
                    id="new_locale",
                    name="new_locale",
                    default_value="en_GB",
                    aria_describedby="new_locale-hint",
                    class_name="input select",
                ),
                class_name="form-group",
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
                lambda site: rx.el.li(rx.el.span(site.code, class_name="tag"), " ", site.name),
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
        rx.el.h3(card.kind, class_name="card-title"),
        rx.el.dl(
            _row(_("To"), card.recipient),
            _row(_("Sent by"), card.channel),
            _row(_("First queued"), card.created),
            _row(_("Attempts"), card.attempts),
            _row(_("Last error"), card.error),
            class_name="card-details",
        ),
        rx.el.div(_row_error(card.field_id), id=card.field_id, tab_index=-1),
        rx.el.button(
            _("Send again"),
            type="button",
            on_click=AdminState.retry(card.id),
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
                rx.cond(AdminState.invitation != "", rx.el.p(AdminState.invitation)),
                rx.cond(
                    AdminState.invitation_url != "",
                    rx.el.p(
                        AdminState.invitation_url,
                        class_name="secret",
                        custom_attrs={"data-testid": "invitation-url"},
                    ),
                ),
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
