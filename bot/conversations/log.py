"""``/log``: the quick session log, in about six taps, saved through the web app's service.

Case (a button per case, or the typed reference when there are more than
``MAX_CASE_BUTTONS``), contact type, categories (toggle, then Done), duration, an optional note
(typed, or Skip), then a summary with Save / Cancel. After saving, a contact with the disruption
category offers "Raise a disruption alert" (``core.services.alerts``).

State: one row per Telegram user in the database (``core.services.bot_state``), saved at every
step before the answer goes out, so a restart in the middle resumes at the same step. Its data
holds ids and codes (case id and reference, contact type, categories, minutes) and the typed
note until the contact is saved or the flow cancelled, when the row is deleted.

Buttons carry ``log:<step>:<value>``. The flow's buttons are on one message at a time (its id
kept in the data, ``bot.screens``): each tap edits that message, and when a step moves on to a
new message (a typed note, a typed reference) or the flow is cancelled or replaced, the old
message's buttons are removed. A tap that still arrives for another step (a second chat window,
a tap racing the edit) is answered "expired" and changes nothing. A case id from a
button is authorised again by core; a refusal is put on record (``core.services.refusals``)
and answered with the not-permitted message. The summary never shows the note, only that there
is one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.gate import refuse_unlinked
from bot.refusals import put_refusal_on_record, refusal_on_record
from bot.render import bold, esc, keyboard, reply
from bot.screens import SCREEN, on_screen, retire, supersede, tapped_message_id
from core.enums import ContactType, WorkCategory
from core.errors import NotPermitted
from core.policy import Action
from core.schemas.actor import Actor
from core.schemas.common import text_problem
from core.schemas.contacts import ContactCreate
from core.schemas.telegram import ConversationRead
from core.services import alerts, bot_state, caseload_lookup
from core.services.bot_state import ConfirmOutcome
from ui.errors import error_message
from ui.i18n import Translator
from ui.labels import choices, label

FLOW = "log"
# Steps (stored in the database, and the <step> of a button's callback data).
CASE = "case"  # a button per case
REFERENCE = "reference"  # typed reference (more than MAX_CASE_BUTTONS open cases)
TYPE = "type"
CATEGORIES = "cat"
DURATION = "dur"
NOTE = "note"  # typed note, or Skip
CONFIRM = "confirm"
# Not steps: the button under a saved contact, and "Log a contact" under a /case card
# (``log:start:<case id>``, which starts the flow on that case); they need no conversation.
ALERT = "alert"
START = "start"
TEXT_STEPS = frozenset({REFERENCE, NOTE})

CALLBACK_PATTERN = r"^log:"
MAX_CASE_BUTTONS = 8
DURATIONS = (15, 30, 45, 60, 90)
DONE, SKIP, SAVE, CANCEL = "done", "skip", "save", "cancel"
SAVE_BUTTON = f"{FLOW}:{CONFIRM}:{SAVE}"  # its update is claimed in the save's own transaction
TICK = "✓ "

T = TypeVar("T")
Screen = tuple[str, InlineKeyboardMarkup | None]
log = logging.getLogger(__name__)


def _data(step: str, value: object) -> str:
    return f"{FLOW}:{step}:{value}"


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def _save(update: Update, context: BotContext, step: str, data: dict[str, Any]) -> None:
    await bot_state.save_conversation(
        uow=context.container.uow(),
        telegram_user_id=_user_id(update),
        flow=FLOW,
        step=step,
        data=data,
    )


async def _clear(update: Update, context: BotContext) -> None:
    await bot_state.clear_conversation(
        uow=context.container.uow(), telegram_user_id=_user_id(update)
    )


async def _audited(
    context: BotContext, action: Action, case_id: int, call: Callable[[], Awaitable[T]]
) -> T:
    """Run a core call; a refusal is put on record before the error handler answers it."""
    assert context.actor is not None
    return await refusal_on_record(
        context.container,
        context.actor,
        action=action,
        entity_type="case",
        entity_id=case_id,
        call=call,
    )


# --- screens ----------------------------------------------------------------------------------


def _case_line(data: dict[str, Any], t: Translator) -> str:
    return esc(t.gettext("Case:")) + f" <code>{esc(data['reference'])}</code>"


def _type_screen(data: dict[str, Any], t: Translator) -> Screen:
    buttons = [(text, _data(TYPE, code)) for code, text in choices(ContactType, t)]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    text = f"{_case_line(data, t)}\n{esc(t.gettext('What kind of contact was it?'))}"
    return text, keyboard(rows)


def _categories_screen(data: dict[str, Any], t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    chosen = set(data["categories"])
    rows = [
        [((TICK if code in chosen else "") + text, _data(CATEGORIES, code))]
        for code, text in choices(WorkCategory, t)
    ]
    rows.append([(t.gettext("Done"), _data(CATEGORIES, DONE))])
    prompt = t.gettext("Which kinds of work? Tap each that applies, then Done.")
    return f"{_case_line(data, t)}\n{esc(prompt)}", keyboard(rows)


def _minutes(minutes: int, t: Translator) -> str:
    return t.gettext("{minutes} min", minutes=minutes)


def _duration_screen(data: dict[str, Any], t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [(_minutes(m, t), _data(DURATION, m)) for m in DURATIONS]
    text = f"{_case_line(data, t)}\n{esc(t.gettext('How long did it take?'))}"
    return text, keyboard([buttons[:3], buttons[3:]])


def _note_screen(data: dict[str, Any], t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    prompt = t.gettext("Add a note? Type it now, or tap Skip.")
    text = f"{_case_line(data, t)}\n{esc(prompt)}"
    return text, keyboard([[(t.gettext("Skip"), _data(NOTE, SKIP))]])


def _confirm_screen(data: dict[str, Any], t: Translator) -> Screen:
    categories = ", ".join(label(WorkCategory(code), t) for code in data["categories"])
    note = t.gettext("added") if data.get("note") else t.gettext("none")
    lines = [
        bold(t.gettext("Check and save")),
        _case_line(data, t),
        esc(t.gettext("Contact:")) + " " + esc(label(ContactType(data["contact_type"]), t)),
        esc(t.gettext("Categories:")) + " " + esc(categories),
        esc(t.gettext("Duration:")) + " " + esc(_minutes(data["minutes"], t)),
        esc(t.gettext("Note:")) + " " + esc(note),
    ]
    buttons = [[(t.gettext("Save"), _data(CONFIRM, SAVE)),
                (t.gettext("Cancel"), _data(CONFIRM, CANCEL))]]  # fmt: skip
    return "\n".join(lines), keyboard(buttons)


# --- /log -------------------------------------------------------------------------------------


async def start_log(update: Update, context: BotContext) -> None:
    """``/log``: offer my open cases as buttons, or ask for a reference when there are many."""
    assert context.actor is not None
    t = context.t
    cases = await caseload_lookup.my_open_case_choices(
        uow=context.container.uow(), actor=context.actor
    )
    if not cases:
        await _clear(update, context)
        await reply(update, esc(t.gettext("You have no open cases to log a contact on.")))
        return
    await supersede(update, context)
    if len(cases) > MAX_CASE_BUTTONS:
        await _save(update, context, REFERENCE, {})
        prompt = t.gettext(
            "You have {n} open cases. Type the case reference, for example {reference}.",
            n=len(cases),
            reference=cases[0].reference,
        )
        await reply(update, esc(prompt))
        return
    await _save(update, context, CASE, {})
    rows = [[(case.reference, _data(CASE, case.case_id))] for case in cases]
    prompt = esc(t.gettext("Which case is this contact on?"))
    await _show_new(update, context, CASE, {}, (prompt, keyboard(rows)))


async def _show_new(
    update: Update, context: BotContext, step: str, data: dict[str, Any], screen: Screen
) -> None:
    """Send ``screen`` as a new message (``step`` is saved already) and remember it as the
    flow's screen, so its buttons can be taken off when the flow moves on."""
    sent = await reply(update, *screen)
    if sent is not None and screen[1] is not None:
        await _save(update, context, step, on_screen(data, sent.message_id))


async def on_text(update: Update, context: BotContext, conversation: ConversationRead) -> None:
    """Typed text at a step that asks for it: a case reference, or the note."""
    assert update.message is not None and context.actor is not None
    t, text = context.t, (update.message.text or "").strip()
    data = dict(conversation.data)
    if conversation.step == REFERENCE:
        case = await caseload_lookup.my_case_by_reference(
            uow=context.container.uow(), actor=context.actor, reference=text
        )
        if case is None:
            message = t.gettext(
                "None of your open cases has that reference. Check it and type it again,"
                " or send /cancel to stop."
            )
            await reply(update, esc(message))
            return
        data = {"case_id": case.case_id, "reference": case.reference}
        await _save(update, context, TYPE, data)
        await _show_new(update, context, TYPE, data, _type_screen(data, t))
        return
    problem = text_problem(text, field="notes")
    if problem is not None:  # a NUL or half a surrogate pair: ask again, keep nothing of it
        await reply(update, esc(error_message(problem, t)))
        return
    data["note"] = text or None
    await _save(update, context, CONFIRM, data)
    await retire(update, context, conversation)  # the note's Skip button has had its turn
    await _show_new(update, context, CONFIRM, data, _confirm_screen(data, t))


# --- buttons ----------------------------------------------------------------------------------


async def on_button(update: Update, context: BotContext) -> None:
    """Any ``log:`` button: checked against the step the user is at, then one step on."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":", 2)
    step, value = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    if step == CONFIRM and value == SAVE:
        await _save_contact(update, context)
        return
    assert context.actor is not None
    if step == ALERT:
        await _raise_alert(update, context, value)
        return
    if step == START:
        await _start_on_case(update, context, value)
        return
    conversation = await bot_state.load_conversation(
        uow=context.container.uow(), telegram_user_id=_user_id(update)
    )
    if (
        step not in _STEPS
        or conversation is None
        or conversation.flow != FLOW
        or conversation.step != step
    ):
        await _expired(update, context)
        return
    data = on_screen(dict(conversation.data), tapped_message_id(update))
    screen = await _STEPS[step](update, context, data, value)
    if screen is None:
        return
    await query.answer()
    await query.edit_message_text(screen[0], reply_markup=screen[1])


async def _expired(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.t.gettext("That button has expired. Send /log to start again.")
    )


async def _case_chosen(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    assert context.actor is not None
    if not value.isdigit():
        await _expired(update, context)
        return None
    case_id, actor, uow = int(value), context.actor, context.container.uow()
    case = await _audited(
        context,
        Action.CONTACT_LOG,
        case_id,
        lambda: caseload_lookup.my_case_for_contact(uow=uow, actor=actor, case_id=case_id),
    )
    data = {"case_id": case.case_id, "reference": case.reference} | (
        {SCREEN: data[SCREEN]} if SCREEN in data else {}
    )
    await _save(update, context, TYPE, data)
    return _type_screen(data, context.t)


async def _start_on_case(update: Update, context: BotContext, value: str) -> None:
    """ "Log a contact" under a case card: the flow starts at the contact type, on that case
    (authorised again by core, as a chosen case is); the card stays as it was."""
    query = update.callback_query
    assert query is not None
    await supersede(update, context)
    screen = await _case_chosen(update, context, {}, value)
    if screen is None:
        return
    await query.answer()
    conversation = await bot_state.load_conversation(
        uow=context.container.uow(), telegram_user_id=_user_id(update)
    )
    assert conversation is not None
    await _show_new(update, context, TYPE, dict(conversation.data), screen)


async def _type_chosen(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    if value not in set(ContactType):
        await _expired(update, context)
        return None
    data |= {"contact_type": value, "categories": []}
    await _save(update, context, CATEGORIES, data)
    return _categories_screen(data, context.t)


async def _category_toggled(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    assert update.callback_query is not None
    t = context.t
    if value == DONE:
        if not data["categories"]:
            await update.callback_query.answer(
                t.gettext("Choose at least one kind of work, then tap Done."), show_alert=True
            )
            return None
        await _save(update, context, DURATION, data)
        return _duration_screen(data, t)
    if value not in set(WorkCategory):
        await _expired(update, context)
        return None
    chosen = set(data["categories"]) ^ {value}
    data["categories"] = [code.value for code in WorkCategory if code.value in chosen]
    await _save(update, context, CATEGORIES, data)
    return _categories_screen(data, t)


async def _duration_chosen(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    if not value.isdigit() or int(value) not in DURATIONS:
        await _expired(update, context)
        return None
    data["minutes"] = int(value)
    await _save(update, context, NOTE, data)
    return _note_screen(data, context.t)


async def _note_skipped(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    if value != SKIP:
        await _expired(update, context)
        return None
    data["note"] = None
    await _save(update, context, CONFIRM, data)
    return _confirm_screen(data, context.t)


async def _confirmed(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    """Cancel on the summary (Save is :func:`_save_contact`)."""
    if value != CANCEL:
        await _expired(update, context)
        return None
    await _clear(update, context)
    return esc(context.t.gettext("Cancelled. Nothing was saved.")), None


def _contact_from(data: dict[str, Any]) -> ContactCreate:
    return ContactCreate(
        case_id=int(data["case_id"]),
        contact_type=ContactType(data["contact_type"]),
        duration_minutes=int(data["minutes"]),
        categories=frozenset(WorkCategory(code) for code in data["categories"]),
        notes=data.get("note") or None,
    )


async def _save_contact(update: Update, context: BotContext) -> None:
    """Save: one core call claims the update (when the gate left it), authorises, saves, ends."""
    query = update.callback_query
    assert query is not None
    pending = context.claim_left_to_handler
    case_ids: list[int] = []

    def contact_from(data: dict[str, Any]) -> ContactCreate:
        case_ids.append(int(data["case_id"]))
        return _contact_from(data)

    def heard(actor: Actor) -> None:
        context.act_as(update, actor, actor.locale.value)

    # Once core has claimed the update and taken the conversation, answer the tap while the
    # contact is written: the button's spinner stops sooner, and the edit follows.
    answering: asyncio.Future[None] | None = None

    def taken() -> None:
        nonlocal answering
        answering = asyncio.ensure_future(_answer_quietly(query))

    try:
        saved = await bot_state.confirm_log_from_conversation(
            uow=context.container.uow(),
            telegram_user_id=_user_id(update),
            flow=FLOW,
            step=CONFIRM,
            contact_from=contact_from,
            update_id=update.update_id if pending else None,
            actor=None if pending else context.actor,
            on_actor=heard if pending else None,
            on_taken=taken,
        )
    except Exception as error:
        # Rolled back, claim and all: claim the update now, as the gate does for any other,
        # so a redelivery is not refused (and put on record) a second time.
        if pending:
            try:
                await bot_state.claim_update(
                    uow=context.container.uow(), update_id=update.update_id
                )
            except Exception:  # the first failure is the one to answer and to log
                log.warning("Could not claim failed update %s", update.update_id, exc_info=True)
        if isinstance(error, NotPermitted) and context.actor is not None and case_ids:
            await put_refusal_on_record(
                context.container, context.actor, error,
                action=Action.CONTACT_LOG, entity_type="case", entity_id=case_ids[0],
            )  # fmt: skip
        raise
    finally:
        if answering is not None:
            await answering
    if saved.outcome is ConfirmOutcome.DUPLICATE:
        return
    if saved.outcome is ConfirmOutcome.UNLINKED:
        await refuse_unlinked(update, context)
        return
    if saved.outcome is ConfirmOutcome.EXPIRED or saved.data is None:
        await _expired(update, context)
        return
    data, t = saved.data, context.t
    text = esc(
        t.gettext(
            "Logged {minutes} min contact on {reference}.",
            minutes=data["minutes"],
            reference=data["reference"],
        )
    )
    markup = None
    if WorkCategory.DISRUPTION.value in data["categories"]:
        button = [[(t.gettext("Raise a disruption alert"), _data(ALERT, data["case_id"]))]]
        markup = keyboard(button)
    await query.edit_message_text(text, reply_markup=markup)  # the tap was answered on_taken


async def _answer_quietly(query: CallbackQuery) -> None:
    """Answer a Save tap early; a failure to answer is logged and does not stop the save."""
    try:
        await query.answer()
    except TelegramError as error:
        log.warning("Could not answer a Save tap: %r", error)


async def _raise_alert(update: Update, context: BotContext, value: str) -> None:
    """The button under a saved contact: call for police disruption on that case."""
    query = update.callback_query
    assert query is not None and context.actor is not None
    if not value.isdigit():
        await _expired(update, context)
        return
    case_id, actor, uow = int(value), context.actor, context.container.uow()
    await query.answer()
    alert = await _audited(
        context,
        Action.ALERT_RAISE,
        case_id,
        lambda: alerts.raise_disruption_alert(uow=uow, actor=actor, case_id=case_id),
    )
    message = context.t.gettext(
        "Disruption alert raised on {reference}. The site's police Drive Fellows will be told.",
        reference=alert.case_reference,
    )
    await query.edit_message_text(esc(message))


_STEPS: dict[str, Callable[[Update, BotContext, dict[str, Any], str], Awaitable[Screen | None]]] = {
    CASE: _case_chosen,
    TYPE: _type_chosen,
    CATEGORIES: _category_toggled,
    DURATION: _duration_chosen,
    NOTE: _note_skipped,
    CONFIRM: _confirmed,
}
