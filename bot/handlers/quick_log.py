"""``/log`` with words after it: a contact logged in one message (``ui.quick_log`` reads them).

``/log HER-0012 45m phone d s "short note"`` is one message, so the phone's own Telegram outbox
carries it through a dead zone and it arrives whole or not at all. One core call
(``core.services.bot_state.log_from_message``) claims the update, resolves the Telegram link,
finds the case on the sender's own open caseload and logs the contact with its audit event,
in one transaction: the same update delivered twice saves once. The reply names the case by
reference with the type, duration and kinds of work; it never repeats the note, and a problem
is named by the word's place, never by what was typed.

An edited ``/log`` message is not read again (the first one may have been saved): the reply
says to send a new one. ``/log`` alone starts the step-by-step flow (``bot.conversations.log``).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.conversations.log import ALERT, FLOW, start_log
from bot.gate import admit, refuse_unlinked
from bot.render import esc, keyboard, reply
from core.enums import WorkCategory
from core.schemas.actor import Actor
from core.services import bot_state
from core.services.bot_state import ConfirmOutcome, LoggedFromMessage
from ui.i18n import Translator
from ui.labels import label
from ui.quick_log import parse_quick_log, problem_messages

log = logging.getLogger(__name__)


async def log_command(update: Update, context: BotContext) -> None:
    """``/log``: alone, the step-by-step flow; with words after it, the one-message log."""
    if not context.args:
        await start_log(update, context)
        return
    if update.edited_message is not None:
        edited = context.t.gettext(
            "Editing a /log message changes nothing. Send a new /log message instead."
        )
        await reply(update, esc(edited))
        return
    await log_in_one_message(update, context)


def _words_after_command(update: Update) -> str:
    assert update.message is not None
    parts = (update.message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) == 2 else ""


async def log_in_one_message(update: Update, context: BotContext) -> None:
    pending = context.claim_left_to_handler  # the gate left the claim and the actor to us
    parsed = parse_quick_log(_words_after_command(update))
    if parsed.contact is None:
        if pending and not await admit(update, context):
            return
        lines = [context.t.gettext("Nothing was saved. Fix this and send it again:")]
        lines += [f"• {line}" for line in problem_messages(parsed.problems, context.t)]
        lines.append(context.t.gettext("Send /help for the codes."))
        await reply(update, esc("\n".join(lines)))
        return
    assert update.effective_user is not None

    def heard(actor: Actor) -> None:
        context.act_as(update, actor, actor.locale.value)

    try:
        logged = await bot_state.log_from_message(
            uow=context.container.uow(),
            telegram_user_id=update.effective_user.id,
            data=parsed.contact,
            update_id=update.update_id if pending else None,
            actor=None if pending else context.actor,
            on_actor=heard if pending else None,
        )
    except Exception:
        # Rolled back, claim and all: claim the update now, as the gate does for any other,
        # so a redelivery is not answered (or refused and put on record) a second time.
        if pending:
            try:
                await bot_state.claim_update(
                    uow=context.container.uow(), update_id=update.update_id
                )
            except Exception:  # the first failure is the one to answer and to log
                log.warning("Could not claim failed update %s", update.update_id, exc_info=True)
        raise
    if logged.outcome is ConfirmOutcome.DUPLICATE:
        return
    if logged.outcome is ConfirmOutcome.UNLINKED:
        await refuse_unlinked(update, context)
        return
    if logged.outcome is ConfirmOutcome.NOT_MY_CASE:
        message = context.t.gettext(
            "Nothing was saved: {reference} is not one of your open cases. Check the reference"
            " and send it again.",
            reference=parsed.contact.reference,
        )
        await reply(update, esc(message))
        return
    await reply(update, *_confirmation(logged, context.t))


def _confirmation(
    logged: LoggedFromMessage, t: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What was saved, by reference: type, kinds of work, duration, whether there is a note."""
    contact = logged.contact
    assert contact is not None
    categories = ", ".join(label(category, t) for category in contact.categories)
    note = t.gettext("added") if contact.notes else t.gettext("none")
    lines = [
        esc(t.gettext("Logged a contact on {reference}.", reference=logged.reference)),
        esc(t.gettext("Contact:")) + " " + esc(label(contact.contact_type, t)),
        esc(t.gettext("Categories:")) + " " + esc(categories),
        esc(t.gettext("Duration:"))
        + " "
        + esc(t.gettext("{minutes} min", minutes=contact.duration_minutes)),
        esc(t.gettext("Note:")) + " " + esc(note),
    ]
    markup = None
    if WorkCategory.DISRUPTION in contact.categories:
        button = (t.gettext("Raise a disruption alert"), f"{FLOW}:{ALERT}:{contact.case_id}")
        markup = keyboard([[button]])
    return "\n".join(lines), markup
