"""The one place configuration is read from the environment.

Nothing else in the project touches ``os.environ``; entry points call ``bootstrap()``, which
builds a ``Settings``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "drive-assist.sqlite3"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as an environment variable."""

    model_config = SettingsConfigDict(env_prefix="", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy async URL. SQLite (aiosqlite) by default; "
        "postgresql+asyncpg://... for the scale path.",
    )
    timezone: str = Field(default="Europe/London", description="Zone dates are shown in.")
    default_locale: str = Field(default="en_GB", description="Language when the user has none.")
    demo_mode: bool = Field(default=False, description="Demo data and demo sign-ins allowed.")
    sql_echo: bool = Field(default=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def normalised_database_url(self) -> str:
        """Accept the plain ``postgresql://`` form people paste and use the async driver."""
        url = self.database_url
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+asyncpg://" + url[len(plain) :]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url

    # Telegram and the outbox dispatcher (core.notifications.dispatcher).
    telegram_bot_token: str | None = Field(
        default=None, description="The bot's token from BotFather; none: the inbox only."
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API base URL (a fake in tests)."
    )
    dispatch_global_rate: float = Field(default=30.0, description="Messages a second, overall.")
    dispatch_per_chat_interval: float = Field(
        default=1.0, description="Seconds between two messages to one chat."
    )
    dispatch_pacing: bool = Field(default=True, description="Pace sends (off only in tests).")
    dispatch_max_attempts: int = Field(default=5, description="Tries before a message fails.")
    dispatch_lease_seconds: float = Field(
        default=60.0, description="How long a claimed message is held before another worker may."
    )
    dispatch_concurrency: int = Field(
        default=32, description="Telegram sends in flight per worker."
    )
    dispatch_batch_size: int = Field(default=500, description="Messages claimed at once.")
    dispatch_limiter: Literal["auto", "redis", "postgres", "local"] = Field(
        default="auto",
        description="Where Telegram's limits are kept for every process that sends (workers,"
        " the bot): auto is Redis when REDIS_URL is set, else the PostgreSQL database, else"
        " (SQLite) this process alone (core.notifications.shared_pacer).",
    )
    dispatch_pacing_margin: float = Field(
        default=0.06,
        description="How much both Telegram limits are stretched (0.06: 6 %), so sends that"
        " arrive a little late or early still keep them; more on a loaded machine, where the"
        " time from a send's start to its arrival varies more.",
    )
    dispatch_limiter_key: str = Field(
        default="drive-assist:telegram",
        description="The shared limiter's name: its Redis key prefix and its PostgreSQL row."
        " Processes sending with one bot token share one name.",
    )
    scheduler_interval_seconds: float = Field(
        default=60.0, description="Seconds between two rounds of the notification schedulers."
    )

    # The bot's webhook mode (``drive-assist bot run --webhook``) and old-message deletion.
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to (webhook mode)."
    )
    telegram_webhook_secret: str | None = Field(
        default=None,
        description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; 32-256 characters"
        " of A-Z, a-z, 0-9, _ and -. Required for webhook mode.",
    )
    telegram_webhook_listen: str = Field(
        default="127.0.0.1", description="Address the webhook server listens on."
    )
    telegram_webhook_port: int = Field(default=8443, description="Port the webhook server uses.")
    bot_message_deletion_interval_seconds: float = Field(
        default=300.0, description="Seconds between two rounds of deleting old bot messages."
    )

    # The web app (webapp/, rxconfig.py).
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: the web app keeps its state in Redis and runs several"
        " backend workers; none: one worker, state on disk.",
    )
    web_allowed_origins: str = Field(
        default="",
        description="Comma-separated origins (scheme://host[:port]) whose pages may talk to the"
        " web backend (its socket and every HTTP route). Empty: only the origin the app is served"
        " on (the request's own host). Never `*`.",
    )

    @field_validator("web_allowed_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: str) -> str:
        origins = [origin.strip() for origin in value.split(",") if origin.strip()]
        for origin in origins:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
            if parts.path not in {"", "/"} or parts.query or parts.fragment:
                raise ValueError(f"an origin has no path: {origin!r}")
        return ",".join(origin.rstrip("/") for origin in origins)

    def allowed_web_origins(self) -> frozenset[str]:
        """``WEB_ALLOWED_ORIGINS`` as a set of lower-case origins (empty: same origin only)."""
        return frozenset(o.lower() for o in self.web_allowed_origins.split(",") if o)

    web_rp_id: str | None = Field(
        default=None,
        description="Passkeys' relying party ID: the web app's domain name (drive.example.org),"
        " never an IP address. Passkeys are offered for the origins in WEB_ALLOWED_ORIGINS on"
        " that domain. Unset: the host of the first of WEB_ALLOWED_ORIGINS; with neither, no"
        " passkeys (password and code only).",
    )

    def passkey_relying_party(self) -> tuple[str, tuple[str, ...]] | None:
        """The passkeys' RP ID and the origins a ceremony may come from, or None when passkeys
        cannot be offered (no origin is known, or the RP ID is an IP address)."""
        origins = [o for o in self.web_allowed_origins.lower().split(",") if o]
        rp_id = (self.web_rp_id or "").strip().lower().rstrip(".")
        if not rp_id and origins:
            rp_id = urlsplit(origins[0]).hostname or ""
        if not rp_id or _is_ip_address(rp_id):
            return None
        matching = tuple(
            origin
            for origin in origins
            if (host := urlsplit(origin).hostname or "") == rp_id or host.endswith(f".{rp_id}")
        )
        return (rp_id, matching) if matching else None

    web_trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        description="How many reverse proxies in front of the web app add to X-Forwarded-For."
        " 0: the header is ignored and the connecting address is the client (what the sign-in"
        " throttle counts by). Set it to the number of your own proxies, never more: a client"
        " can write any X-Forwarded-For it likes.",
    )

    web_public_url: str = Field(
        default="http://localhost:3000",
        description="The web app's address as staff reach it (scheme://host[:port]): invitation"
        " and reset links emailed or shown to admins start with it.",
    )

    @field_validator("web_public_url")
    @classmethod
    def _public_url_is_an_origin(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"not an address (scheme://host[:port]): {value!r}")
        return value.strip().rstrip("/")

    web_run_notifications: bool = Field(
        default=True,
        description="The web backend also sends notifications (and runs the bot when a token is"
        " set): the single-machine default. Turn off when `drive-assist worker` does it.",
    )

    # GOV.UK Notify: email and text messages (core.notify). The service composes every message
    # itself, in the person's language, so Notify holds two plain templates: an email template
    # whose subject is ``((subject))`` and body ``((body))``, and a text message template whose
    # body is ``((body))``. Neither holds anything about a case.
    notify_api_key: str | None = Field(
        default=None,
        description="A GOV.UK Notify API key (key name, service id, secret); none: no email or"
        " text messages (invitation and reset links are shown to the admin instead).",
    )
    notify_base_url: str = Field(
        default="https://api.notifications.service.gov.uk",
        description="Notify's API (a fake on 127.0.0.1 in tests).",
    )
    notify_email_template_id: str | None = Field(
        default=None, description="Notify email template: subject ((subject)), body ((body))."
    )
    notify_sms_template_id: str | None = Field(
        default=None, description="Notify text message template: body ((body))."
    )
    notify_email_reply_to_id: str | None = Field(
        default=None, description="Optional: a reply-to address id set up in Notify."
    )

    notify_rate_per_minute: int = Field(
        default=3000,
        ge=1,
        description="Email and text messages sent through Notify a minute, at most (Notify's"
        " published limit is 3,000 a minute per API key); paced apart from Telegram.",
    )

    @property
    def notify_email_configured(self) -> bool:
        return bool(self.notify_api_key and self.notify_email_template_id)

    @property
    def notify_sms_configured(self) -> bool:
        return bool(self.notify_api_key and self.notify_sms_template_id)

    # Web sign-in (core.services.auth). The limits on failed sign-ins (core.services.lockout)
    # and the lifetimes of the one-time handoff and enrolment tokens are fixed rules, not
    # settings.
    web_session_idle_minutes: int = Field(
        default=15, ge=1, description="Minutes without activity before a web session ends."
    )
    web_session_max_hours: int = Field(
        default=12, ge=1, description="Hours after sign-in a web session ends, however active."
    )

    def totp_keys(self) -> list[str]:
        """``TOTP_ENCRYPTION_KEYS`` as a list: comma-separated, the first seals (core.sealing)."""
        return [key.strip() for key in (self.totp_encryption_keys or "").split(",") if key.strip()]

    # The audit chain's checkpoints (core.services.audit_checkpoints).
    audit_checkpoint_key: str | None = Field(
        default=None,
        description="Key (32 characters or more) that signs the audit chain's checkpoints: an"
        " HMAC over each checkpoint's seq and hash. Keep it out of the database's reach."
        " Required for the processes that write checkpoints outside demo mode.",
    )
    audit_checkpoint_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "audit-checkpoints",
        description="Directory of the append-only checkpoint file (created 0600). Put it on"
        " storage the database user, and ideally the app, cannot rewrite, or ship its lines"
        " elsewhere; one directory per database.",
    )
    audit_checkpoint_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between two checkpoints written by the worker (or the default"
        " process): events after the newest checkpoint can be removed unseen.",
    )

    totp_encryption_keys: str | None = Field(
        default=None,
        description="Comma-separated Fernet keys that seal the web sign-in's TOTP secrets in the"
        " database; the first seals, any opens (rotation). Make one with"
        " `drive-assist users new-sealing-key`. Required for the web app outside demo mode.",
    )


def _is_ip_address(host: str) -> bool:
    """WebAuthn refuses IP addresses as relying party IDs."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


# The demo's sealing key (core.sealing.DEMO_KEY); defined here, as settings import nothing of core,
# and published, so fit for demo mode only.
DEMO_SEALING_KEY = "ZHJpdmUtYXNzaXN0LWRlbW8tb25seS1rZXktMjAyNiE="

# Secrets anyone can read: placeholders people copy from documentation, the examples in
# Telegram's own docs, and the demo password. Outside demo mode none of them may guard a service.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "admin",
        "change-me",
        "change_me",
        "changeme",
        "drive",
        "drive-assist",
        "drive-demo-2026",  # seeding.demo.DEMO_PASSWORD
        "example",
        "password",
        "postgres",
        "secret",
        "test",
        "token",
        "your-token-here",
    }
)
# Telegram's published example bot tokens (BotFather's and the Bot API docs'), as SHA-256 of
# their lower-case form, so the code holds no token-shaped text.
_PUBLISHED_TOKEN_DIGESTS = frozenset(
    {
        "03fd0a9962f3387afc27ae2b4c84cb76a4ada4ebfec816e74a03dcc6939d657b",
        "b4efc2632e48990b74ddef6bd0879fe08974af1a6f833670a558cd4547fb8ad4",
    }
)


# An HMAC key shorter than this is too easily guessed (``secrets.token_urlsafe(32)`` gives 43).
MIN_CHECKPOINT_KEY_LENGTH = 32


class SecretProblem(NamedTuple):
    """A secret setting that keeps a process from starting: its variable name, never its value."""

    setting: str
    problem: Literal["missing", "default", "invalid"]


def _is_default(value: str) -> bool:
    folded = value.strip().lower()
    return (
        folded in KNOWN_DEFAULT_SECRETS
        or hashlib.sha256(folded.encode()).hexdigest() in _PUBLISHED_TOKEN_DIGESTS
    )


def _is_fernet_key(key: str) -> bool:
    """32 bytes in url-safe base64, as ``cryptography``'s Fernet wants."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (ValueError, UnicodeEncodeError):
        return False


def secret_problems(
    settings: Settings,
    *,
    needs_bot_token: bool = False,
    needs_webhook_secret: bool = False,
    needs_totp_keys: bool = False,
    needs_checkpoint_key: bool = False,
    needs_public_url: bool = False,
) -> list[SecretProblem]:
    """What is wrong with the secrets for a process outside demo mode (in demo mode: nothing).

    A secret that is set must not be a published value; one the process needs must be set. The
    database password is checked only when the URL holds one: PostgreSQL may authenticate
    without one (peer, ``.pgpass``, a client certificate), and SQLite has none.

    ``needs_public_url``: the process makes invitation and reset links (the web app, and
    `drive-assist users add|invite|reset`), which start with ``WEB_PUBLIC_URL``. It must then be
    set (its default, a developer's localhost, would send every link nowhere) and be one of
    ``WEB_ALLOWED_ORIGINS`` (a link elsewhere would lead staff to a site this app is not).
    """
    if settings.demo_mode:
        return []
    problems: list[SecretProblem] = []
    for setting, value, needed in (
        ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token, needs_bot_token),
        ("TELEGRAM_WEBHOOK_SECRET", settings.telegram_webhook_secret, needs_webhook_secret),
        ("NOTIFY_API_KEY", settings.notify_api_key, False),
    ):
        if value is None or not value.strip():
            if needed:
                problems.append(SecretProblem(setting, "missing"))
        elif _is_default(value):
            problems.append(SecretProblem(setting, "default"))
    keys = settings.totp_keys()
    if not keys:
        if needs_totp_keys:
            problems.append(SecretProblem("TOTP_ENCRYPTION_KEYS", "missing"))
    elif any(_is_default(key) or key == DEMO_SEALING_KEY for key in keys):
        problems.append(SecretProblem("TOTP_ENCRYPTION_KEYS", "default"))
    elif not all(_is_fernet_key(key) for key in keys):
        problems.append(SecretProblem("TOTP_ENCRYPTION_KEYS", "invalid"))
    checkpoint_key = (settings.audit_checkpoint_key or "").strip()
    if not checkpoint_key:
        if needs_checkpoint_key:
            problems.append(SecretProblem("AUDIT_CHECKPOINT_KEY", "missing"))
    elif _is_default(checkpoint_key):
        problems.append(SecretProblem("AUDIT_CHECKPOINT_KEY", "default"))
    elif len(checkpoint_key) < MIN_CHECKPOINT_KEY_LENGTH:
        problems.append(SecretProblem("AUDIT_CHECKPOINT_KEY", "invalid"))
    if not settings.is_sqlite and any(
        _is_default(password) for password in _database_passwords(settings.database_url)
    ):
        problems.append(SecretProblem("DATABASE_URL", "default"))
    if needs_public_url:
        problems.extend(_public_url_problems(settings))
    return problems


def _public_url_problems(settings: Settings) -> list[SecretProblem]:
    if "web_public_url" not in settings.model_fields_set:
        return [SecretProblem("WEB_PUBLIC_URL", "missing")]
    parts = urlsplit(settings.web_public_url)
    if f"{parts.scheme}://{parts.netloc}".lower() not in settings.allowed_web_origins():
        return [SecretProblem("WEB_PUBLIC_URL", "invalid")]
    return []


def _database_passwords(url: str) -> list[str]:
    """Every password a database URL gives the driver, decoded as the driver decodes it: the
    one after ``user:`` and any ``password=`` query parameter (libpq and asyncpg read both), so
    ``p%6Fstgres`` is compared as ``postgres``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [unquote(password)] if password is not None else []
    found += [
        value
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() == "password"
    ]
    return found
