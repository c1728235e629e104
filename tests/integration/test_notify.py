"""core.notify against the fake GOV.UK Notify API: what arrives, and how Notify's refusals
come back (try again or not, with Notify's reason)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from core.notify import Notify, NotifyError, NotifyNotConfigured
from core.settings import Settings
from tests.fakes.notify_api import FakeNotifyApi


@pytest.fixture
async def notify_api() -> AsyncIterator[FakeNotifyApi]:
    async with FakeNotifyApi() as fake:
        yield fake


def _settings(fake: FakeNotifyApi, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "notify_api_key": fake.api_key,
        "notify_base_url": fake.url,
        "notify_email_template_id": fake.email_template_id,
        "notify_sms_template_id": fake.sms_template_id,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def test_an_email_arrives_with_its_subject_body_and_reference(
    notify_api: FakeNotifyApi,
) -> None:
    sent = await Notify(_settings(notify_api)).send_email(
        to="new.starter@example.invalid",
        subject="Your Drive Assist account",
        body="Follow this link to set your password.",
        reference="invitation-7",
    )
    [arrived] = notify_api.sent
    assert sent.notification_id == arrived.id
    assert (arrived.type, arrived.to, arrived.reference) == (
        "email",
        "new.starter@example.invalid",
        "invitation-7",
    )
    assert arrived.subject == "Your Drive Assist account"
    assert arrived.body == "Follow this link to set your password."
    assert notify_api.rejected == []


async def test_a_text_message_arrives(notify_api: FakeNotifyApi) -> None:
    await Notify(_settings(notify_api)).send_sms(
        to="07700 900123", body="Critical alert on WOR-0008.", reference="outbox-3"
    )
    [arrived] = notify_api.sent
    assert (arrived.type, arrived.to, arrived.body) == (
        "sms",
        "07700 900123",
        "Critical alert on WOR-0008.",
    )


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (403, False), (429, True), (500, True)]
)
async def test_notify_refusals_say_whether_to_try_again(
    notify_api: FakeNotifyApi, status: int, retryable: bool
) -> None:
    notify_api.fail_next(status, message="told to fail")
    with pytest.raises(NotifyError) as caught:
        await Notify(_settings(notify_api)).send_sms(
            to="07700900123", body="Reminder for WOR-0008.", reference="outbox-4"
        )
    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert "told to fail" in caught.value.reason
    assert notify_api.sent == []


async def test_a_bad_address_is_refused_for_good_with_notifys_reason(
    notify_api: FakeNotifyApi,
) -> None:
    with pytest.raises(NotifyError) as caught:
        await Notify(_settings(notify_api)).send_email(
            to="not an address", subject="s", body="b", reference="r"
        )
    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert "email_address" in caught.value.reason


async def test_a_wrong_key_is_refused_by_the_signature_check(notify_api: FakeNotifyApi) -> None:
    wrong = notify_api.api_key[:-36] + "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotifyError) as caught:
        await Notify(_settings(notify_api, notify_api_key=wrong)).send_email(
            to="someone@example.invalid", subject="s", body="b", reference="r"
        )
    assert (caught.value.status, caught.value.retryable) == (403, False)
    assert [r.status for r in notify_api.rejected] == [403]


async def test_no_answer_is_worth_trying_again() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        notify_api_key=FakeNotifyApi.api_key,
        notify_base_url=f"http://127.0.0.1:{port}",
        notify_email_template_id=FakeNotifyApi.email_template_id,
    )
    with pytest.raises(NotifyError) as caught:
        await Notify(settings).send_email(
            to="a@example.invalid", subject="s", body="b", reference="r"
        )
    assert caught.value.retryable


async def test_without_a_key_or_template_nothing_is_sent(notify_api: FakeNotifyApi) -> None:
    unset = Notify(Settings(notify_base_url=notify_api.url))
    assert not unset.email_ready and not unset.sms_ready
    with pytest.raises(NotifyNotConfigured):
        await unset.send_email(to="a@example.invalid", subject="s", body="b", reference="r")
    email_only = Notify(_settings(notify_api, notify_sms_template_id=None))
    with pytest.raises(NotifyNotConfigured):
        await email_only.send_sms(to="07700900123", body="b", reference="r")
    assert notify_api.sent == []
