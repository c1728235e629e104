"""``drive-assist cases add|stage|close|reopen|transfer``: case work for scripting and support.

Each command names the member of staff (``--as EMAIL``), parses its options, and calls the same
core services the web pages use; nothing is saved when an option is wrong or core refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import typer
from pydantic import ValidationError

from cli.common import _, console, err_console, run_with_container, translator, validation_message
from core.bootstrap import Container
from core.enums import ClosureReason, DashAnswer, Face, ReferralReason, ReferralSource, Stage
from core.errors import PossibleDuplicates
from core.rules import DASH_QUESTIONS
from core.schemas.actor import Actor
from core.schemas.cases import (
    AbuseProfile,
    CaseClose,
    CaseRead,
    CaseReopen,
    CaseTransfer,
    StageMove,
)
from core.schemas.referrals import DuplicateCheckRead, PerpetratorDetails, ReferralCreate
from core.services import cases as case_services
from core.services import referrals
from core.services import sites as site_services
from core.services import users as user_services
from ui.labels import label

_ANSWERS = {"y": DashAnswer.YES, "n": DashAnswer.NO, "u": DashAnswer.NOT_KNOWN}
_ABUSE_ANSWERS = {"yes": True, "no": False, "unknown": None}
_ABUSE_TYPES = ("physical", "sexual", "harassment_stalking", "jealous_controlling")

AS_OPTION = typer.Option(..., "--as", help=_("Email of the member of staff."))
ON_OPTION = typer.Option(None, "--on", help=_("The day it happened, YYYY-MM-DD (default today)."))


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            _("Give the date as YYYY-MM-DD, for example 2026-03-02."), param_hint=option
        ) from None


def _dash(text: str | None) -> dict[str, DashAnswer] | None:
    """``--dash yynnu...``: 24 letters, y (yes), n (no) or u (not known), q1 first."""
    if text is None:
        return None
    letters = text.replace(",", "").replace(" ", "").lower()
    if any(letter not in _ANSWERS for letter in letters):
        raise typer.BadParameter(
            _("Answer each DASH question with y (yes), n (no) or u (not known)."),
            param_hint="--dash",
        )
    return {q: _ANSWERS[a] for q, a in zip(DASH_QUESTIONS, letters, strict=False)}


def _abuse(text: str | None, option: str) -> AbuseProfile | None:
    """``physical=yes,sexual=no,harassment_stalking=unknown,jealous_controlling=yes``."""
    if text is None:
        return None
    values: dict[str, bool | None] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _sep, answer = part.partition("=")
        if name not in _ABUSE_TYPES or answer.lower() not in _ABUSE_ANSWERS:
            raise typer.BadParameter(
                _(
                    "Give each abuse type as name=yes, name=no or name=unknown; the names are"
                    " {names}.",
                    names=", ".join(_ABUSE_TYPES),
                ),
                param_hint=option,
            )
        values[name] = _ABUSE_ANSWERS[answer.lower()]
    return AbuseProfile(**values)


Model = TypeVar("Model")


def _model(build: Callable[[], Model]) -> Model:
    try:
        return build()
    except ValidationError as error:
        raise typer.BadParameter(validation_message(error)) from None


async def _actor(container: Container, email: str) -> Actor:
    return await user_services.actor_for_email(uow=container.uow(), email=email, face=Face.CLI)


async def _case(container: Container, actor: Actor, reference: str) -> CaseRead:
    return await case_services.find_case(uow=container.uow(), actor=actor, reference=reference)


def _print_duplicates(found: DuplicateCheckRead) -> None:
    err_console.print(_("Possible duplicates of this referral:"))
    for match in found.matches:
        err_console.print(f"  {match.reference} ({match.site_code})")
    for site in found.elsewhere:
        err_console.print(
            "  "
            + _(
                "A possible match at {site}: ask its {role} ({contacts}).",
                site=site.site_name,
                role=label(site.ask_role, translator),
                contacts=", ".join(site.ask_contacts) or "-",
            )
        )
    err_console.print(
        _("Nothing was saved. If this is a new referral, run again with --save-anyway.")
    )


def register(cases: typer.Typer) -> None:
    @cases.command("add", help=_("Record a new referral."))
    def add_command(
        as_email: str = AS_OPTION,
        site: str = typer.Option(..., "--site", help=_("Site code, for example HER.")),
        referral_date: str = typer.Option(..., "--referral-date", help=_("YYYY-MM-DD.")),
        source: ReferralSource = typer.Option(..., "--source", help=_("Where it came from.")),
        reason: ReferralReason = typer.Option(..., "--reason", help=_("High risk or serial.")),
        name: str = typer.Option(..., "--name", help=_("The perpetrator's name.")),
        dob: str | None = typer.Option(None, "--dob", help=_("Date of birth, YYYY-MM-DD.")),
        gender: str | None = typer.Option(None, "--gender"),
        address: str | None = typer.Option(None, "--address"),
        phone: str | None = typer.Option(None, "--phone"),
        languages: str | None = typer.Option(None, "--languages"),
        interpreter: bool | None = typer.Option(None, "--interpreter/--no-interpreter"),
        referrer_agency: str | None = typer.Option(None, "--referrer-agency"),
        referrer_contact: str | None = typer.Option(None, "--referrer-contact"),
        dash: str | None = typer.Option(
            None, "--dash", help=_("The 24 DASH answers in order: y, n or u (not known).")
        ),
        dash_score: int | None = typer.Option(
            None, "--dash-score", help=_("A DASH score from a checklist done elsewhere.")
        ),
        abuse: str | None = typer.Option(
            None, "--abuse", help=_("Abuse types at the start, e.g. physical=yes,sexual=no.")
        ),
        save_anyway: bool = typer.Option(
            False, "--save-anyway", help=_("Save even if there are possible duplicates.")
        ),
    ) -> None:
        answers, profile = _dash(dash), _abuse(abuse, "--abuse")
        referred_on, born_on = _day(referral_date, "--referral-date"), _day(dob, "--dob")
        subject = _model(
            lambda: PerpetratorDetails(
                name=name, date_of_birth=born_on, gender=gender, address=address, phone=phone,
                languages=languages, interpreter_needed=interpreter,
            )
        )  # fmt: skip

        async def work(container: Container) -> CaseRead | DuplicateCheckRead:
            actor = await _actor(container, as_email)
            sites = await site_services.list_sites(uow=container.uow(), actor=actor)
            site_id = next((s.id for s in sites if s.code == site.strip().upper()), 0)
            data = _model(
                lambda: ReferralCreate(
                    site_id=site_id, referral_date=referred_on, referral_source=source,
                    referral_reason=reason, subject=subject, referrer_agency=referrer_agency,
                    referrer_contact=referrer_contact, dash_answers=answers,
                    dash_score=dash_score, abuse_at_start=profile,
                    save_despite_duplicates=save_anyway,
                )
            )  # fmt: skip
            try:
                made = await referrals.record_referral(uow=container.uow(), actor=actor, data=data)
            except PossibleDuplicates as shown:
                assert isinstance(shown.matches, DuplicateCheckRead)
                return shown.matches
            return made.case

        result = run_with_container(work)
        if isinstance(result, DuplicateCheckRead):
            _print_duplicates(result)
            raise typer.Exit(code=1)
        score = "" if result.dash_score is None else f" DASH {result.dash_score}"
        console.print(_("Referral {reference} recorded.", reference=result.reference) + score)

    @cases.command("stage", help=_("Move a case between engaging, active and indirect work."))
    def stage_command(
        reference: str = typer.Argument(..., help=_("Case reference, for example HER-0042.")),
        as_email: str = AS_OPTION,
        to: Stage = typer.Option(..., "--to", help=_("The stage to move to.")),
        reason: str | None = typer.Option(None, "--reason", help=_("Why, in a few words.")),
        on: str | None = ON_OPTION,
    ) -> None:
        effective_on = _day(on, "--on")

        async def work(container: Container) -> CaseRead:
            actor = await _actor(container, as_email)
            case = await _case(container, actor, reference)
            data = _model(
                lambda: StageMove(
                    version=case.version, to_stage=to, reason=reason, effective_on=effective_on
                )
            )
            return await case_services.change_stage(
                uow=container.uow(), actor=actor, case_id=case.id, data=data
            )

        case = run_with_container(work)
        console.print(
            _(
                "{reference} is now {stage}.",
                reference=case.reference,
                stage=label(case.stage, translator),
            )
        )

    @cases.command("close", help=_("Close a case with its reason."))
    def close_command(
        reference: str = typer.Argument(..., help=_("Case reference, for example HER-0042.")),
        as_email: str = AS_OPTION,
        reason: ClosureReason = typer.Option(..., "--reason", help=_("Why it closed.")),
        other: str | None = typer.Option(
            None, "--other", help=_("The reason in words (needed for other).")
        ),
        abuse: str | None = typer.Option(
            None, "--abuse", help=_("Abuse types at closure, e.g. physical=no,sexual=no.")
        ),
        on: str | None = ON_OPTION,
    ) -> None:
        effective_on, profile = _day(on, "--on"), _abuse(abuse, "--abuse")

        async def work(container: Container) -> CaseRead:
            actor = await _actor(container, as_email)
            case = await _case(container, actor, reference)
            data = _model(
                lambda: CaseClose(
                    version=case.version, reason=reason, reason_other=other,
                    abuse_at_closure=profile, effective_on=effective_on,
                )
            )  # fmt: skip
            return await case_services.close_case(
                uow=container.uow(), actor=actor, case_id=case.id, data=data
            )

        case = run_with_container(work)
        console.print(_("{reference} is closed.", reference=case.reference))

    @cases.command("reopen", help=_("Reopen a closed case as its next episode."))
    def reopen_command(
        reference: str = typer.Argument(..., help=_("Case reference, for example HER-0042.")),
        as_email: str = AS_OPTION,
        reason: str = typer.Option(..., "--reason", help=_("Why, in a few words.")),
        on: str | None = ON_OPTION,
    ) -> None:
        effective_on = _day(on, "--on")

        async def work(container: Container) -> CaseRead:
            actor = await _actor(container, as_email)
            case = await _case(container, actor, reference)
            data = _model(
                lambda: CaseReopen(version=case.version, reason=reason, effective_on=effective_on)
            )
            return await case_services.reopen_case(
                uow=container.uow(), actor=actor, case_id=case.id, data=data
            )

        case = run_with_container(work)
        console.print(
            _(
                "{reference} is reopened (episode {episode}).",
                reference=case.reference,
                episode=case.episode,
            )
        )

    @cases.command("transfer", help=_("Transfer a case to another site."))
    def transfer_command(
        reference: str = typer.Argument(..., help=_("Case reference, for example HER-0042.")),
        as_email: str = AS_OPTION,
        to_site: str = typer.Option(..., "--to-site", help=_("Site code, for example WOR.")),
        reason: str | None = typer.Option(None, "--reason", help=_("Why, in a few words.")),
    ) -> None:
        async def work(container: Container) -> CaseRead:
            actor = await _actor(container, as_email)
            case = await _case(container, actor, reference)
            sites = await site_services.list_sites(uow=container.uow(), actor=actor)
            site_id = next((s.id for s in sites if s.code == to_site.strip().upper()), 0)
            data = _model(
                lambda: CaseTransfer(version=case.version, to_site_id=site_id, reason=reason)
            )
            return await case_services.transfer_case(
                uow=container.uow(), actor=actor, case_id=case.id, data=data
            )

        case = run_with_container(work)
        console.print(
            _(
                "{old} is now {reference} at {site}.",
                old=reference.strip().upper(),
                reference=case.reference,
                site=case.site_code,
            )
        )
