"""``/alerts``: open disruption alerts for the police fellow (or service manager) to act on.

Each alert is its own message: case reference, when it was raised and its status (never a
name), with Acknowledge (``alert:ack:<id>``) and Action taken (``alert:act:<id>``) buttons. Core
authorises every tap again. Action taken asks for a few words; the step waits in the database
(flow ``alert_action``), so a restart keeps it and ``/cancel`` (``bot_state.clear_conversation``)
ends it. The typed text goes to core and the conversation is deleted with it.
"""

from __future__ import annotations

import re

from telegram import Update

from bot.context import BotContext
from bot.render import bold, esc, keyboard, reply
from core.enums import AlertStatus
from core.schemas.alerts import AlertRead
from core.schemas.telegram import ConversationRead
from core.services import alerts, bot_state
from ui.i18n import Translator
from ui.labels import label

CALLBACK_PATTERN = r"^alert:"
_CALLBACK = re.compile(r"^alert:(ack|act):(\d{1,18})$")
FLOW = "alert_action"
STEP = "describe"
MAX_SHOWN = 20


def alert_text(alert: AlertRead, t: Translator) -> str:
    raised = t.format_datetime(alert.raised_at, "EEE d MMM, HH:mm")
    return "\n".join(
        [
            f"{bold(t.gettext('Disruption alert'))} · <code>{esc(alert.case_reference)}</code>",
            esc(t.gettext("Raised {time}", time=raised)),
            esc(t.gettext("Status: {status}", status=label(alert.status, t))),
        ]
    )


def alert_buttons(alert: AlertRead, t: Translator) -> list[list[tuple[str, str]]]:
    row = []
    if alert.status is AlertStatus.OPEN:
        row.append((t.gettext("Acknowledge"), f"alert:ack:{alert.id}"))
    if alert.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED):
        row.append((t.gettext("Action taken"), f"alert:act:{alert.id}"))
    return [row] if row else []


async def show_alerts(update: Update, context: BotContext) -> None:
    assert context.actor is not None
    t = context.t
    open_alerts = await alerts.list_alerts_to_answer(
        uow=context.container.uow(), actor=context.actor
    )
    if not open_alerts:
        await reply(update, esc(t.gettext("There are no open disruption alerts.")))
        return
    for alert in open_alerts[:MAX_SHOWN]:
        buttons = alert_buttons(alert, t)
        await reply(update, alert_text(alert, t), keyboard(buttons) if buttons else None)


async def alert_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.actor is not None
    t, actor, container = context.t, context.actor, context.container
    match = _CALLBACK.match(query.data or "")
    if match is None:
        await query.answer(t.gettext("That button no longer works. Send /alerts again."))
        return
    verb, alert_id = match.group(1), int(match.group(2))
    if verb == "ack":
        acknowledged = await alerts.acknowledge_alert(
            uow=container.uow(), actor=actor, alert_id=alert_id
        )
        await query.answer(t.gettext("Acknowledged."))
        buttons = alert_buttons(acknowledged, t)
        await query.edit_message_text(
            alert_text(acknowledged, t), reply_markup=keyboard(buttons) if buttons else None
        )
        return
    # Action taken: check now that this alert is one the actor may act on, before asking.
    alert = await alerts.open_alert_to_answer(uow=container.uow(), actor=actor, alert_id=alert_id)
    if alert is None:
        await query.answer(t.gettext("That alert is no longer open. Send /alerts again."))
        return
    assert update.effective_user is not None
    await bot_state.save_conversation(
        uow=container.uow(),
        telegram_user_id=update.effective_user.id,
        flow=FLOW,
        step=STEP,
        data={"alert_id": alert.id},
    )
    await query.answer()
    text = t.gettext(
        "What action was taken on {reference}? Reply with a few words. Send /cancel to stop.",
        reference=alert.case_reference,
    )
    await reply(update, esc(text))


async def on_text(update: Update, context: BotContext, conversation: ConversationRead) -> None:
    """The typed reply to Action taken: record it, and end the conversation either way.

    Same shape as ``bot.conversations.common.TextStep``, so the flow could join that router.
    """
    assert context.actor is not None and update.message is not None
    assert update.effective_user is not None
    t, container = context.t, context.container
    try:
        alert = await alerts.record_alert_action(
            uow=container.uow(),
            actor=context.actor,
            alert_id=int(conversation.data["alert_id"]),
            action_taken=update.message.text or "",
        )
    finally:
        # Whatever happened, the typed text is not kept waiting in the conversation.
        await bot_state.clear_conversation(
            uow=container.uow(), telegram_user_id=update.effective_user.id
        )
    text = t.gettext("Action recorded for {reference}.", reference=alert.case_reference)
    await reply(update, esc(text))
