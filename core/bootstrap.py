"""Composition root: settings, engine, clock and units of work, built once per entry point."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import sealing
from core.clock import Clock, SystemClock
from core.db.engine import make_engine, make_session_factory
from core.errors import DomainError
from core.log_redaction import redact_in_logs
from core.notify import Notify
from core.settings import SecretProblem, Settings, secret_problems
from core.uow import UnitOfWork


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)

    @property
    def zone(self) -> ZoneInfo:
        """The zone whose days "today", reminders and reports count in (``TIMEZONE``)."""
        return ZoneInfo(self.settings.timezone)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.clock, self.zone, self.notify.ready_channels)

    @property
    def notify(self) -> Notify:
        """GOV.UK Notify with this process's settings (email and text messages)."""
        return Notify(self.settings)

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnsafeSecrets(DomainError):
    """Outside demo mode, a secret is missing or set to a published value.

    ``details['problems']`` lists :class:`core.settings.SecretProblem` (setting names only).
    """

    code = "unsafe_secrets"

    @property
    def problems(self) -> list[SecretProblem]:
        return list(self.details["problems"])


def check_production_secrets(
    settings: Settings,
    *,
    needs_bot_token: bool = False,
    needs_webhook_secret: bool = False,
    needs_totp_keys: bool = False,
    needs_checkpoint_key: bool = False,
    needs_public_url: bool = False,
) -> None:
    """Raise :class:`UnsafeSecrets` unless the secrets (and, with ``needs_public_url``, the
    address links are made with) are fit to start a process with.

    Every entry point that serves (``drive-assist run``, ``worker``, ``bot run``) calls this
    before it starts, and so do the commands that make invitation and reset links; demo mode
    (``DEMO_MODE=true``) allows anything.
    """
    problems = secret_problems(
        settings,
        needs_bot_token=needs_bot_token,
        needs_webhook_secret=needs_webhook_secret,
        needs_totp_keys=needs_totp_keys,
        needs_checkpoint_key=needs_checkpoint_key,
        needs_public_url=needs_public_url,
    )
    if problems:
        raise UnsafeSecrets(problems=problems)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    # Before anything can log: python-telegram-bot logs the token inside its URLs at DEBUG.
    redact_in_logs(settings.telegram_bot_token, settings.telegram_webhook_secret)
    keys = settings.totp_keys()
    try:
        sealing.configure(keys or ([sealing.DEMO_KEY] if settings.demo_mode else []))
    except ValueError:
        raise UnsafeSecrets(problems=[SecretProblem("TOTP_ENCRYPTION_KEYS", "invalid")]) from None
    engine = make_engine(settings.normalised_database_url(), echo=settings.sql_echo)
    return Container(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
    )
