"""Case work from referral to closure (issue 19), through the services, on SQLite and PostgreSQL.

A referral with the DASH checklist and the duplicate check; stage moves, closures, reopening and
transfer with their dates and reasons; risk, MARAC and police records; and the funder return
and outcome measures moving by exactly what was entered. Every refusal leaves nothing saved.
All names are obviously fictional.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import (
    ClosureReason,
    DashAnswer,
    MaracAppearanceType,
    PoliceIncidentType,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
)
from core.errors import (
    CaseNotClosed,
    ClosureReasonTextRequired,
    DashAnswerMissing,
    DateBeforeLastChange,
    DateBeforeReferral,
    DateInFuture,
    NotFound,
    NotPermitted,
    PossibleDuplicates,
    ValidationFailed,
)
from core.models import AuditEvent, Case, CaseStageChange, RiskAssessment
from core.rules import DASH_QUESTIONS
from core.schemas.actor import Actor
from core.schemas.cases import (
    AbuseProfile,
    CaseAllocate,
    CaseClose,
    CaseRead,
    CaseReopen,
    CaseTransfer,
    StageMove,
)
from core.schemas.referrals import DuplicateQuery, PerpetratorDetails, ReferralCreate
from core.schemas.reports import Report, Share
from core.schemas.risk import MaracAppearanceCreate, PoliceIncidentCreate, RiskAssessmentCreate
from core.services import cases as case_services
from core.services import referrals, reports
from core.services import risk as risk_services
from core.services.caseload import list_caseload
from tests.conftest import START
from tests.factories import World
from webapp.pages.caseload import matches

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def answers(yes: int, *, leave_out: str | None = None) -> dict[str, DashAnswer]:
    """A DASH checklist with the first ``yes`` questions answered yes, the rest no."""
    given = {
        question: DashAnswer.YES if number < yes else DashAnswer.NO
        for number, question in enumerate(DASH_QUESTIONS)
    }
    given["q24"] = DashAnswer.NOT_KNOWN if yes < 24 else DashAnswer.YES
    if leave_out:
        del given[leave_out]
    return given


def referral(world: World, site: str = "HER", **overrides: object) -> ReferralCreate:
    data: dict[str, object] = {
        "site_id": world.sites[site].id,
        "referral_date": date(2026, 2, 27),
        "referral_source": ReferralSource.SELF,
        "referral_reason": ReferralReason.SERIAL,
        "subject": PerpetratorDetails(
            name="Testy McFictional",
            date_of_birth=date(1980, 3, 4),
            gender="Not stated",
            phone="07700 900000",
            languages="English, Welsh",
            interpreter_needed=False,
        ),
        "referrer_agency": "Probation",
        "referrer_contact": "duty.desk@probation.test.invalid",
    }
    return ReferralCreate(**(data | overrides))


async def refer(world: World, actor: Actor | None = None, **overrides: object) -> CaseRead:
    made = await referrals.record_referral(
        uow=world.container.uow(),
        actor=actor or world.actor(Role.SERVICE_MANAGER),
        data=referral(world, **overrides),
    )
    return made.case


async def count(container: Container, model: type, *where: object) -> int:
    async with container.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def audit_details(container: Container, action: str) -> list[dict[str, object]]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return list(rows)


# --- a new referral ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yes", "level"),
    [(9, RiskLevel.STANDARD), (10, RiskLevel.MEDIUM), (13, RiskLevel.MEDIUM), (14, RiskLevel.HIGH)],
)
async def test_a_referral_with_the_dash_checklist_is_scored_by_its_yes_answers(
    world: World, yes: int, level: RiskLevel
) -> None:
    case = await refer(world, dash_answers=answers(yes))

    assert (case.dash_score, case.dash_risk_level) == (yes, level)
    assert case.dash_answers is not None and case.dash_answers["q24"] is DashAnswer.NOT_KNOWN
    async with world.container.session_factory() as session:
        first = await session.scalar(
            select(RiskAssessment).where(RiskAssessment.case_id == case.id)
        )
    assert first is not None and (first.level, first.dash_score) == (level, yes)


async def test_a_referral_records_the_perpetrator_the_referrer_and_the_abuse_types(
    world: World,
) -> None:
    case = await refer(
        world,
        dash_score=15,
        abuse_at_start=AbuseProfile(physical=True, sexual=False, harassment_stalking=None),
    )

    assert case.stage is Stage.REFERRED and case.reference == "HER-0001"
    assert (case.referral_source, case.subject_languages, case.subject_phone) == (
        ReferralSource.SELF,
        "English, Welsh",
        "07700 900000",
    )
    assert (case.referrer_agency, case.dash_score, case.dash_answers) == ("Probation", 15, None)
    assert case.abuse_at_start == AbuseProfile(physical=True, sexual=False)


async def test_a_dash_checklist_missing_an_answer_names_the_question_and_saves_nothing(
    world: World,
) -> None:
    with pytest.raises(DashAnswerMissing) as refused:
        await refer(world, dash_answers=answers(12, leave_out="q7"))

    assert refused.value.details["question"] == "q7"
    assert await count(world.container, Case) == 0


async def test_a_checklist_and_a_typed_score_together_are_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await refer(world, dash_answers=answers(12), dash_score=3)

    assert refused.value.details == {"field": "dash_score", "rule": "answers_or_score"}
    assert await count(world.container, Case) == 0


async def test_a_referral_dated_tomorrow_is_refused(world: World) -> None:
    with pytest.raises(DateInFuture):
        await refer(world, referral_date=START.date() + timedelta(days=1))

    assert await count(world.container, Case) == 0


async def test_case_managers_refer_only_where_the_site_lets_them(world: World) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    with pytest.raises(NotPermitted):
        await refer(world, case_manager)
    assert await count(world.container, Case) == 0

    await referrals.set_referral_roles(
        uow=world.container.uow(), actor=Actor.system(), site_code="her", roles=[Role.CASE_MANAGER]
    )
    case = await refer(world, case_manager)
    assert case.reference == "HER-0001"

    with pytest.raises(NotPermitted):  # WOR has not said so
        await refer(world, world.actor(Role.CASE_MANAGER, "WOR"), site_id=world.sites["WOR"].id)


async def test_the_panel_coordinator_records_a_referral(world: World) -> None:
    case = await refer(world, world.actor(Role.PANEL_COORDINATOR))

    assert case.stage is Stage.REFERRED


# --- possible duplicates ----------------------------------------------------------------------


async def test_possible_duplicates_are_shown_before_saving_and_saving_anyway_is_audited(
    world: World,
) -> None:
    first = await refer(world)
    typed_again = PerpetratorDetails(name="  testy  MCFICTIONAL. ", date_of_birth=date(1980, 3, 4))
    initial_swapped = PerpetratorDetails(name="T. McFictional", date_of_birth=date(1980, 4, 3))

    for subject, closeness in ((typed_again, "same"), (initial_swapped, "close")):
        with pytest.raises(PossibleDuplicates) as shown:
            await refer(world, subject=subject)
        [match] = shown.value.matches.matches
        assert (match.reference, match.closeness) == (first.reference, closeness)
    assert await count(world.container, Case) == 1

    second = await refer(world, subject=typed_again, save_despite_duplicates=True)

    assert second.reference == "HER-0002"
    [_, saved_anyway] = await audit_details(world.container, "case.create")
    assert saved_anyway == {
        "source": "self",
        "possible_duplicates": 1,
        "duplicate_case_ids": [first.id],
    }


async def test_other_people_with_the_surname_are_not_duplicates(world: World) -> None:
    await refer(world)

    found = await referrals.check_duplicates(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        data=DuplicateQuery(
            site_id=world.sites["HER"].id, name="Zed McFictional", date_of_birth=date(1980, 3, 4)
        ),
    )

    assert found.count == 0


async def test_a_match_at_a_site_the_person_cannot_see_says_only_whom_to_ask(world: World) -> None:
    await refer(world, world.actor(Role.SERVICE_MANAGER, "WOR"), site_id=world.sites["WOR"].id)

    found = await referrals.check_duplicates(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        data=DuplicateQuery(
            site_id=world.sites["HER"].id, name="Testy McFictional", date_of_birth=date(1980, 3, 4)
        ),
    )

    assert found.matches == []
    [elsewhere] = found.elsewhere
    wor_manager = world.actor(Role.SERVICE_MANAGER, "WOR")
    assert (elsewhere.site_code, elsewhere.ask_role, elsewhere.ask_contacts) == (
        "WOR",
        Role.SERVICE_MANAGER,
        [wor_manager.email],
    )
    assert "WOR-0001" not in elsewhere.model_dump_json()
    assert "Testy" not in elsewhere.model_dump_json()


# --- stage work -------------------------------------------------------------------------------


async def allocated(world: World, site: str = "HER") -> CaseRead:
    return await world.allocated_case(site)  # referred 2026-02-20, allocated at START


async def move(world: World, case: CaseRead, **data: object) -> CaseRead:
    return await case_services.change_stage(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=StageMove(version=case.version, **data),  # type: ignore[arg-type]
    )


async def test_a_stage_move_keeps_its_reason_and_its_day(world: World, clock: FixedClock) -> None:
    case = await allocated(world)
    clock.advance(timedelta(days=3))

    moved = await move(
        world, case, to_stage=Stage.ENGAGING, reason="Letters sent", effective_on=date(2026, 3, 4)
    )

    history = await case_services.stage_history(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), case_id=case.id
    )
    assert moved.stage is Stage.ENGAGING
    assert (history[-1].reason, history[-1].effective_on, history[-1].episode) == (
        "Letters sent",
        date(2026, 3, 4),
        1,
    )
    assert history[-1].changed_at.date() == date(2026, 3, 4)


@pytest.mark.parametrize(
    ("effective_on", "error"),
    [
        (START.date() + timedelta(days=1), DateInFuture),
        (date(2026, 2, 19), DateBeforeReferral),
        (date(2026, 3, 1), DateBeforeLastChange),  # allocated on 2 March
    ],
)
async def test_a_stage_move_dated_outside_the_case_life_is_refused(
    world: World, effective_on: date, error: type[Exception]
) -> None:
    case = await allocated(world)
    before = await count(world.container, CaseStageChange)

    with pytest.raises(error):
        await move(world, case, to_stage=Stage.ACTIVE, effective_on=effective_on)

    assert await count(world.container, CaseStageChange) == before


async def close(world: World, case: CaseRead, **data: object) -> CaseRead:
    return await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, **data),  # type: ignore[arg-type]
    )


async def test_closing_for_another_reason_needs_it_in_words(world: World) -> None:
    case = await allocated(world)

    with pytest.raises(ClosureReasonTextRequired):
        await close(world, case, reason=ClosureReason.OTHER)
    closed = await close(world, case, reason=ClosureReason.OTHER, reason_other="Deported")

    assert (closed.stage, closed.closure_reason_other) == (Stage.CLOSED, "Deported")


async def test_a_reopened_case_starts_its_next_episode_and_keeps_the_first(world: World) -> None:
    case = await allocated(world)
    manager = world.actor(Role.SERVICE_MANAGER)
    with pytest.raises(CaseNotClosed):
        await case_services.reopen_case(
            uow=world.container.uow(),
            actor=manager,
            case_id=case.id,
            data=CaseReopen(version=case.version, reason="New incident"),
        )
    closed = await close(world, case, reason=ClosureReason.DISENGAGED)

    reopened = await case_services.reopen_case(
        uow=world.container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseReopen(version=closed.version, reason="New incident"),
    )

    assert (reopened.stage, reopened.episode, reopened.closure_reason) == (Stage.REFERRED, 2, None)
    assert reopened.case_manager_id is None
    history = await case_services.stage_history(
        uow=world.container.uow(), actor=manager, case_id=case.id
    )
    assert [(h.to_stage, h.episode, h.closure_reason) for h in history] == [
        (Stage.REFERRED, 1, None),
        (Stage.ALLOCATED, 1, None),
        (Stage.CLOSED, 1, ClosureReason.DISENGAGED),
        (Stage.REFERRED, 2, None),
    ]
    assert history[-1].reason == "New incident"


async def test_a_transferred_case_takes_the_new_reference_and_keeps_the_old_findable(
    world: World,
) -> None:
    case = await allocated(world)
    both = await world.add_actor(
        "both.sites@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    with pytest.raises(NotPermitted):  # the service manager of one site only
        await case_services.transfer_case(
            uow=world.container.uow(),
            actor=world.actor(Role.SERVICE_MANAGER),
            case_id=case.id,
            data=CaseTransfer(version=case.version, to_site_id=world.sites["WOR"].id),
        )

    moved = await case_services.transfer_case(
        uow=world.container.uow(),
        actor=both,
        case_id=case.id,
        data=CaseTransfer(version=case.version, to_site_id=world.sites["WOR"].id),
    )

    assert (moved.site_code, moved.reference, moved.former_references) == (
        "WOR",
        "WOR-0001",
        [case.reference],
    )
    assert moved.case_manager_id is None
    found = await case_services.find_case(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER, "WOR"), reference="her-0001"
    )
    assert found.id == case.id
    with pytest.raises(NotFound):  # no longer at HER
        await case_services.find_case(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), reference="HER-0001"
        )
    history = await case_services.stage_history(
        uow=world.container.uow(), actor=both, case_id=case.id
    )
    assert [h.to_stage for h in history] == [Stage.REFERRED, Stage.ALLOCATED]
    # HER never issues the old reference again.
    assert (await refer(world)).reference == "HER-0002"


# --- risk -------------------------------------------------------------------------------------


async def test_a_risk_assessment_from_the_checklist_sets_its_level_and_who_assessed(
    world: World,
) -> None:
    case = await allocated(world)
    idva = world.actor(Role.IDVA)

    made = await risk_services.record_risk_assessment(
        uow=world.container.uow(),
        actor=idva,
        data=RiskAssessmentCreate(
            case_id=case.id, dash_answers=answers(11), reason="Fewer incidents reported"
        ),
    )

    assert (made.level, made.dash_score, made.assessor_role) == (RiskLevel.MEDIUM, 11, Role.IDVA)
    with pytest.raises(ValidationFailed):  # an IDVA does not assess as a case manager
        await risk_services.record_risk_assessment(
            uow=world.container.uow(),
            actor=idva,
            data=RiskAssessmentCreate(
                case_id=case.id, level=RiskLevel.HIGH, assessor_role=Role.CASE_MANAGER
            ),
        )
    with pytest.raises(ValidationFailed):  # no checklist, no score: the level is needed
        await risk_services.record_risk_assessment(
            uow=world.container.uow(), actor=idva, data=RiskAssessmentCreate(case_id=case.id)
        )


async def test_marac_appearances_and_police_incidents_keep_their_type_and_description(
    world: World,
) -> None:
    case = await allocated(world)
    manager = world.actor(Role.SERVICE_MANAGER)

    heard = await risk_services.record_marac_appearance(
        uow=world.container.uow(),
        actor=manager,
        data=MaracAppearanceCreate(
            case_id=case.id,
            heard_on=date(2026, 2, 10),
            appearance_type=MaracAppearanceType.REPEAT,
            description="Second MARAC this year",
        ),
    )
    incident = await risk_services.record_police_incident(
        uow=world.container.uow(),
        actor=manager,
        data=PoliceIncidentCreate(
            case_id=case.id,
            occurred_on=date(2026, 2, 12),
            incident_type=PoliceIncidentType.BREACH_OF_ORDER,
            description="Came to the address",
        ),
    )

    assert (heard.appearance_type, heard.description) == (
        MaracAppearanceType.REPEAT,
        "Second MARAC this year",
    )
    assert (incident.incident_type, incident.description) == (
        PoliceIncidentType.BREACH_OF_ORDER,
        "Came to the address",
    )
    closed = await close(world, case, reason=ClosureReason.COMPLETED)
    report = await march_report(world)
    assert closed.stage is Stage.CLOSED
    assert (report.outcomes.marac_before, report.outcomes.police_incidents_before) == (1, 1)


# --- the reports ------------------------------------------------------------------------------


async def march_report(world: World) -> Report:
    return await reports.build_report(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        site_id=world.sites["HER"].id,
        period_from=MARCH[0],
        period_to=MARCH[1],
    )


async def test_the_funder_return_counts_a_new_referral_and_its_closure_by_reason(
    world: World,
) -> None:
    before = await march_report(world)

    case = await refer(
        world,
        referral_date=date(2026, 3, 1),
        abuse_at_start=AbuseProfile(
            physical=True, sexual=False, harassment_stalking=True, jealous_controlling=True
        ),
    )
    allocated_case = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseAllocate(
            version=case.version, case_manager_id=world.actor(Role.CASE_MANAGER).user_id
        ),
    )
    await close(
        world,
        allocated_case,
        reason=ClosureReason.CUSTODY,
        abuse_at_closure=AbuseProfile(
            physical=False, sexual=False, harassment_stalking=True, jealous_controlling=False
        ),
    )
    after = await march_report(world)

    assert after.funder.referrals == before.funder.referrals + 1
    assert after.funder.closures == before.funder.closures + 1
    assert (
        after.funder.closures_by_reason[ClosureReason.CUSTODY]
        == before.funder.closures_by_reason[ClosureReason.CUSTODY] + 1
    )
    physical = after.outcomes.abuse[0]
    assert (physical.recorded, physical.at_start.count, physical.at_closure.count) == (1, 1, 0)


async def test_a_reopened_case_counts_each_episode_once(world: World) -> None:
    case = await allocated(world)  # referred in February: not a March referral
    first = await close(world, case, reason=ClosureReason.DISENGAGED)
    reopened = await case_services.reopen_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseReopen(version=first.version, reason="Re-referred by MARAC"),
    )
    before_second_closure = await march_report(world)
    again = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseAllocate(
            version=reopened.version, case_manager_id=world.actor(Role.CASE_MANAGER).user_id
        ),
    )
    await close(world, again, reason=ClosureReason.COMPLETED)

    after = await march_report(world)

    assert before_second_closure.funder.referrals == 1  # the reopening
    assert before_second_closure.funder.closures_by_reason[ClosureReason.DISENGAGED] == 1
    assert after.funder.referrals == 1
    assert after.funder.closures == 2
    assert after.funder.closures_by_reason[ClosureReason.DISENGAGED] == 1
    assert after.funder.closures_by_reason[ClosureReason.COMPLETED] == 1


async def outcomes_between(world: World, period_from: date, period_to: date) -> Report:
    return await reports.build_report(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        site_id=world.sites["HER"].id,
        period_from=period_from,
        period_to=period_to,
    )


async def test_each_closed_episode_counts_in_the_outcome_measures_of_its_period(
    world: World, clock: FixedClock
) -> None:
    """Closed in March (physical abuse gone), reopened and closed again in April (back): each
    closure counts once, in its own month, with the abuse types recorded at that closure."""
    manager = world.actor(Role.SERVICE_MANAGER)
    case = await refer(
        world,
        abuse_at_start=AbuseProfile(
            physical=True, sexual=None, harassment_stalking=None, jealous_controlling=None
        ),
    )
    case = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseAllocate(
            version=case.version, case_manager_id=world.actor(Role.CASE_MANAGER).user_id
        ),
    )
    first = await close(
        world, case, reason=ClosureReason.COMPLETED, abuse_at_closure=AbuseProfile(physical=False)
    )
    clock.advance(timedelta(days=35))  # 6 April
    reopened = await case_services.reopen_case(
        uow=world.container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseReopen(version=first.version, reason="Re-referred by the police"),
    )
    again = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseAllocate(
            version=reopened.version, case_manager_id=world.actor(Role.CASE_MANAGER).user_id
        ),
    )
    await close(
        world, again, reason=ClosureReason.DISENGAGED, abuse_at_closure=AbuseProfile(physical=True)
    )

    march = (await outcomes_between(world, *MARCH)).outcomes
    april = (await outcomes_between(world, date(2026, 4, 1), date(2026, 4, 30))).outcomes
    both = (await outcomes_between(world, MARCH[0], date(2026, 4, 30))).outcomes

    assert (march.closed_cases, april.closed_cases, both.closed_cases) == (1, 1, 2)
    physical = {name: got.abuse[0] for name, got in (("march", march), ("april", april))}
    assert (physical["march"].recorded, physical["march"].at_closure.count) == (1, 0)
    assert (physical["april"].recorded, physical["april"].at_closure.count) == (1, 1)
    assert (both.abuse[0].recorded, both.abuse[0].at_start.count) == (2, 2)
    assert both.abuse[0].at_closure == Share(count=1, of=2, percent=50.0)
    assert both.abuse[0].change_percent == -50.0


async def test_the_caseload_search_finds_a_transferred_case_by_its_former_reference(
    world: World,
) -> None:
    case = await allocated(world)
    both = await world.add_actor(
        "both.managers@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    moved = await case_services.transfer_case(
        uow=world.container.uow(),
        actor=both,
        case_id=case.id,
        data=CaseTransfer(version=case.version, to_site_id=world.sites["WOR"].id),
    )
    wor_manager = world.actor(Role.CASE_MANAGER, "WOR")
    await case_services.allocate_case(
        uow=world.container.uow(),
        actor=both,
        case_id=case.id,
        data=CaseAllocate(version=moved.version, case_manager_id=wor_manager.user_id),
    )

    rows = await list_caseload(uow=world.container.uow(), actor=wor_manager)
    found = [
        row.reference
        for row in rows
        if matches(row, stage="", risk_level="", reference=case.reference.lower())
    ]

    assert found == [moved.reference]
    assert next(row for row in rows if row.case_id == case.id).former_references == (
        case.reference,
    )
    assert not [row for row in rows if row.answers_to("HER-9999")]
