"""The backend's side of saves held on a phone without signal (issue 21, part 1).

``assets/held.js`` keeps a Save pressed without a connection on the device, encrypted, and
sends it here when the signal returns, from whichever page is open (even one opened from the
service worker's cache, with no Reflex connection at all):

- ``POST /api/held/key``: the signed-in person's device key and owner tag
  (``core.sealing.device_key``), which the script keeps in local storage until the sign-in page
  is next shown (so a tab opened offline can hold a Save too);
- ``POST /api/held`` ``{"kind", "client_key", "fields"}``: one held save (a contact, or an
  appointment's outcome). The session cookie says who is asking (``auth.actor_for_session``,
  as every Reflex event does); the fields are read by the page's own rules
  (``webapp.pages.log_contact.form``, ``webapp.pages.appointments.outcome``) and saved by one
  core call
  with the device's key, so a save sent twice is logged once. Answers JSON: ``saved`` (the
  first time or again), ``invalid`` with each problem in the person's language,
  ``signed_out``, ``unreadable`` or ``too_large`` (a body over ``MAX_BODY_BYTES``, refused
  without reading the rest). A body is never logged.

Both are POSTs, so the origin guard (``webapp.origin_guard``) sees an ``Origin`` header and
turns away every other site's page.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.errors import Clash, DomainError
from core.schemas.actor import Actor
from core.sealing import device_key
from core.services import appointments, auth, contacts
from ui.errors import error_message
from ui.i18n import N_, Translator
from webapp.container import container
from webapp.i18n import translator
from webapp.pages.appointments.booking import read_booking_form
from webapp.pages.appointments.outcome import read_outcome_form
from webapp.pages.log_contact.form import (
    Problems,
    client_key_of,
    problem_of,
    read_contact_form,
)
from webapp.state import session_token_from_cookie_header

MAX_BODY_BYTES = 64 * 1024  # a contact with its longest note is a few kilobytes
CONTACT, OUTCOME, BOOKING = "contact", "outcome", "booking"
KINDS = (CONTACT, OUTCOME, BOOKING)  # the forms whose saves may be held
_NO_STORE = {"Cache-Control": "no-store"}
HELD_BOOKING_CLASHES = N_(
    "This case already has an appointment at that time. Put it back in the form to change the "
    "time or book it anyway."
)


def _answer(status: str, code: int = 200, **more: Any) -> JSONResponse:
    return JSONResponse({"status": status, **more}, status_code=code, headers=_NO_STORE)


async def _actor(request: Request) -> Actor | None:
    token = session_token_from_cookie_header(request.headers.get("cookie"))
    app_container = container()
    return await auth.actor_for_session(
        uow=app_container.uow(), token=token, settings=app_container.settings
    )


async def held_key(request: Request) -> JSONResponse:
    """``POST /api/held/key``: the signed-in person's device key, or ``signed_out``."""
    actor = await _actor(request)
    if actor is None:
        return _answer("signed_out", 401)
    key = device_key(actor.user_id)
    return _answer("ok", key=base64.b64encode(key.key).decode("ascii"), owner=key.owner)


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it passes ``limit`` bytes (never read whole)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _held_entry(body: bytes) -> tuple[str, uuid.UUID, dict[str, str]] | None:
    """The kind, key and fields of a held entry of a kind held here, or None."""
    try:
        held = json.loads(body)
    except ValueError:
        return None
    if not isinstance(held, dict) or held.get("kind") not in KINDS:
        return None
    key, fields = client_key_of(held), held.get("fields")
    if key is None or not isinstance(fields, dict):
        return None
    return str(held["kind"]), key, {str(name): str(value) for name, value in fields.items()}


def _invalid(problems: Problems) -> JSONResponse:
    listed = [{"field": field, "message": message} for field, message in problems.values()]
    return _answer("invalid", 422, problems=listed)


async def send_held(request: Request) -> JSONResponse:
    """``POST /api/held``: save one held entry once; see the module's docstring."""
    actor = await _actor(request)
    if actor is None:
        return _answer("signed_out", 401)
    body = await _body_within(request, MAX_BODY_BYTES)
    if body is None:
        return _answer("too_large", 413)  # read no further than the limit: nothing is saved
    held = _held_entry(body)
    if held is None:
        return _answer("unreadable", 400)  # not something held.js sends: nothing to fix
    kind, key, fields = held
    words = translator(str(actor.locale))
    save = {CONTACT: _log_contact, OUTCOME: _record_outcome, BOOKING: _book}[kind]
    try:
        return await save(actor, words, key, fields)
    except DomainError as error:
        return _invalid(problem_of(error, error_message(error, words), "case"))


async def _log_contact(
    actor: Actor, words: Translator, key: uuid.UUID, fields: dict[str, str]
) -> JSONResponse:
    problems: Problems = {}
    data = read_contact_form(fields, words, problems, case_ids=None, case_field_id="case")
    if data is None:
        return _invalid(problems)
    contact = await contacts.log_contact(
        uow=container().uow(), actor=actor, data=data, client_key=key
    )
    return _answer("saved", id=contact.id)


async def _record_outcome(
    actor: Actor, words: Translator, key: uuid.UUID, fields: dict[str, str]
) -> JSONResponse:
    problems: Problems = {}
    data = read_outcome_form(fields, words, problems)
    appointment = fields.get("appointment", "")
    if not appointment.isdigit():
        return _answer("unreadable", 400)
    if data is None:
        return _invalid(problems)
    answered = await appointments.record_appointment_outcome(
        uow=container().uow(),
        actor=actor,
        appointment_id=int(appointment),
        data=data,
        client_key=key,
    )
    return _answer("saved", id=answered.id)


async def _book(
    actor: Actor, words: Translator, key: uuid.UUID, fields: dict[str, str]
) -> JSONResponse:
    """A booking made without signal. A clash found now is a problem with its time: the person
    puts it back in the form, where the page shows the clash and offers "Save anyway"."""
    problems: Problems = {}
    app_container = container()
    data = read_booking_form(
        fields,
        words,
        problems,
        now=app_container.clock.now(),
        case_ids=None,
        case_field_id="case",
    )
    if data is None:
        return _invalid(problems)
    try:
        booked = await appointments.book_appointment(
            uow=app_container.uow(), actor=actor, data=data, client_key=key
        )
    except Clash:
        return _invalid({"when": ("appointment_date", words.gettext(HELD_BOOKING_CLASHES))})
    return _answer("saved", id=booked.id)
