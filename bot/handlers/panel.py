"""``/panel``: the next panel meetings at my sites, with Attending / Apologies buttons.

One message per meeting: site code, local date and time, and my current reply. Callback data is
``panel:rsvp:<meeting_id>:attending|apologies``; core authorises every tap again.
"""

from __future__ import annotations

import re

from telegram import Update

from bot.context import BotContext
from bot.render import bold, esc, keyboard, reply
from core.enums import AttendanceStatus
from core.schemas.panels import PanelMeetingRead
from core.services import panels
from ui.i18n import Translator
from ui.labels import label

CALLBACK_PATTERN = r"^panel:"
_CALLBACK = re.compile(r"^panel:rsvp:(\d{1,18}):(attending|apologies)$")


def meeting_text(meeting: PanelMeetingRead, my_rsvp: AttendanceStatus | None, t: Translator) -> str:
    when = t.format_datetime(meeting.starts_at, "EEE d MMM, HH:mm")
    heading = t.gettext("Panel {site}, {time}", site=meeting.site_code, time=when)
    if my_rsvp is None:
        answer = t.gettext("You have not replied yet.")
    else:
        answer = t.gettext("Your reply: {answer}", answer=label(my_rsvp, t))
    return f"{bold(heading)}\n{esc(answer)}"


def rsvp_buttons(meeting_id: int, t: Translator) -> list[list[tuple[str, str]]]:
    return [
        [
            (t.gettext("Attending"), f"panel:rsvp:{meeting_id}:attending"),
            (t.gettext("Apologies"), f"panel:rsvp:{meeting_id}:apologies"),
        ]
    ]


async def show_panel(update: Update, context: BotContext) -> None:
    assert context.actor is not None
    t = context.t
    upcoming = await panels.my_upcoming_panel_meetings(
        uow=context.container.uow(), actor=context.actor
    )
    if not upcoming:
        await reply(update, esc(t.gettext("No panel meetings are coming up at your sites.")))
        return
    for invitation in upcoming:
        meeting = invitation.meeting
        await reply(
            update,
            meeting_text(meeting, invitation.my_rsvp, t),
            keyboard(rsvp_buttons(meeting.id, t)),
        )


async def rsvp_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.actor is not None
    t = context.t
    match = _CALLBACK.match(query.data or "")
    if match is None:
        await query.answer(t.gettext("That button no longer works. Send /panel again."))
        return
    meeting_id, status = int(match.group(1)), AttendanceStatus(match.group(2))
    uow = context.container.uow
    await panels.rsvp_panel_meeting(
        uow=uow(), actor=context.actor, meeting_id=meeting_id, status=status
    )
    detail = await panels.get_panel_meeting(uow=uow(), actor=context.actor, meeting_id=meeting_id)
    await query.answer(t.gettext("Your reply: {answer}", answer=label(status, t)))
    await query.edit_message_text(
        meeting_text(detail.meeting, status, t), reply_markup=keyboard(rsvp_buttons(meeting_id, t))
    )
