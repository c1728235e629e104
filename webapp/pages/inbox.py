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

from dataclasses import dataclass

import reflex as rx

from core.errors import DomainError
from core.schemas.inbox import InboxItemRead, InboxPage
from core.services import inbox, telegram_links
from ui.i18n import Translator
from ui.labels import label
from ui.notifications import render
from webapp.components.forms import focus
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

PAGE_SIZE = 20
MOMENT = "EEE d MMM, HH:mm"


@dataclass(frozen=True)
class InboxCard:
    id: str
    kind: str
    text: str
    when: str
    datetime: str
    unread: bool


def _item(item: InboxItemRead, words: Translator) -> InboxCard:
    return InboxCard(
        id=str(item.id),
        kind=label(item.kind, words),
        text=render(item.message_key, item.params, words.locale),
        when=words.format_datetime(item.created_at, MOMENT),
        datetime=item.created_at.isoformat(),
        unread=item.is_unread,
    )


class InboxState(AppState):
    items: list[InboxCard] = []
    unread_count: int = 0
    unread_text: str = ""
    next_before_id: int = 0  # 0: no older messages
    notice: str = ""
    problem: str = ""
    loaded: bool = False
    # The signed-in person's own Telegram link code: shown once, gone when the page is opened again.
    link_code: str = ""
    link_code_until: str = ""

    def _clear_messages(self) -> None:
        self.problem = ""

    def _show_error(self, message: str, error: DomainError) -> None:
        self.problem = message

    async def _fetch(self, caller: Caller, before_id: int | None) -> InboxPage:
        return await inbox.list_my_inbox(
            uow=caller.uow(), actor=caller.actor, limit=PAGE_SIZE, before_id=before_id
        )

    def _show(self, found: InboxPage, words: Translator, *, append: bool) -> None:
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
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        """The newest page (on opening the page, and after a change of language)."""
        self.notice = ""
        self.link_code = self.link_code_until = ""
        self._show(await self._fetch(caller, None), caller.words, append=False)

    @rx.event
    @signed_in
    async def get_link_code(self, caller: Caller):  # type: ignore[no-untyped-def]
        """A link code for the signed-in person's own account (any older one stops working)."""
        words = caller.words
        issued = await telegram_links.issue_link_code(
            uow=caller.uow(), actor=caller.actor, user_id=caller.actor.user_id
        )
        self.link_code = issued.code
        self.link_code_until = words.gettext(
            "It works once, until {time}. In Telegram, send /start {code} to the Drive Assist bot.",
            time=words.format_datetime(issued.expires_at, "HH:mm, d MMM"),
            code=issued.code,
        )
        yield focus("my-link-code")

    @rx.event
    @signed_in
    async def older(self, caller: Caller) -> None:
        if self.next_before_id:
            found = await self._fetch(caller, self.next_before_id)
            self._show(found, caller.words, append=True)

    @rx.event
    @signed_in
    async def mark_all_read(self, caller: Caller) -> None:
        words = caller.words
        marked = await inbox.mark_all_inbox_read(uow=caller.uow(), actor=caller.actor)
        self._show(await self._fetch(caller, None), words, append=False)
        self.notice = words.ngettext(
            "Marked {n} message as read.", "Marked {n} messages as read.", marked
        )


def _inbox_item(item: rx.Var) -> rx.Component:
    unread = item.unread
    return rx.el.li(
        rx.el.p(
            rx.cond(unread, rx.el.strong(_("Unread"), class_name="tag")),
            rx.el.span(item.kind, class_name="inbox-kind"),
            rx.el.time(item.when, date_time=item.datetime, class_name="inbox-time"),
            class_name="inbox-meta",
        ),
        rx.el.p(item.text, class_name="inbox-text"),
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
            loading(_("Loading your messages…")),
        ),
        _link_telegram(),
        on_language_change=[InboxState.load],
    )
