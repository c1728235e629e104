"""Inbox: what the bot sends, for staff who read it here instead of on Telegram.

Items come from ``core.services.inbox`` (only ever the signed-in person's own), newest first,
a page at a time; "Older messages" continues after the last one shown. Each item's text is
made by ``ui.notifications.render``, the function the Telegram channel uses, so the words are
the same in both places.

"Link Telegram" at the foot of the page is where a person gets a link code for their own
Telegram account (every role can open the Inbox): one call to
``telegram_links.issue_link_code`` for the signed-in account, the code shown once, to them only.
"""

from __future__ import annotations

import reflex as rx

from core.errors import DomainError
from core.schemas.actor import Actor
from core.schemas.inbox import InboxItemRead, InboxPage
from core.services import inbox, telegram_links
from ui.errors import error_message
from ui.i18n import Translator
from ui.labels import label
from ui.notifications import render
from webapp import routes
from webapp.components.forms import focus
from webapp.components.layout import page
from webapp.i18n import _, translator
from webapp.state import AppState

PAGE_SIZE = 20
MOMENT = "EEE d MMM, HH:mm"


def _item(item: InboxItemRead, words: Translator) -> dict[str, str]:
    return {
        "id": str(item.id),
        "kind": label(item.kind, words),
        "text": render(item.message_key, item.params, words.locale),
        "when": words.format_datetime(item.created_at, MOMENT),
        "datetime": item.created_at.isoformat(),
        "unread": "yes" if item.is_unread else "",
    }


class InboxState(AppState):
    items: list[dict[str, str]] = []
    unread_count: int = 0
    unread_text: str = ""
    next_before_id: int = 0  # 0: no older messages
    notice: str = ""
    problem: str = ""
    loaded: bool = False
    # The signed-in person's own Telegram link code: shown once, gone when the page is opened again.
    link_code: str = ""
    link_code_until: str = ""

    async def _fetch(self, actor: Actor, before_id: int | None) -> InboxPage | None:
        from webapp.backend import container  # the backend module imports the pages

        try:
            return await inbox.list_my_inbox(
                uow=container().uow(), actor=actor, limit=PAGE_SIZE, before_id=before_id
            )
        except DomainError as error:
            self.problem = error_message(error, translator(self.locale))
            return None

    def _show(self, found: InboxPage, *, append: bool) -> None:
        words = translator(self.locale)
        shown = [_item(item, words) for item in found.items]
        self.items = [*self.items, *shown] if append else shown
        self.unread_count = found.unread_count
        self.unread_text = (
            words.ngettext(
                "You have {n} unread message.", "You have {n} unread messages.", found.unread_count
            )
            if found.unread_count
            else words.gettext("You have no unread messages.")
        )
        self.next_before_id = found.next_before_id or 0
        self.problem = ""
        self.loaded = True

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        """The newest page (on opening the page, and after a change of language)."""
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        self.notice = ""
        self.link_code = self.link_code_until = ""
        found = await self._fetch(actor, None)
        if found is not None:
            self._show(found, append=False)
        return None

    @rx.event
    async def get_link_code(self):  # type: ignore[no-untyped-def]
        """A link code for the signed-in person's own account (any older one stops working)."""
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        from webapp.backend import container

        words = translator(self.locale)
        try:
            issued = await telegram_links.issue_link_code(
                uow=container().uow(), actor=actor, user_id=actor.user_id
            )
        except DomainError as error:
            self.problem = error_message(error, words)
            return
        self.problem = ""
        self.link_code = issued.code
        self.link_code_until = words.gettext(
            "It works once, until {time}. In Telegram, send /start {code} to the Drive Assist bot.",
            time=words.format_datetime(issued.expires_at, "HH:mm, d MMM"),
            code=issued.code,
        )
        yield focus("my-link-code")

    @rx.event
    async def older(self) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        if not self.next_before_id:
            return None
        found = await self._fetch(actor, self.next_before_id)
        if found is not None:
            self._show(found, append=True)
        return None

    @rx.event
    async def mark_all_read(self) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        from webapp.backend import container

        words = translator(self.locale)
        try:
            marked = await inbox.mark_all_inbox_read(uow=container().uow(), actor=actor)
        except DomainError as error:
            self.problem = error_message(error, words)
            return None
        found = await self._fetch(actor, None)
        if found is not None:
            self._show(found, append=False)
        self.notice = words.ngettext(
            "Marked {n} message as read.", "Marked {n} messages as read.", marked
        )
        return None


def _inbox_item(item: rx.Var) -> rx.Component:
    unread = item["unread"] == "yes"
    return rx.el.li(
        rx.el.p(
            rx.cond(unread, rx.el.strong(_("Unread"), class_name="tag")),
            rx.el.span(item["kind"], class_name="inbox-kind"),
            rx.el.time(item["when"], date_time=item["datetime"], class_name="inbox-time"),
            class_name="inbox-meta",
        ),
        rx.el.p(item["text"], class_name="inbox-text"),
        class_name=rx.cond(unread, "card inbox-item inbox-item-unread", "card inbox-item"),
    )


def _link_telegram() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Link Telegram"), id="link-telegram", class_name="heading-m"),
        rx.el.p(
            _(
                "Get these messages in Telegram as well: make a code here, then send it to the"
                " Drive Assist bot from your own Telegram account."
            )
        ),
        rx.el.button(
            _("Get a Telegram link code"),
            type="button",
            on_click=InboxState.get_link_code,
            class_name="button button-secondary",
        ),
        rx.cond(
            InboxState.link_code != "",
            rx.el.div(
                rx.el.p(
                    InboxState.link_code,
                    class_name="secret",
                    custom_attrs={"data-testid": "my-link-code"},
                ),
                rx.el.p(InboxState.link_code_until),
                rx.el.p(_("This code is shown only once. Do not send it to anyone.")),
                role="status",
                id="my-link-code",
                tab_index=-1,
                class_name="banner-success",
            ),
        ),
        aria_labelledby="link-telegram",
    )


def inbox_page() -> rx.Component:
    return page(
        _("Inbox"),
        rx.cond(
            InboxState.problem != "",
            rx.el.div(InboxState.problem, role="alert", class_name="error-summary"),
        ),
        rx.el.div(
            rx.cond(InboxState.notice != "", rx.el.p(InboxState.notice, class_name="notice")),
            role="status",
        ),
        rx.cond(
            InboxState.loaded,
            rx.fragment(
                rx.el.p(InboxState.unread_text, id="unread-summary"),
                rx.cond(
                    InboxState.unread_count > 0,
                    rx.el.button(
                        _("Mark all as read"),
                        type="button",
                        on_click=InboxState.mark_all_read,
                        class_name="button button-secondary",
                    ),
                ),
                rx.cond(
                    InboxState.items.length() > 0,  # type: ignore[attr-defined]
                    rx.el.ul(
                        rx.foreach(InboxState.items, _inbox_item),
                        class_name="card-list",
                        aria_label=_("Messages, newest first"),
                    ),
                    rx.el.p(
                        _(
                            "Your inbox is empty. Reminders, alerts and panel messages for you"
                            " will show here."
                        ),
                        class_name="empty-state",
                    ),
                ),
                rx.cond(
                    InboxState.next_before_id > 0,
                    rx.el.button(
                        _("Older messages"),
                        type="button",
                        on_click=InboxState.older,
                        class_name="button button-secondary",
                    ),
                ),
            ),
            rx.el.p(_("Loading your messages…"), role="status"),
        ),
        _link_telegram(),
        on_language_change=[InboxState.load],
    )
