"""Logs carry no personal data: a whole demo journey with every logger at DEBUG.

The demo is seeded into a SQLite file of its own; one demo case then gets obviously fictional,
distinctive words (the subject's name and address, a victim and a child with addresses and
safety notes, a contact note). The journey signs in through core auth, logs the contact, opens
the case and the victim view as the IDVA, links a Telegram account and talks to the production
bot (against the fake Bot API) including typing the private words at it, raises a disruption
alert and dispatches the notifications to Telegram and the inbox. No log record, its message
or its formatted exception, may hold any of the private words.

The database layer's loggers (SQLAlchemy, aiosqlite, asyncpg) are held at WARNING: at DEBUG they
log statements with their parameters and rows by design (``SQL_ECHO``, off by default).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channel import TelegramChannel
from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.db.migrate import upgrade
from core.enums import Channel, ContactType, Face, PersonKind, Role, Stage, WorkCategory
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.schedulers import run_all_schedulers
from core.schemas.auth import SignInResult
from core.schemas.cases import CaseUpdate
from core.schemas.contacts import ContactCreate
from core.schemas.people import LinkedPersonCreate
from core.services import alerts, auth, cases, contacts, people, timeline, users
from core.settings import Settings
from processes.serve import serve_bot
from seeding.demo import DEMO_PASSWORD, demo_accounts, seed_demo
from tests.conftest import START
from tests.e2e.outbox_support import make_bot
from tests.e2e.test_bot_basics import make_harness
from tests.fakes import FakeBotApi
from ui.notifications import render

SUBJECT_NAME = "Barnabus Logleakington"
SUBJECT_ADDRESS = "44 Haddock Terrace, Loggleton LG4 4ZZ"
VICTIM_NAME = "Clementine Tracebackworth"
VICTIM_ADDRESS = "3 Verbose Close, Debugford DB1 1ZZ"
VICTIM_SAFETY = "Code word Marmalisk agreed"
CHILD_NAME = "Pip Stacktracey"
CONTACT_NOTE = "Talked through the Grumbleweed argument at the Zanzibar bar"
PRIVATE_WORDS = (
    SUBJECT_NAME, SUBJECT_ADDRESS, VICTIM_NAME, VICTIM_ADDRESS, VICTIM_SAFETY, CHILD_NAME,
    CONTACT_NOTE, "Logleakington", "Haddock Terrace", "Tracebackworth", "Verbose Close",
    "Marmalisk", "Stacktracey", "Grumbleweed", "Zanzibar", "LG4 4ZZ", "DB1 1ZZ",
)  # fmt: skip
TELEGRAM_USER = 700901
# The database layer logs statements with their parameters and rows at DEBUG by design: that is
# SQL_ECHO's job, a debugging switch that is off by default. They are held at WARNING here, as a
# deployment's logging set-up must hold them.
DATABASE_LOGGERS = ("sqlalchemy", "aiosqlite", "asyncpg")


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.formatter_ = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.formatter_.format(record))  # message, args and any traceback


@pytest.fixture
def every_log_record() -> Iterator[_Recorder]:
    """Every logger but the database layer's at DEBUG, recorded until the test ends."""
    recorder = _Recorder()
    root = logging.getLogger()
    names = set(logging.root.manager.loggerDict) | set(DATABASE_LOGGERS)
    saved = {name: logging.getLogger(name).level for name in names}
    saved_root = root.level
    for name in saved:
        if name in DATABASE_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        elif not name.startswith(DATABASE_LOGGERS):
            logging.getLogger(name).setLevel(logging.NOTSET)
    root.setLevel(logging.DEBUG)
    root.addHandler(recorder)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
async def demo(tmp_path: Path) -> Container:
    container = bootstrap(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}", demo_mode=True),
        clock=FixedClock(START),
    )
    await upgrade(container.engine)
    await seed_demo(container)
    return container


def _email(role: Role, site: str = "HER") -> str:
    return next(a.email for a in demo_accounts() if (role, site) in a.roles)


async def test_a_whole_demo_journey_logs_no_name_address_or_note(
    demo: Container, every_log_record: _Recorder
) -> None:
    container = demo
    manager = await users.actor_for_email(
        uow=container.uow(), email=_email(Role.SERVICE_MANAGER), face=Face.WEB
    )
    idva = await users.actor_for_email(uow=container.uow(), email=_email(Role.IDVA), face=Face.WEB)
    her = next(m.site_id for m in manager.memberships if m.site_code == "HER")
    [first_active, *_others] = await cases.list_cases(
        uow=container.uow(), actor=manager, site_id=her, stages={Stage.ACTIVE}
    )
    case = await cases.get_case(uow=container.uow(), actor=manager, case_id=first_active.id)
    case = await cases.update_case(
        uow=container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseUpdate(
            version=case.version, subject_name=SUBJECT_NAME, subject_address=SUBJECT_ADDRESS
        ),
    )
    for kind, name in ((PersonKind.VICTIM, VICTIM_NAME), (PersonKind.CHILD, CHILD_NAME)):
        await people.add_linked_person(
            uow=container.uow(),
            actor=idva,
            data=LinkedPersonCreate(
                case_id=case.id,
                kind=kind,
                name=name,
                address=VICTIM_ADDRESS,
                safety_notes=VICTIM_SAFETY,
            ),
        )

    # Sign in on the web the way the sign-in page does, then act as that session.
    account = next(a for a in demo_accounts() if a.email == _email(Role.SERVICE_MANAGER))
    result = await auth.sign_in(
        uow=container.uow(),
        email=account.email,
        password=DEMO_PASSWORD,
        totp_code=auth.current_totp_code(account.totp_secret, container.clock.now()),
        client="127.0.0.1",
    )
    assert isinstance(result, SignInResult)
    token = await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)
    signed_in = await auth.actor_for_session(uow=container.uow(), token=token)
    assert signed_in is not None
    await contacts.log_contact(
        uow=container.uow(),
        actor=signed_in,
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=30,
            notes=CONTACT_NOTE,
        ),
    )
    opened = await cases.get_case(uow=container.uow(), actor=signed_in, case_id=case.id)
    assert opened.subject_name == SUBJECT_NAME
    await timeline.case_timeline(uow=container.uow(), actor=signed_in, case_id=case.id)
    victims = (await people.case_people(uow=container.uow(), actor=idva, case_id=case.id)).current
    assert {person.name for person in victims} >= {VICTIM_NAME, CHILD_NAME}

    # The bot: link, ask for the day, and type the private words at it.
    async for bot in make_harness(container):
        await bot.link(manager, TELEGRAM_USER, container)
        for text in ("/today", "/help", CONTACT_NOTE, f"/start {VICTIM_NAME}", SUBJECT_NAME):
            await bot.say(TELEGRAM_USER, text)
        await bot.say(TELEGRAM_USER, "/log")
        await bot.say(TELEGRAM_USER, "/cancel")

        # Notifications: an alert and whatever the schedulers find, sent through both channels.
        await alerts.raise_disruption_alert(uow=container.uow(), actor=manager, case_id=case.id)
        await run_all_schedulers(uow_factory=container.uow)
        async with make_bot(bot.fake.token, bot.fake.base_url) as sender:
            dispatcher = Dispatcher(
                container,
                container.clock,
                {
                    Channel.TELEGRAM: TelegramChannel(sender, render),
                    Channel.INBOX: InboxChannel(container.session_factory, container.clock),
                },
                DispatchSettings(pacing=False, batch_size=100, concurrency=2, max_attempts=2),
                "log-privacy",
            )
            sent = 0
            while claimed := await dispatcher.run_once():
                sent += claimed
        assert sent > 0
    await container.dispose()

    logged = "\n".join(every_log_record.texts)
    # The capture really was at DEBUG: PTB logs every Bot API call with its parameters there.
    assert any(text.startswith("telegram") and " DEBUG " in text for text in every_log_record.texts)
    for word in PRIVATE_WORDS:
        assert word.lower() not in logged.lower(), f"{word!r} reached the logs"


async def test_no_log_line_holds_the_bot_token_through_startup_polling_and_replies(
    tmp_path: Path, every_log_record: _Recorder
) -> None:
    """The bot's own main loop (``serve_bot``: getMe, the command menu, deleteWebhook, long
    polling, a reply) with every logger at DEBUG: the token, which PTB puts in every request's
    address, is in no record."""
    token = f"{secrets.randbelow(10**9) + 10**8}:{secrets.token_urlsafe(26)}"
    async with FakeBotApi(token=token) as fake:
        container = bootstrap(
            Settings(
                database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
                demo_mode=True,
                telegram_bot_token=token,
                telegram_api_base_url=fake.base_url,
            )
        )
        await upgrade(container.engine)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_bot(container, stop))
        try:
            fake.push_update(_message(TELEGRAM_USER, "/start"))
            for _ in range(400):
                if fake.sent_messages(TELEGRAM_USER) or serving.done():
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await serving
            await container.dispose()
        methods = {call.method for call in fake.calls}

    assert {"getMe", "getUpdates", "sendMessage", "setMyCommands"} <= methods
    logged = "\n".join(every_log_record.texts)
    assert any(text.startswith("telegram") and " DEBUG " in text for text in every_log_record.texts)
    assert token not in logged
    assert token.split(":", 1)[1] not in logged  # nor its secret half, however it was quoted


def _message(user_id: int, text: str) -> dict[str, object]:
    return {
        "message": {
            "message_id": 1,
            "date": 1772442000,
            "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Tester"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        }
    }
