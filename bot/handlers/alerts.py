"""``/alerts``: open disruption alerts for the police fellow (or service manager) to act on.

Each alert is its own message: case reference, when it was raised and its status (never a
name), with Acknowledge (``alert:ack:<id>``) and Action taken (``alert:act:<id>``) buttons. The
alert the outbox sends when one is raised (and its escalation) carries the same buttons
(``bot.keyboards``), so it is answered where it arrives. Core authorises every tap again.

After Acknowledge the message shows the new status and keeps only Action taken. Action taken
asks for a few words (core keeps what was done, as on the web page); the step waits in the
database (flow ``alert_action``, with the id of the message tapped), so a restart keeps it and
``/cancel`` (``bot_state.clear_conversation``) ends it. The typed text goes to core, the
conversation is deleted with it, and the tapped message is edited to show the alert actioned,
without buttons. A tap on an alert someone else has answered shows where it stands instead.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.render import bold, esc, keyboard, reply
from bot.screens import drop_buttons, supersede
from core.enums import AlertStatus
from core.errors import ValidationFailed
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
log = logging.getLogger(__name__)


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
        try:
            acknowledged = await alerts.acknowledge_alert(
                uow=container.uow(), actor=actor, alert_id=alert_id
            )
        except ValidationFailed as error:
            if error.details.get("rule") != "not_open":
                raise
            await _answered_elsewhere(update, context, alert_id)
            return
        await query.answer(t.gettext("Acknowledged."))
        await _show(update, acknowledged, t)
        return
    # Action taken: check now that this alert is one the actor may act on, before asking.
    alert = await alerts.open_alert_to_answer(uow=container.uow(), actor=actor, alert_id=alert_id)
    if alert is None:
        await _answered_elsewhere(update, context, alert_id)
        return
    assert update.effective_user is not None
    await supersede(update, context)
    message = query.message
    await bot_state.save_conversation(
        uow=container.uow(),
        telegram_user_id=update.effective_user.id,
        flow=FLOW,
        step=STEP,
        data={"alert_id": alert.id} | ({"message_id": message.message_id} if message else {}),
    )
    await query.answer()
    text = t.gettext(
        "What action was taken on {reference}? Reply with a few words. Send /cancel to stop.",
        reference=alert.case_reference,
    )
    await reply(update, esc(text))


async def _show(update: Update, alert: AlertRead, t: Translator) -> None:
    """Edit the tapped message to show the alert as it stands, with the buttons still of use."""
    query = update.callback_query
    assert query is not None
    buttons = alert_buttons(alert, t)
    try:
        await query.edit_message_text(
            alert_text(alert, t), reply_markup=keyboard(buttons) if buttons else None
        )
    except BadRequest as error:  # a double tap: the first tap's edit already shows this
        if "not modified" not in str(error).lower():
            raise


async def _answered_elsewhere(update: Update, context: BotContext, alert_id: int) -> None:
    """A tap on an alert that has moved on (someone else acknowledged or actioned it)."""
    query = update.callback_query
    assert query is not None and context.actor is not None
    t = context.t
    alert = await alerts.open_alert_to_answer(
        uow=context.container.uow(), actor=context.actor, alert_id=alert_id
    )
    if alert is not None:  # acknowledged by someone else: Action taken is still to do
        await query.answer(t.gettext("This alert has already been acknowledged."))
        await _show(update, alert, t)
        return
    await query.answer(t.gettext("That alert is no longer open. Send /alerts again."))
    message = query.message
    if message is not None and getattr(message, "reply_markup", None) is not None:
        await drop_buttons(update, context, message.message_id)


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
    message_id = conversation.data.get("message_id")
    if isinstance(message_id, int) and update.effective_chat is not None:
        try:  # the tapped message's buttons have done their work
            await context.bot.edit_message_text(
                alert_text(alert, t),
                chat_id=update.effective_chat.id,
                message_id=message_id,
                reply_markup=None,
            )
        except BadRequest as error:  # deleted by the user or by retention: nothing to tidy
            log.info("Could not update the alert message: %s", error)
