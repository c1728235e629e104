"""``drive-assist users``: staff accounts, as the host operator."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

import typer
from pydantic import ValidationError
from rich.table import Table

from cli.common import _, console, err_console, run_with_container, translator, validation_message
from cli.startup_checks import refuse_unsafe_secrets
from core import sealing
from core.bootstrap import Container
from core.enums import Agency, Face, Locale, Role
from core.schemas.accounts import LinkDelivery, UserAdded
from core.schemas.actor import Actor
from core.schemas.telegram import LinkCodeRead
from core.schemas.users import MembershipCreate, UserCreate, UserRead
from core.services import accounts as account_services
from core.services import auth as auth_services
from core.services import lockout
from core.services import telegram_links as link_services
from core.services import users as user_services
from core.services.notification_channels import reseal_mobile_numbers
from core.uow import UnitOfWork
from ui.account_mail import NotifyLinkMailer, delivery_text


def _parse_membership(text: str) -> MembershipCreate:
    """``SITE:ROLE`` or ``SITE:ROLE:AGENCY``, e.g. ``HER:case_manager``."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise typer.BadParameter(
            _("Write roles as SITE:ROLE or SITE:ROLE:AGENCY, for example HER:case_manager.")
        )
    try:
        role = Role(parts[1])
        agency = Agency(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise typer.BadParameter(
            _(
                "Unknown role or agency in {text}. Roles: {roles}. Agencies: {agencies}.",
                text=text,
                roles=", ".join(r.value for r in Role),
                agencies=", ".join(a.value for a in Agency),
            )
        ) from None
    return MembershipCreate(site_code=parts[0], role=role, agency=agency)


def _print_delivery(delivery: LinkDelivery) -> None:
    """Whether the link was emailed; if not, the link itself (alone on its line), once."""
    console.print(delivery_text(delivery, translator))
    if delivery.url:
        typer.echo(delivery.url)


class _AccountAction(Protocol):
    def __call__(self, *, uow: UnitOfWork, actor: Actor, user_id: int) -> Awaitable[bool]: ...


def _act_on_account(email: str, action: _AccountAction) -> tuple[bool, str]:
    """Run a host operator's ``action`` on the account with this work email: whether it
    changed anything, and the address as stored (for the message that says so)."""

    async def work(container: Container) -> bool:
        user_id = await user_services.user_id_for_email(uow=container.uow(), email=email)
        return await action(uow=container.uow(), actor=Actor.system(), user_id=user_id)

    return run_with_container(work), email.strip().lower()


def register(app: typer.Typer) -> None:
    users = typer.Typer(no_args_is_help=True, help=_("Staff accounts."))
    app.add_typer(users, name="users")

    @users.command("add", help=_("Add a staff account with its roles at one or more sites."))
    def add_command(
        email: str = typer.Argument(..., help=_("Work email address.")),
        name: str = typer.Option(..., "--name", help=_("Name shown to colleagues.")),
        role: list[str] = typer.Option(
            [], "--role", help=_("SITE:ROLE or SITE:ROLE:AGENCY; repeat for more.")
        ),
        locale: Locale = typer.Option(Locale.EN_GB, "--locale", help=_("en_GB or cy.")),
    ) -> None:
        refuse_unsafe_secrets(needs_public_url=True)  # the invitation link starts with it
        try:
            data = UserCreate(
                email=email,
                display_name=name,
                locale=locale,
                memberships=[_parse_membership(text) for text in role],
            )
        except ValidationError as error:
            err_console.print(f"[red]{validation_message(error)}[/red]")
            raise typer.Exit(code=2) from None

        async def work(container: Container) -> UserAdded:
            return await user_services.add_user(
                uow=container.uow(),
                actor=Actor.system(),
                data=data,
                mailer=NotifyLinkMailer(container.settings),
            )

        user = run_with_container(work)
        console.print(_("Added {email}.", email=user.email))
        _print_delivery(user.invitation)

    @users.command(
        "reset",
        help=_(
            "Reset someone's password or second factor: their sessions end and they are sent a"
            " new link."
        ),
    )
    def reset_command(
        email: str = typer.Argument(..., help=_("Work email address.")),
        password: bool = typer.Option(False, "--password", help=_("Reset their password.")),
        second_factor: bool = typer.Option(
            False, "--second-factor", help=_("Reset their authenticator app.")
        ),
        as_email: str = typer.Option(
            ..., "--as", help=_("Email of the service manager or administrator running it.")
        ),
    ) -> None:
        refuse_unsafe_secrets(needs_public_url=True)  # the reset link starts with it
        if password == second_factor:
            err_console.print("[red]" + _("Choose one: --password or --second-factor.") + "[/red]")
            raise typer.Exit(code=2)
        reset = (
            account_services.reset_password if password else account_services.reset_second_factor
        )

        async def work(container: Container) -> LinkDelivery:
            actor = await user_services.actor_for_email(
                uow=container.uow(), email=as_email, face=Face.CLI
            )
            user_id = await user_services.user_id_for_email(uow=container.uow(), email=email)
            return await reset(
                uow=container.uow(),
                actor=actor,
                user_id=user_id,
                mailer=NotifyLinkMailer(container.settings),
            )

        _print_delivery(run_with_container(work))

    @users.command(
        "invite", help=_("Send someone who has not set up their account a new invitation.")
    )
    def invite_command(
        email: str = typer.Argument(..., help=_("Work email address.")),
        as_email: str = typer.Option(
            ..., "--as", help=_("Email of the service manager or administrator running it.")
        ),
    ) -> None:
        refuse_unsafe_secrets(needs_public_url=True)  # the invitation link starts with it

        async def work(container: Container) -> LinkDelivery:
            actor = await user_services.actor_for_email(
                uow=container.uow(), email=as_email, face=Face.CLI
            )
            user_id = await user_services.user_id_for_email(uow=container.uow(), email=email)
            return await account_services.resend_invitation(
                uow=container.uow(),
                actor=actor,
                user_id=user_id,
                mailer=NotifyLinkMailer(container.settings),
            )

        _print_delivery(run_with_container(work))

    @users.command(
        "new-sealing-key",
        help=_("Print a new key for TOTP_ENCRYPTION_KEYS (it seals sign-in secrets at rest)."),
    )
    def new_sealing_key_command() -> None:
        typer.echo(sealing.new_key())  # alone on its line, so a script can read it

    @users.command(
        "reseal",
        help=_("Seal every stored sign-in secret under the first key in TOTP_ENCRYPTION_KEYS."),
    )
    def reseal_command() -> None:
        async def work(container: Container) -> int:
            # Mobile numbers are sealed with the same keys: they move to the current one too.
            await reseal_mobile_numbers(uow=container.uow())
            return await auth_services.reseal_totp_secrets(uow=container.uow())

        count = run_with_container(work)
        message = _("Sign-in secrets sealed again under the current key: {count}.", count=count)
        console.print(message)

    @users.command("list", help=_("List staff accounts and their roles."))
    def list_command(
        site: str | None = typer.Option(None, "--site", help=_("Only this site, e.g. HER.")),
    ) -> None:
        async def work(container: Container) -> list[UserRead]:
            return await user_services.list_users(
                uow=container.uow(), actor=Actor.system(), site_code=site
            )

        people = run_with_container(work)
        table = Table(_("Email"), _("Name"), _("Roles"), _("Active"))
        for person in people:
            roles = ", ".join(
                f"{m.site_code}:{m.role.value}" + (f":{m.agency.value}" if m.agency else "")
                for m in person.memberships
            )
            table.add_row(
                person.email, person.display_name, roles, _("yes") if person.is_active else _("no")
            )
        console.print(table)
        console.print(translator.ngettext("{n} account.", "{n} accounts.", len(people)))

    @users.command(
        "link-code", help=_("Give someone a one-time code that links their Telegram account.")
    )
    def link_code_command(
        email: str = typer.Argument(..., help=_("Work email address.")),
    ) -> None:
        async def work(container: Container) -> LinkCodeRead:
            user_id = await user_services.user_id_for_email(uow=container.uow(), email=email)
            return await link_services.issue_link_code(
                uow=container.uow(), actor=Actor.system(), user_id=user_id
            )

        issued = run_with_container(work)
        console.print(_("Link code: {code}", code=issued.code))
        console.print(
            _(
                "It works once and expires at {time}.",
                time=translator.format_datetime(issued.expires_at, "short"),
            )
        )
        console.print(_("Send this message to the Drive Assist bot in Telegram:"))
        console.print(f"/start {issued.code}", highlight=False, soft_wrap=True)

    @users.command("unlink", help=_("End someone's Telegram link to their account."))
    def unlink_command(
        email: str = typer.Argument(..., help=_("Work email address.")),
    ) -> None:
        changed, address = _act_on_account(email, link_services.revoke_telegram_link)
        if changed:
            console.print(_("Unlinked {email} from Telegram.", email=address))
        else:
            console.print(_("{email} was not linked to Telegram.", email=address))

    @users.command(
        "unlock", help=_("Unlock an account that many failed sign-ins from several places locked.")
    )
    def unlock_command(
        email: str = typer.Argument(..., help=_("Work email address.")),
    ) -> None:
        changed, address = _act_on_account(email, lockout.unlock_user)
        if changed:
            console.print(_("Unlocked {email}: they can sign in again.", email=address))
        else:
            console.print(_("{email} was not locked.", email=address))
