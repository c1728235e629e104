"""The funder return and the outcome measures against a small fixture worked out by hand.

The period is January 2026 (London time is UTC then): from 2026-01-01 00:00 to 2026-02-01 00:00.
Every figure asserted below is derived in the comment beside it from the rows in
``january_fixture``; nothing is computed by the code under test first.

Cases at HER (A, B, C, D, E, F) and one at WOR (G):

    case  referred    allocated         closed                    stage now
    A     2025-12-20  2026-01-05 10:00  2026-01-25 10:00 completed
    B     2026-01-03  2026-01-10 10:00  -                         active (since 01-20)
    C     2026-01-20  -                 -                         referred
    D     2025-11-01  2025-11-10 10:00  2026-01-15 10:00 disengaged
    E     2025-10-01  2025-10-05 10:00  2025-12-20 10:00 completed (before the period)
    F     2026-02-05  -                 -                         referred (after the period)
    G     2026-01-10  2026-01-12 10:00  2026-01-28 10:00 custody   (WOR)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.bootstrap import Container
from core.enums import (
    Agency,
    AlertStatus,
    ClosureReason,
    ContactType,
    PanelActionStatus,
    PanelMeetingStatus,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import NotPermitted, ValidationFailed
from core.models import (
    Case,
    CaseStageChange,
    Contact,
    DisruptionAlert,
    Intervention,
    InterventionKind,
    MaracAppearance,
    PanelAction,
    PanelMeeting,
    PoliceIncident,
    RiskAssessment,
)
from core.schemas.actor import Actor
from core.schemas.reports import Report, Share, StageRiskCount
from core.services.reports import build_report, report_page
from tests.factories import World

JAN_1, JAN_31 = date(2026, 1, 1), date(2026, 1, 31)
NO_ABUSE = dict.fromkeys(("physical", "sexual", "harassment_stalking", "jealous_controlling"))


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00+00:00").astimezone(UTC)


@dataclass
class Fixture:
    world: World
    ids: dict[str, int]


def _abuse(prefix: str, flags: dict[str, bool | None]) -> dict[str, bool | None]:
    return {f"{prefix}_{kind}": value for kind, value in (NO_ABUSE | flags).items()}


async def january_fixture(world: World) -> Fixture:
    container: Container = world.container
    her, wor = world.sites["HER"].id, world.sites["WOR"].id
    cm = world.actor(Role.CASE_MANAGER).user_id
    idva = world.actor(Role.IDVA).user_id
    ids: dict[str, int] = {}
    async with container.uow() as uow:
        session = uow.session
        kinds = {k.code: k.id for k in (await session.scalars(select(InterventionKind))).all()}

        def new_case(
            name: str,
            site: int,
            referred: str,
            stages: list[tuple[Stage, datetime]],
            closure: ClosureReason | None = None,
            start: dict[str, bool | None] | None = None,
            end: dict[str, bool | None] | None = None,
        ) -> Case:
            allocated = next((when for stage, when in stages if stage is Stage.ALLOCATED), None)
            closed = next((when for stage, when in stages if stage is Stage.CLOSED), None)
            row = Case(
                site_id=site,
                reference=f"T-{name}",
                referral_date=date.fromisoformat(referred),
                referral_source=ReferralSource.MARAC,
                referral_reason=ReferralReason.HIGH_RISK,
                dash_score=15,
                stage=stages[-1][0],
                stage_changed_at=stages[-1][1],
                case_manager_id=cm if allocated else None,
                allocated_at=allocated,
                closed_at=closed,
                closure_reason=closure,
                created_at=stages[0][1],
                updated_at=stages[-1][1],
                **_abuse("start", start or {}),
                **_abuse("closure", end or {}),
            )
            session.add(row)
            return row

        cases = {
            "A": new_case(
                "A",
                her,
                "2025-12-20",
                [
                    (Stage.REFERRED, at("2025-12-20")),
                    (Stage.ALLOCATED, at("2026-01-05")),
                    (Stage.ACTIVE, at("2026-01-06")),
                    (Stage.CLOSED, at("2026-01-25")),
                ],
                ClosureReason.COMPLETED,
                start={"physical": True, "sexual": False, "harassment_stalking": True}
                | {"jealous_controlling": True},
                end={"physical": False, "sexual": False, "harassment_stalking": True}
                | {"jealous_controlling": False},
            ),
            "B": new_case(
                "B",
                her,
                "2026-01-03",
                [
                    (Stage.REFERRED, at("2026-01-03")),
                    (Stage.ALLOCATED, at("2026-01-10")),
                    (Stage.ACTIVE, at("2026-01-20")),
                ],
                start={"physical": True, "sexual": True, "jealous_controlling": True},
            ),
            "C": new_case("C", her, "2026-01-20", [(Stage.REFERRED, at("2026-01-20"))]),
            "D": new_case(
                "D",
                her,
                "2025-11-01",
                [
                    (Stage.REFERRED, at("2025-11-01")),
                    (Stage.ALLOCATED, at("2025-11-10")),
                    (Stage.CLOSED, at("2026-01-15")),
                ],
                ClosureReason.DISENGAGED,
                start={"physical": True, "sexual": False, "harassment_stalking": True}
                | {"jealous_controlling": True},
                # sexual abuse not recorded at closure: D drops out of that measure
                end={"physical": True, "sexual": None, "harassment_stalking": True}
                | {"jealous_controlling": True},
            ),
            "E": new_case(
                "E",
                her,
                "2025-10-01",
                [
                    (Stage.REFERRED, at("2025-10-01")),
                    (Stage.ALLOCATED, at("2025-10-05")),
                    (Stage.CLOSED, at("2025-12-20")),
                ],
                ClosureReason.COMPLETED,
                start={"physical": True},
                end={"physical": True},
            ),
            "F": new_case("F", her, "2026-02-05", [(Stage.REFERRED, at("2026-02-05"))]),
            "G": new_case(
                "G",
                wor,
                "2026-01-10",
                [
                    (Stage.REFERRED, at("2026-01-10")),
                    (Stage.ALLOCATED, at("2026-01-12")),
                    (Stage.CLOSED, at("2026-01-28")),
                ],
                ClosureReason.CUSTODY,
                start={"physical": True, "sexual": False, "harassment_stalking": False}
                | {"jealous_controlling": False},
                end={"physical": False, "sexual": False, "harassment_stalking": False}
                | {"jealous_controlling": False},
            ),
        }
        await uow.flush()
        ids = {name: row.id for name, row in cases.items()}
        a, b, c, d, e = (ids[n] for n in "ABCDE")

        for name, row in cases.items():
            previous = None
            for stage, when in _stage_history(name):
                session.add(
                    CaseStageChange(
                        case_id=row.id,
                        from_stage=previous,
                        to_stage=stage,
                        changed_at=when,
                        closure_reason=row.closure_reason if stage is Stage.CLOSED else None,
                    )
                )
                previous = stage

        def contact(case_id: int, when: str, kind: ContactType, *flags: WorkCategory) -> None:
            session.add(
                Contact(
                    case_id=case_id,
                    staff_id=cm,
                    occurred_at=at(when),
                    contact_type=kind,
                    duration_minutes=30,
                    is_disruption=WorkCategory.DISRUPTION in flags,
                    is_support=WorkCategory.SUPPORT in flags,
                    is_behaviour_change=WorkCategory.BEHAVIOUR_CHANGE in flags,
                    topics=[],
                    created_at=at(when),
                )
            )

        D_, S_, B_ = WorkCategory.DISRUPTION, WorkCategory.SUPPORT, WorkCategory.BEHAVIOUR_CHANGE
        contact(a, "2026-01-06", ContactType.FACE_TO_FACE, D_, S_)
        contact(a, "2026-01-08", ContactType.ATTEMPT_NO_ANSWER)
        contact(a, "2026-01-12", ContactType.TEXT, B_)
        contact(b, "2026-01-11", ContactType.PHONE, B_)
        contact(b, "2026-01-15", ContactType.LETTER, S_)
        contact(d, "2026-01-02", ContactType.ATTEMPT_NO_ANSWER)
        contact(d, "2025-12-28", ContactType.FACE_TO_FACE, B_)
        contact(e, "2025-12-10", ContactType.FACE_TO_FACE, S_)
        contact(ids["G"], "2026-01-13", ContactType.FACE_TO_FACE, D_)

        def intervention(case_id: int, code: str, agency: Agency, started: str | None) -> None:
            session.add(
                Intervention(
                    case_id=case_id,
                    kind_id=kinds[code],
                    agency=agency,
                    status="started" if started else "offered",
                    started_on=date.fromisoformat(started) if started else None,
                    created_at=at("2026-01-01"),
                )
            )

        intervention(a, "dvpn_dvpo", Agency.POLICE, "2026-01-07")
        intervention(b, "housing", Agency.HOUSING, "2026-01-20")
        intervention(b, "one_to_one_sessions", Agency.DRIVE, None)
        intervention(d, "arrest_or_charge", Agency.POLICE, "2025-12-30")
        intervention(ids["G"], "restraining_order", Agency.POLICE, "2026-01-14")

        meeting = PanelMeeting(
            site_id=her,
            starts_at=at("2026-01-02"),
            status=PanelMeetingStatus.HELD,
            created_at=at("2025-12-01"),
        )
        session.add(meeting)
        await uow.flush()

        def action(due: str, status: PanelActionStatus, completed: str | None) -> None:
            session.add(
                PanelAction(
                    meeting_id=meeting.id,
                    case_id=a,
                    description="Synthetic action",
                    owner_agency=Agency.POLICE,
                    due_on=date.fromisoformat(due),
                    status=status,
                    completed_on=date.fromisoformat(completed) if completed else None,
                    created_at=at("2026-01-02"),
                )
            )

        action("2026-01-10", PanelActionStatus.DONE, "2026-01-09")  # on time
        action("2026-01-15", PanelActionStatus.DONE, "2026-01-20")  # late
        action("2026-01-20", PanelActionStatus.OPEN, None)  # not done
        action("2026-01-25", PanelActionStatus.CANCELLED, None)  # not counted
        action("2026-02-05", PanelActionStatus.DONE, "2026-02-01")  # due after the period
        action("2026-01-31", PanelActionStatus.DONE, "2026-01-31")  # on the day: on time

        def alert(case_id: int, raised: datetime, acknowledged: datetime | None) -> None:
            session.add(
                DisruptionAlert(
                    case_id=case_id,
                    raised_by_id=cm,
                    raised_at=raised,
                    status=AlertStatus.ACKNOWLEDGED if acknowledged else AlertStatus.OPEN,
                    acknowledged_at=acknowledged,
                )
            )

        alert(a, at("2026-01-06"), at("2026-01-06", "14:00"))  # exactly 4 h: within
        alert(a, at("2026-01-07"), datetime(2026, 1, 7, 14, 0, 1, tzinfo=UTC))  # 4 h 1 s
        alert(b, at("2026-01-08"), None)  # never acknowledged
        alert(d, at("2025-12-31", "23:00"), at("2026-01-01", "00:30"))  # raised before

        def risk(case_id: int, when: str, level: RiskLevel, role: Role) -> None:
            session.add(
                RiskAssessment(
                    case_id=case_id,
                    assessed_at=at(when),
                    level=level,
                    assessed_by_id=idva if role is Role.IDVA else cm,
                    assessor_role=role,
                )
            )

        risk(a, "2026-01-05", RiskLevel.HIGH, Role.IDVA)
        risk(a, "2026-01-15", RiskLevel.STANDARD, Role.CASE_MANAGER)  # not an IDVA's
        risk(a, "2026-01-24", RiskLevel.MEDIUM, Role.IDVA)  # high -> medium: reduced
        risk(b, "2026-01-04", RiskLevel.HIGH, Role.IDVA)
        risk(b, "2026-02-10", RiskLevel.MEDIUM, Role.IDVA)  # after the period's end
        risk(d, "2025-11-01", RiskLevel.MEDIUM, Role.IDVA)
        risk(d, "2026-01-14", RiskLevel.HIGH, Role.IDVA)  # medium -> high: increased
        risk(ids["G"], "2026-01-12", RiskLevel.HIGH, Role.IDVA)
        risk(ids["G"], "2026-01-27", RiskLevel.HIGH, Role.IDVA)  # unchanged

        for case_id, day in (
            (a, "2025-07-06"),  # 183 days before A's allocation (2026-01-05): outside
            (a, "2025-07-07"),  # 182 days before: inside
            (a, "2025-12-01"),  # before
            (a, "2026-01-10"),  # during the intervention: neither
            (a, "2026-02-10"),  # after closure (2026-01-25)
            (d, "2025-11-09"),  # the day before D's allocation: before
            (d, "2026-01-15"),  # D's closing day: not after
            (ids["G"], "2025-12-01"),  # WOR
        ):
            session.add(MaracAppearance(case_id=case_id, heard_on=date.fromisoformat(day)))
        for case_id, day in (
            (a, "2025-12-15"),  # before
            (a, "2026-03-01"),  # after
            (a, "2026-07-26"),  # 182 days after closure: inside
            (a, "2026-07-27"),  # 183 days after: outside
            (d, "2025-10-01"),  # before (window from 2025-05-12)
            (d, "2026-02-01"),  # after
            (ids["G"], "2026-02-01"),  # WOR
        ):
            session.add(PoliceIncident(case_id=case_id, occurred_on=date.fromisoformat(day)))
        await uow.commit()
    return Fixture(world, ids)


def _stage_history(name: str) -> list[tuple[Stage, datetime]]:
    return {
        "A": [
            (Stage.REFERRED, at("2025-12-20")),
            (Stage.ALLOCATED, at("2026-01-05")),
            (Stage.ACTIVE, at("2026-01-06")),
            (Stage.CLOSED, at("2026-01-25")),
        ],
        "B": [
            (Stage.REFERRED, at("2026-01-03")),
            (Stage.ALLOCATED, at("2026-01-10")),
            (Stage.ACTIVE, at("2026-01-20")),
        ],
        "C": [(Stage.REFERRED, at("2026-01-20"))],
        "D": [
            (Stage.REFERRED, at("2025-11-01")),
            (Stage.ALLOCATED, at("2025-11-10")),
            (Stage.CLOSED, at("2026-01-15")),
        ],
        "E": [
            (Stage.REFERRED, at("2025-10-01")),
            (Stage.ALLOCATED, at("2025-10-05")),
            (Stage.CLOSED, at("2025-12-20")),
        ],
        "F": [(Stage.REFERRED, at("2026-02-05"))],
        "G": [
            (Stage.REFERRED, at("2026-01-10")),
            (Stage.ALLOCATED, at("2026-01-12")),
            (Stage.CLOSED, at("2026-01-28")),
        ],
    }[name]


@pytest.fixture
async def fixture(world: World) -> Fixture:
    return await january_fixture(world)


async def _her_january(fixture: Fixture, actor: Actor | None = None) -> Report:
    world = fixture.world
    return await build_report(
        uow=world.container.uow(),
        actor=actor or world.actor(Role.SERVICE_MANAGER),
        site_id=world.sites["HER"].id,
        period_from=JAN_1,
        period_to=JAN_31,
    )


async def test_the_funder_return_counts_referrals_allocations_and_the_wait_between(fixture):
    funder = (await _her_january(fixture)).funder
    assert funder.scope.site_codes == ("HER",)
    # Referred in January: B (01-03), C (01-20). A (12-20) and F (02-05) fall outside; G is WOR.
    assert funder.referrals == 2
    # Allocated in January: A (01-05), B (01-10).
    assert funder.allocations == 2
    # Waits: A 2026-01-05 - 2025-12-20 = 16 days, B 01-10 - 01-03 = 7 days; median (7+16)/2.
    assert funder.median_days_referral_to_allocation == 11.5


async def test_engagement_counts_worked_cases_with_a_direct_contact_in_the_period(fixture):
    funder = (await _her_january(fixture)).funder
    # Worked: A, B, D (allocated before 02-01, not closed before 01-01). E closed in December;
    # C was never allocated.
    assert funder.cases_worked == 3
    # A had a face-to-face, B a phone call; D only an unanswered attempt in January (its
    # face-to-face was on 12-28).
    assert funder.engagement == Share(count=2, of=3, percent=66.7)


async def test_contacts_per_case_month_divides_contacts_by_the_time_cases_were_open(fixture):
    funder = (await _her_january(fixture)).funder
    # Contacts (no attempts) in January at HER: A face-to-face, A text, B phone, B letter.
    assert funder.contacts == 4
    # Open within January: A 01-05 10:00 to 01-25 10:00 = 20 d; B 01-10 10:00 to 02-01 00:00
    # = 21 d 14 h; D 01-01 00:00 to 01-15 10:00 = 14 d 10 h. Total 56 days; 56 / 30.4375
    # = 1.8398 months.
    assert funder.case_months == 1.84
    # 4 / 1.8398 = 4 x 30.4375 / 56 = 2.1741.
    assert funder.contacts_per_case_month == 2.17


async def test_the_work_mix_shares_contacts_by_category(fixture):
    funder = (await _her_january(fixture)).funder
    # Of the 4 contacts: disruption A f2f (1); support A f2f, B letter (2); behaviour change
    # A text, B phone (2).
    assert funder.work_mix == {
        WorkCategory.DISRUPTION: Share(count=1, of=4, percent=25.0),
        WorkCategory.SUPPORT: Share(count=2, of=4, percent=50.0),
        WorkCategory.BEHAVIOUR_CHANGE: Share(count=2, of=4, percent=50.0),
    }


async def test_interventions_started_in_the_period_are_counted_by_kind_and_agency(fixture):
    funder = (await _her_january(fixture)).funder
    # Started in January at HER: A's DVPN (police, 01-07), B's housing (housing, 01-20).
    # B's 1-2-1 sessions are only planned; D's arrest was on 2025-12-30.
    assert funder.interventions == 2
    assert funder.interventions_by_kind == {"dvpn_dvpo": 1, "housing": 1}
    assert funder.interventions_by_agency == {Agency.HOUSING: 1, Agency.POLICE: 1}
    assert funder.interventions_by_category == {
        WorkCategory.DISRUPTION: 1,
        WorkCategory.SUPPORT: 1,
        WorkCategory.BEHAVIOUR_CHANGE: 0,
    }


async def test_panel_actions_done_by_their_due_date_and_alerts_acknowledged_within_4_hours(
    fixture,
):
    funder = (await _her_january(fixture)).funder
    # Due in January, not cancelled: 01-10 (done 01-09), 01-15 (done 01-20, late), 01-20 (open),
    # 01-31 (done that day). On time: 2 of 4.
    assert funder.panel_actions_on_time == Share(count=2, of=4, percent=50.0)
    # Raised in January: 01-06 (acknowledged after exactly 4 h), 01-07 (4 h 1 s), 01-08 (never).
    assert funder.alerts_acknowledged_within_4h == Share(count=1, of=3, percent=33.3)


async def test_closures_by_reason_and_open_cases_by_stage_and_risk_at_the_period_end(fixture):
    funder = (await _her_january(fixture)).funder
    # Closed in January at HER: A (completed), D (disengaged); E closed in December.
    assert funder.closures == 2
    assert funder.closures_by_reason == {
        ClosureReason.COMPLETED: 1,
        ClosureReason.DISENGAGED: 1,
        ClosureReason.CUSTODY: 0,
        ClosureReason.MOVED_AWAY: 0,
        ClosureReason.DIED: 0,
        ClosureReason.OTHER: 0,
    }
    # Open on 02-01 00:00: B (active since 01-20; latest risk high on 01-04, the medium of
    # 02-10 comes later) and C (referred, never assessed). F was referred after the period.
    assert funder.open_cases == 2
    assert funder.open_cases_by_stage_and_risk == (
        StageRiskCount(stage=Stage.REFERRED, risk_level=None, cases=1),
        StageRiskCount(stage=Stage.ACTIVE, risk_level=RiskLevel.HIGH, cases=1),
    )


async def test_outcome_measures_compare_abuse_at_start_and_at_closure(fixture):
    outcomes = (await _her_january(fixture)).outcomes
    # Closed in January at HER: A and D.
    assert outcomes.closed_cases == 2
    by_type = {change.abuse_type.value: change for change in outcomes.abuse}
    # Physical: start A yes, D yes (2 of 2); closure A no, D yes (1 of 2); (1 - 2) / 2 = -50%.
    physical = by_type["physical"]
    assert (physical.recorded, physical.at_start, physical.at_closure) == (
        2,
        Share(count=2, of=2, percent=100.0),
        Share(count=1, of=2, percent=50.0),
    )
    assert physical.change_percent == -50.0
    # Sexual: D's closure is not recorded, so only A counts: no at start, no at closure.
    sexual = by_type["sexual"]
    assert (sexual.recorded, sexual.at_start.count, sexual.at_closure.count) == (1, 0, 0)
    assert sexual.change_percent is None
    # Harassment: 2 at start, 2 at closure: no change.
    assert by_type["harassment_stalking"].change_percent == 0.0
    # Jealous/controlling: 2 at start; at closure A no, D yes: 1; -50%.
    assert by_type["jealous_controlling"].at_closure == Share(count=1, of=2, percent=50.0)
    assert by_type["jealous_controlling"].change_percent == -50.0


async def test_outcome_measures_count_idva_risk_marac_and_police_before_and_after(fixture):
    outcomes = (await _her_january(fixture)).outcomes
    # IDVA assessments: A high -> medium (the case manager's standard does not count): reduced;
    # D medium -> high: increased.
    assert outcomes.idva_assessed == 2
    assert outcomes.idva_risk_reduced == Share(count=1, of=2, percent=50.0)
    assert (outcomes.idva_risk_unchanged, outcomes.idva_risk_increased) == (0, 1)
    assert outcomes.cases_allocated == 2
    # MARAC before allocation: A 2025-07-07 and 12-01 (07-06 is 183 days before), D 11-09: 3.
    # After closure: A 02-10 (D's hearing on its closing day is not after): 1.
    assert (outcomes.marac_before, outcomes.marac_after) == (3, 1)
    # Incidents before: A 12-15, D 2025-10-01: 2. After: A 03-01 and 07-26 (07-27 is 183 days
    # after), D 02-01: 3.
    assert (outcomes.police_incidents_before, outcomes.police_incidents_after) == (2, 3)


async def test_all_sites_the_manager_may_see_add_up_each_sites_figures(fixture):
    world = fixture.world
    manager = await world.add_actor(
        "sm.both@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    report = await build_report(
        uow=world.container.uow(),
        actor=manager,
        site_id=None,
        period_from=JAN_1,
        period_to=JAN_31,
    )
    funder, outcomes = report.funder, report.outcomes
    assert funder.scope.site_codes == ("HER", "WOR")
    # G adds a referral (01-10), an allocation (wait 2 days: median of 2, 7, 16 is 7), a
    # custody closure, a contact and an intervention.
    assert (funder.referrals, funder.allocations, funder.closures) == (3, 3, 3)
    assert funder.median_days_referral_to_allocation == 7.0
    assert funder.closures_by_reason[ClosureReason.CUSTODY] == 1
    assert funder.contacts == 5
    assert funder.interventions_by_agency == {Agency.HOUSING: 1, Agency.POLICE: 2}
    # G: physical at start, not at closure: physical 3 -> 1 of 3, (1 - 3) / 3 = -66.7%.
    physical = next(c for c in outcomes.abuse if c.abuse_type.value == "physical")
    assert (physical.at_start.count, physical.at_closure.count) == (3, 1)
    assert physical.change_percent == -66.7
    # G's IDVA levels stay high (unchanged); its incident 02-01 is after closure, its MARAC
    # 2025-12-01 before allocation.
    assert outcomes.idva_risk_unchanged == 1
    assert (outcomes.marac_before, outcomes.police_incidents_after) == (4, 4)


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.IDVA, Role.POLICE_FELLOW])
async def test_staff_other_than_managers_and_admins_cannot_see_reports(fixture, role):
    with pytest.raises(NotPermitted):
        await _her_january(fixture, fixture.world.actor(role))


async def test_an_admin_sees_the_same_report_as_the_service_manager(fixture):
    admin = await _her_january(fixture, fixture.world.actor(Role.ADMIN))
    assert admin == await _her_january(fixture)


async def test_a_manager_of_another_site_and_the_host_operator_cannot_see_a_sites_report(
    fixture,
):
    with pytest.raises(NotPermitted):
        await _her_january(fixture, fixture.world.actor(Role.SERVICE_MANAGER, "WOR"))
    with pytest.raises(NotPermitted):
        await _her_january(fixture, Actor.system())
    with pytest.raises(NotPermitted):
        await build_report(
            uow=fixture.world.container.uow(),
            actor=Actor.system(),
            site_id=None,
            period_from=JAN_1,
            period_to=JAN_31,
        )


async def test_a_period_that_ends_before_it_starts_is_refused(fixture):
    with pytest.raises(ValidationFailed):
        await build_report(
            uow=fixture.world.container.uow(),
            actor=fixture.world.actor(Role.SERVICE_MANAGER),
            site_id=fixture.world.sites["HER"].id,
            period_from=JAN_31,
            period_to=JAN_1,
        )


async def test_the_reports_page_brings_the_sites_to_choose_and_the_report_asked_for(fixture):
    world = fixture.world
    manager = await world.add_actor(
        "two.sites.reports@test.invalid",
        [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)],
    )

    page = await report_page(
        uow=world.container.uow(),
        actor=manager,
        site_id=world.sites["HER"].id,
        period_from=JAN_1,
        period_to=JAN_31,
    )

    assert [site.code for site in page.sites] == ["HER", "WOR"]
    assert page.report == await _her_january(fixture)


async def test_the_reports_page_is_refused_where_the_report_is(fixture):
    with pytest.raises(NotPermitted):
        await report_page(
            uow=fixture.world.container.uow(),
            actor=fixture.world.actor(Role.SERVICE_MANAGER, "WOR"),
            site_id=fixture.world.sites["HER"].id,
            period_from=JAN_1,
            period_to=JAN_31,
        )
