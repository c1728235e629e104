"""Inputs that cannot hurt the bot: random text, commands and button data through PTB's real
stack against the fake Bot API (see ``tests/e2e/test_bot_basics.py`` for the harness).

The harness fails on any request that breaks the Bot API spec. A core refusal (a typed
``DomainError``: not permitted, not found, not valid) may reach the error handler, which is how
handlers hand refusals on to be translated; any other exception fails the test, and the generic
"something went wrong" apology must never be the answer. Every input gets a non-empty reply that
never repeats what was typed (so nothing a user pastes is echoed back into a chat).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.enums import Role
from core.errors import DomainError
from tests.e2e.test_bot_basics import (  # noqa: F401  (``bot`` is the harness fixture)
    OOPS,
    Harness,
    UnexpectedBotError,
    bot,
)
from tests.factories import World

EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LINKED = 700951
# Telegram's limits: a message is 1-4096 characters, callback data 1-64 bytes.
message_text = st.one_of(
    st.text(min_size=1, max_size=300).filter(str.strip),
    st.builds(lambda piece, n: (piece * n)[:4096], st.text(min_size=1, max_size=6), st.integers(1, 4096)).filter(str.strip),  # noqa: E501
    st.sampled_from(["/log", "/today", "/next", "/alerts", "/panel", "/broadcast", "/lang",
                     "/cancel", "/help", "/start", "/start AAAAAAAA", "/log 99999999",
                     "/start \u202e\u0000", "/unknown_command", "<b>x</b>", "*_`["]),
    st.builds(lambda cmd, rest: f"{cmd} {rest}", st.sampled_from(["/log", "/start", "/lang"]),
              st.text(max_size=200)),
)  # fmt: skip
callback_data = st.one_of(
    st.text(min_size=1, max_size=64).filter(lambda data: 0 < len(data.encode()) <= 64),
    st.builds(lambda prefix, n: f"{prefix}{n}",
              st.sampled_from(["alert:ack:", "alert:act:", "rsvp:", "appt:attended:", "appt:dna:",
                               "log:case:", "lang:", "panel:", "x:"]),
              st.integers(min_value=-(2**63), max_value=2**63 - 1)),
)  # fmt: skip


async def _deliver_allowing_refusals(bot: Harness, update: dict[str, Any]) -> None:  # noqa: F811
    """Deliver; a typed core refusal may reach the error handler, nothing else may."""
    seen = len(bot.errors.seen)
    try:
        await bot.deliver(update)
    except UnexpectedBotError:
        errors = bot.errors.seen[seen:]
        if not all(isinstance(error, DomainError) for error in errors):
            raise


def _shown(data: str) -> dict[str, Any]:
    """A message the bot might have sent, with one button carrying ``data``."""
    return {
        "text": "A message with a button",
        "reply_markup": {"inline_keyboard": [[{"text": "Tap", "callback_data": data}]]},
    }


@EXAMPLES
@given(text=message_text, linked=st.booleans())
async def test_any_text_gets_a_short_reply_that_does_not_echo_it(
    bot: Harness,  # noqa: F811
    world: World,
    text: str,
    linked: bool,
) -> None:
    user = LINKED if linked else LINKED + 1
    if linked and not bot.fake.sent_messages(LINKED):
        await bot.link(world.actor(Role.CASE_MANAGER), LINKED, world.container)
    before = len(bot.fake.sent_messages(user))

    await _deliver_allowing_refusals(bot, bot.message(user, text))

    replies = [call.params["text"] for call in bot.fake.sent_messages(user)[before:]]
    assert replies, "every message gets an answer"
    for reply in replies:
        assert reply.strip()
        assert reply != OOPS
        if len(text.strip()) >= 12 and not text.startswith("/"):
            assert text.strip() not in reply


@EXAMPLES
@given(data=callback_data, linked=st.booleans())
# Found by this test on PostgreSQL: an id beyond the database's integer range.
@example(data="log:case:99999999999", linked=True)
async def test_any_button_data_is_answered_without_an_error(
    bot: Harness,  # noqa: F811
    world: World,
    data: str,
    linked: bool,
) -> None:
    user = LINKED if linked else LINKED + 1
    if linked and not bot.fake.sent_messages(LINKED):
        await bot.link(world.actor(Role.CASE_MANAGER), LINKED, world.container)
    answered = bot.fake.count("answerCallbackQuery")
    sent = len(bot.fake.calls)

    before = len(bot.fake.sent_messages(user))

    await _deliver_allowing_refusals(bot, bot.press(user, data, _shown(data)))

    # Every tap is answered (or at least gets a reply), so no spinner is left turning.
    assert bot.fake.count("answerCallbackQuery") > answered or len(bot.fake.calls) > sent
    for call in bot.fake.sent_messages(user)[before:]:
        assert call.params["text"] != OOPS
