"""``/broadcast``: a panel coordinator tells a site's panel about a meeting, through the outbox.

Three taps: choose the meeting (``bcast:meeting:<id>``), read the preview (the exact message,
shown in the coordinator's language; each member gets it in theirs) and the number of
recipients, then Send or Cancel (``bcast:send:<key>`` / ``bcast:cancel:<key>``). The preview's
broadcast key waits in the stored conversation (flow ``broadcast``); Send passes it to core,
which puts it in every message's dedupe key, so a second tap of Send queues nothing more.
"""

from __future__ import annotations

import re

from telegram import Update

from bot.context import BotContext
from bot.render import bold, esc, keyboard, reply
from bot.screens import SCREEN, on_screen, supersede, tapped_message_id
from core.schemas.broadcasts import BroadcastPreview
from core.services import bot_state, broadcasts
from ui.i18n import Translator
from ui.notifications import render

CALLBACK_PATTERN = r"^bcast:"
_CHOSEN = re.compile(r"^bcast:meeting:(\d{1,18})$")
_DECIDED = re.compile(r"^bcast:(send|cancel):([A-Za-z0-9_-]{8,40})$")
FLOW = "broadcast"


def preview_text(preview: BroadcastPreview, t: Translator) -> str:
    message = render(preview.message_key, preview.params, t.locale)
    count = t.ngettext(
        "It will go to {n} person on the panel.",
        "It will go to {n} people on the panel.",
        preview.recipients,
    )
    return "\n".join(
        [
            bold(t.gettext("Preview of the broadcast")),
            f"<blockquote>{esc(message)}</blockquote>",
            esc(count),
        ]
    )


async def start_broadcast(update: Update, context: BotContext) -> None:
    assert context.actor is not None
    t = context.t
    meetings = await broadcasts.broadcastable_meetings(
        uow=context.container.uow(), actor=context.actor
    )
    if not meetings:
        await reply(update, esc(t.gettext("There are no upcoming panel meetings to tell about.")))
        return
    buttons = [
        [
            (
                f"{m.site_code} · {t.format_datetime(m.starts_at, 'EEE d MMM, HH:mm')}",
                f"bcast:meeting:{m.id}",
            )
        ]
        for m in meetings
    ]
    await reply(
        update, esc(t.gettext("Which panel meeting is the message about?")), keyboard(buttons)
    )


async def broadcast_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.actor is not None and update.effective_user is not None
    t, actor, container = context.t, context.actor, context.container
    telegram_user_id = update.effective_user.id
    stale = t.gettext("That button no longer works. Send /broadcast again.")
    data = query.data or ""
    chosen = _CHOSEN.match(data)
    if chosen is not None:
        preview = await broadcasts.preview_panel_broadcast(
            uow=container.uow(), actor=actor, meeting_id=int(chosen.group(1))
        )
        await supersede(update, context)
        held = {"meeting_id": preview.meeting.id, "broadcast_key": preview.broadcast_key}
        await bot_state.save_conversation(
            uow=container.uow(),
            telegram_user_id=telegram_user_id,
            flow=FLOW,
            step="confirm",
            data=on_screen(held, tapped_message_id(update)),
        )
        await query.answer()
        key = preview.broadcast_key
        buttons = [
            [(t.gettext("Send"), f"bcast:send:{key}"), (t.gettext("Cancel"), f"bcast:cancel:{key}")]
        ]
        await query.edit_message_text(preview_text(preview, t), reply_markup=keyboard(buttons))
        return
    decided = _DECIDED.match(data)
    conversation = await bot_state.load_conversation(
        uow=container.uow(), telegram_user_id=telegram_user_id
    )
    if (
        decided is None
        or conversation is None
        or conversation.flow != FLOW
        or conversation.data.get("broadcast_key") != decided.group(2)
    ):
        await query.answer(stale)
        return
    if decided.group(1) == "cancel":
        await bot_state.clear_conversation(uow=container.uow(), telegram_user_id=telegram_user_id)
        await query.answer()
        await query.edit_message_text(esc(t.gettext("Broadcast cancelled. Nothing was sent.")))
        return
    sent = await broadcasts.broadcast_panel_meeting(
        uow=container.uow(),
        actor=actor,
        meeting_id=int(conversation.data["meeting_id"]),
        broadcast_key=decided.group(2),
    )
    # Kept (step "sent"), so another tap on this preview reaches core and queues nothing more;
    # without its screen, whose buttons the edit below takes off.
    await bot_state.save_conversation(
        uow=container.uow(),
        telegram_user_id=telegram_user_id,
        flow=FLOW,
        step="sent",
        data={key: value for key, value in conversation.data.items() if key != SCREEN},
    )
    await query.answer()
    if sent.queued == 0 and conversation.step == "sent":
        await reply(
            update, esc(t.gettext("This broadcast was already sent. Nothing more was queued."))
        )
        return
    text = t.ngettext(
        "Broadcast queued for {n} person.", "Broadcast queued for {n} people.", sent.queued
    )
    await query.edit_message_text(esc(text))
