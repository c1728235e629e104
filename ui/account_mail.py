"""The emails that carry invitation and reset links, in the person's language, through
GOV.UK Notify (``core.notify``). They hold the link and when it stops working: never anything
about a case. ``NotifyLinkMailer`` is the ``core.services.accounts.LinkMailer`` every face
passes to the account services."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from core.enums import Locale
from core.notify import Notify
from core.schemas.accounts import LinkDelivery, LinkKind
from core.services.accounts import LINK_PATH
from core.settings import Settings
from ui.i18n import N_, Translator

SUBJECTS: dict[LinkKind, str] = {
    LinkKind.INVITATION: N_("Set up your Drive Assist account"),
    LinkKind.PASSWORD_RESET: N_("Choose a new Drive Assist password"),
    LinkKind.SECOND_FACTOR_RESET: N_("Set up your authenticator app for Drive Assist again"),
}
BODIES: dict[LinkKind, str] = {
    LinkKind.INVITATION: N_(
        "You have been given an account on Drive Assist.\n\n"
        "To set it up, open this link, choose a password and then set up an authenticator app"
        " on your phone:\n\n{url}\n\n"
        "The link works once, until {time}. If it has stopped working, ask your administrator"
        " to send it again. If you did not expect this email, you can ignore it."
    ),
    LinkKind.PASSWORD_RESET: N_(
        "Your Drive Assist password was reset by a service manager or administrator, and you"
        " were signed out everywhere.\n\n"
        "To choose a new password, open this link. You will also need a code from your"
        " authenticator app:\n\n{url}\n\n"
        "The link works once, until {time}. If you did not ask for this, tell your manager"
        " straight away."
    ),
    LinkKind.SECOND_FACTOR_RESET: N_(
        "The authenticator app for your Drive Assist account was reset by a service manager"
        " or administrator, and you were signed out everywhere. Its codes no longer work.\n\n"
        "To set up an authenticator app again, open this link. You will need your"
        " password:\n\n{url}\n\n"
        "The link works once, until {time}. If you did not ask for this, tell your manager"
        " straight away."
    ),
}


def link_email(
    kind: LinkKind, *, url: str, expires_at: datetime, locale: str, timezone: str
) -> tuple[str, str]:
    """The subject and body of the email carrying a link, in ``locale``."""
    words = Translator(locale, timezone)
    when = words.format_datetime(expires_at, "HH:mm, d MMMM yyyy")
    return words.gettext(SUBJECTS[kind]), words.gettext(BODIES[kind], url=url, time=when)


class NotifyLinkMailer:
    """Emails links through GOV.UK Notify; their addresses start with ``WEB_PUBLIC_URL``."""

    def __init__(self, settings: Settings, notify: Notify | None = None) -> None:
        self._settings = settings
        self._notify = notify or Notify(settings)

    def link_url(self, token: str) -> str:
        return f"{self._settings.web_public_url}{LINK_PATH}?token={quote(token)}"

    async def send(
        self,
        *,
        to: str,
        locale: Locale,
        kind: LinkKind,
        url: str,
        expires_at: datetime,
        reference: str,
    ) -> None:
        subject, body = link_email(
            kind,
            url=url,
            expires_at=expires_at,
            locale=str(locale),
            timezone=self._settings.timezone,
        )
        await self._notify.send_email(to=to, subject=subject, body=body, reference=reference)


def delivery_text(delivery: LinkDelivery, words: Translator) -> str:
    """What to tell whoever made a link: that it was emailed, or why it was not and that they
    must hand it over themselves (the link itself is shown beside this, once)."""
    until = words.format_datetime(delivery.expires_at, "HH:mm, d MMMM yyyy")
    if delivery.emailed:
        return words.gettext(
            "We emailed a link to {email}. It works once, until {time}.",
            email=delivery.email,
            time=until,
        )
    if delivery.notify_status is None:
        return words.gettext(
            "Email is not set up for this service, so give this link to {name} yourself,"
            " privately (not in a group chat). It works once, until {time}.",
            name=delivery.display_name,
            time=until,
        )
    return words.gettext(
        "We could not email the link (GOV.UK Notify said: {status} {reason}). Give this link to"
        " {name} yourself, privately (not in a group chat). It works once, until {time}.",
        status=delivery.notify_status,
        reason=delivery.notify_reason or "",
        name=delivery.display_name,
        time=until,
    )
