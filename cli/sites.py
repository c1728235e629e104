"""``drive-assist sites``: site settings, as the host operator."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from cli.common import _, console, run_with_container, translator
from core.bootstrap import Container
from core.enums import Role
from core.schemas.actor import Actor
from core.schemas.bot_messages import MAX_RETENTION_HOURS, SiteRetentionRead
from core.schemas.referrals import SiteReferralRolesRead
from core.schemas.sites import SiteCreate, SiteRead
from core.services import bot_messages, referrals
from core.services import sites as site_services
from ui.labels import label


def _parse_hours(text: str) -> int | None:
    if text.strip().lower() == "off":
        return None
    try:
        hours = int(text)
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_RETENTION_HOURS:
        raise typer.BadParameter(
            _(
                "Give a whole number of hours from 1 to {max}, or off.",
                max=MAX_RETENTION_HOURS,
            )
        )
    return hours


def register(app: typer.Typer) -> None:
    sites = typer.Typer(no_args_is_help=True, help=_("Site settings."))
    app.add_typer(sites, name="sites")

    @sites.command("add", help=_("Add a site (a Drive service area) as the host operator."))
    def add_site_command(
        code: str = typer.Argument(..., help=_("Site code, for example HER.")),
        name: str = typer.Argument(..., help=_("Site name, for example Herefordshire.")),
    ) -> None:
        try:
            data = SiteCreate(code=code, name=name)
        except ValidationError as error:
            raise typer.BadParameter(
                _("Give a site code of 2 to 5 capital letters and a name.")
            ) from error

        async def work(container: Container) -> SiteRead:
            return await site_services.create_site(
                uow=container.uow(), actor=Actor.system(), data=data
            )

        site = run_with_container(work)
        console.print(_("Site {code} added.", code=site.code))

    @sites.command(
        "set-retention",
        help=_(
            "Delete the bot's Telegram messages to a site's staff after this many hours"
            " (off: keep them)."
        ),
    )
    def set_retention_command(
        site_code: str = typer.Argument(..., help=_("Site code, for example HER.")),
        hours: str = typer.Argument(
            ..., help=_("Hours from 1 to {max}, or off.", max=MAX_RETENTION_HOURS)
        ),
    ) -> None:
        parsed = _parse_hours(hours)

        async def work(container: Container) -> SiteRetentionRead:
            return await bot_messages.set_bot_message_retention(
                uow=container.uow(), actor=Actor.system(), site_code=site_code, hours=parsed
            )

        site = run_with_container(work)
        if site.bot_message_retention_hours is None:
            console.print(_("The bot's messages to {site} staff are kept.", site=site.site_code))
        else:
            console.print(
                translator.ngettext(
                    "The bot's messages to {site} staff are deleted after {n} hour.",
                    "The bot's messages to {site} staff are deleted after {n} hours.",
                    site.bot_message_retention_hours,
                    site=site.site_code,
                )
            )

    @sites.command(
        "set-referral-roles",
        help=_(
            "Let these roles record new referrals at a site, besides the service manager and"
            " the panel coordinator (none: only those two)."
        ),
    )
    def set_referral_roles_command(
        site_code: str = typer.Argument(..., help=_("Site code, for example HER.")),
        roles: list[str] = typer.Argument(
            ..., help=_("Role codes, for example case_manager, or none.")
        ),
    ) -> None:
        chosen: list[Role] = []
        for text in roles:
            if text.strip().lower() == "none":
                continue
            try:
                chosen.append(Role(text.strip().lower()))
            except ValueError:
                raise typer.BadParameter(
                    _("Choose roles from: {roles}.", roles=", ".join(r.value for r in Role))
                ) from None

        async def work(container: Container) -> SiteReferralRolesRead:
            return await referrals.set_referral_roles(
                uow=container.uow(), actor=Actor.system(), site_code=site_code, roles=chosen
            )

        site = run_with_container(work)
        if site.extra_roles:
            console.print(
                _(
                    "At {site}, new referrals may also be recorded by: {roles}.",
                    site=site.site_code,
                    roles=", ".join(label(role, translator) for role in site.extra_roles),
                )
            )
        else:
            console.print(
                _(
                    "At {site}, only service managers and panel coordinators record new referrals.",
                    site=site.site_code,
                )
            )
