"""The demo data: its shape, its figures, its determinism, and that nobody in it is real."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.db.base import Base
from core.db.migrate import upgrade
from core.enums import (
    DIRECT_CONTACT_TYPES,
    AbuseType,
    AppointmentStatus,
    ClosureReason,
    ContactType,
    InterventionStatus,
    PanelActionStatus,
    PanelMeetingStatus,
    Role,
    Stage,
)
from core.models import (
    Appointment,
    Case,
    CaseStageChange,
    Contact,
    Intervention,
    InterventionKind,
    LinkedPerson,
    MaracAppearance,
    Membership,
    PanelAction,
    PanelAgendaItem,
    PanelAttendance,
    PanelMeeting,
    PoliceIncident,
    RiskAssessment,
    Site,
    User,
)
from core.passwords import verify_password
from core.settings import Settings
from seeding.demo import (
    DEMO_PASSWORD,
    PROGRESS_STEPS,
    DemoDataPresent,
    DemoSummary,
    database_is_empty,
    demo_accounts,
    seed_demo,
)
from tests.conftest import (
    START,
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

NOW = START  # the clock of the ``container`` fixture
LEVEL_RANK = {"standard": 0, "medium": 1, "high": 2}


async def _all(container: Container, statement: Any) -> list[Any]:
    async with container.uow() as uow:
        return list((await uow.session.execute(statement)).all())


async def _rows(container: Container, model: type[Base]) -> list[Any]:
    """Every row of ``model``, detached so it can be read after the unit of work closes."""
    async with container.uow() as uow:
        rows = list((await uow.session.scalars(select(model))).all())
        uow.session.expunge_all()  # or the rollback on leaving would expire them
        return rows


async def _count(container: Container, model: type[Base]) -> int:
    async with container.uow() as uow:
        return (await uow.session.scalar(select(func.count()).select_from(model))) or 0


async def _wipe(container: Container) -> None:
    """Empty every table but the intervention catalogue, as the fixture does after a test."""
    async with container.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "intervention_kinds":
                await connection.execute(delete(table))


async def _snapshot(container: Container) -> dict[str, Any]:
    """What the demo holds, without database ids (which differ from one run to the next)."""
    cases = await _all(
        container,
        select(
            Case.reference, Case.stage, Case.closure_reason, Case.referral_date, Case.subject_name
        ),
    )
    contacts = await _all(
        container,
        select(Case.reference, Contact.occurred_at, Contact.contact_type, Contact.topics).join(
            Case, Contact.case_id == Case.id
        ),
    )
    appointments = await _all(
        container,
        select(Case.reference, Appointment.starts_at, Appointment.status).join(
            Case, Appointment.case_id == Case.id
        ),
    )
    actions = await _all(
        container, select(PanelAction.due_on, PanelAction.status, PanelAction.description)
    )
    return {
        "cases": sorted(tuple(row) for row in cases),
        "contacts": sorted(tuple(row) for row in contacts),
        "appointments": sorted(tuple(row) for row in appointments),
        "actions": sorted(tuple(row) for row in actions),
    }


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
async def demo_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Container, DemoSummary]]:
    """One seeding (seed 42, at NOW) in a fresh database of its own, read by many tests.

    Seeding takes a second or so; the tests that only read share it rather than each seeding
    the shared test database again. Tests that write use the ``container`` fixture.
    """
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    else:
        await require_postgres()
        url = await create_postgres_database("da_demo")
    app = bootstrap(Settings(database_url=url), clock=FixedClock(NOW))
    try:
        await upgrade(app.engine)
        yield app, await seed_demo(app)
    finally:
        await app.dispose()
        if request.param == "postgresql":
            await drop_postgres_database(url)


@pytest.fixture(scope="module")
def demo(demo_run: tuple[Container, DemoSummary]) -> Container:
    return demo_run[0]


@pytest.fixture(scope="module")
def demo_summary(demo_run: tuple[Container, DemoSummary]) -> DemoSummary:
    return demo_run[1]


# --- Shape -------------------------------------------------------------------------------


async def test_the_demo_has_two_sites_ten_staff_and_thirty_cases_at_each_site(
    demo: Container, demo_summary: DemoSummary
):
    sites = {site.code: site.name for site in await _rows(demo, Site)}
    assert sites == {"HER": "Herefordshire", "WOR": "Worcestershire"}
    assert await _count(demo, User) == 10
    per_site = await _all(demo, select(Site.code, func.count()).join(Case).group_by(Site.code))
    assert dict(per_site) == {"HER": 30, "WOR": 30}
    assert demo_summary.counts["cases"] == 60
    assert demo_summary.counts["contacts"] == await _count(demo, Contact)
    assert demo_summary.counts["appointments"] == await _count(demo, Appointment)


async def test_every_stage_and_every_closure_reason_appear_at_each_site(demo: Container):
    rows = await _all(demo, select(Site.code, Case.stage, Case.closure_reason).join(Case.site))
    for code in ("HER", "WOR"):
        assert {stage for site, stage, _ in rows if site == code} == set(Stage)
        reasons = {reason for site, _, reason in rows if site == code and reason}
        assert reasons == set(ClosureReason)
    references = [row.reference for row in await _rows(demo, Case)]
    assert "HER-0001" in references and "WOR-0030" in references


async def test_every_role_is_held_at_each_site_and_two_case_managers_work_each_site(
    demo: Container,
):
    memberships = await _all(demo, select(Site.code, Membership.role).join(Membership.site))
    for code in ("HER", "WOR"):
        roles = Counter(role for site, role in memberships if site == code)
        assert set(roles) == set(Role)
        assert roles[Role.CASE_MANAGER] == 2
        assert roles[Role.SERVICE_MANAGER] == 1
    welsh = [user for user in await _rows(demo, User) if user.locale == "cy"]
    assert 1 <= len(welsh) <= 2


async def test_allocated_cases_have_a_case_manager_and_a_planned_end_three_to_twelve_months_on(
    demo: Container,
):
    for case in await _rows(demo, Case):
        if case.stage is Stage.REFERRED:
            assert case.case_manager_id is None and case.allocated_at is None
            continue
        assert case.case_manager_id is not None
        assert case.allocated_at is not None and case.allocated_at > case.created_at
        months = (case.planned_end - case.allocated_at.date()).days / 30.44
        assert 2.95 <= months <= 12.05


async def test_stage_history_runs_from_referral_to_the_current_stage(demo: Container):
    history: dict[int, list[CaseStageChange]] = defaultdict(list)
    for change in sorted(await _rows(demo, CaseStageChange), key=lambda c: (c.changed_at, c.id)):
        history[change.case_id].append(change)
    for case in await _rows(demo, Case):
        changes = history[case.id]
        assert (changes[0].from_stage, changes[0].to_stage) == (None, Stage.REFERRED)
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_stage == before.to_stage
            assert after.changed_at > before.changed_at
        assert changes[-1].to_stage == case.stage
        assert changes[-1].changed_at == case.stage_changed_at
        assert changes[-1].closure_reason == case.closure_reason


async def test_every_closed_case_has_a_reason_a_closing_date_and_abuse_recorded_at_closure(
    demo: Container,
):
    closed = [case for case in await _rows(demo, Case) if case.stage is Stage.CLOSED]
    assert len(closed) == 22
    for case in closed:
        assert case.closure_reason is not None
        assert case.allocated_at < case.closed_at < NOW
        closure = (
            case.closure_physical,
            case.closure_sexual,
            case.closure_harassment_stalking,
            case.closure_jealous_controlling,
        )
        assert None not in closure
    for case in await _rows(demo, Case):
        if case.stage is not Stage.CLOSED:
            assert case.closure_reason is None and case.closure_physical is None


async def test_cases_have_victims_children_risk_marac_and_police_history(demo: Container):
    people = await _rows(demo, LinkedPerson)
    assert {person.kind for person in people} == {"victim", "child"}
    assert len({person.case_id for person in people if person.kind == "victim"}) == 60
    assessments = await _rows(demo, RiskAssessment)
    assert {a.assessor_role for a in assessments} == {Role.IDVA, Role.CASE_MANAGER}
    assert await _count(demo, MaracAppearance) > 30
    assert await _count(demo, PoliceIncident) > 100


# --- A year of work ---------------------------------------------------------------------


async def test_contacts_cover_about_a_year_and_none_lie_in_the_future(demo: Container):
    contacts = await _rows(demo, Contact)
    first = min(contact.occurred_at for contact in contacts)
    last = max(contact.occurred_at for contact in contacts)
    assert NOW - timedelta(days=366) <= first <= NOW - timedelta(days=300)
    assert NOW - timedelta(days=7) <= last <= NOW
    assert {contact.contact_type for contact in contacts} == set(ContactType)
    assert all(contact.duration_minutes > 0 for contact in contacts)
    assert any(contact.is_disruption for contact in contacts)
    assert any(contact.is_support for contact in contacts)
    assert any(contact.is_behaviour_change for contact in contacts)
    attempts = [c for c in contacts if c.contact_type is ContactType.ATTEMPT_NO_ANSWER]
    assert attempts and all(not c.categories() for c in attempts)


async def test_every_case_manager_has_appointments_today_and_in_the_next_two_weeks(demo: Container):
    appointments = await _rows(demo, Appointment)
    managers = await _all(
        demo,
        select(User.id).join(Membership).where(Membership.role == Role.CASE_MANAGER),
    )
    for (manager_id,) in managers:
        own = [a for a in appointments if a.staff_id == manager_id]
        assert any(a.starts_at.date() == NOW.date() for a in own)
        upcoming = [a for a in own if NOW < a.starts_at < NOW + timedelta(days=14)]
        assert len(upcoming) >= 3
    for appointment in appointments:
        is_future = appointment.starts_at > NOW
        assert (appointment.status is AppointmentStatus.SCHEDULED) == is_future
    assert {a.status for a in appointments} == set(AppointmentStatus)


async def test_a_rescheduled_appointment_points_to_a_later_one(demo: Container):
    by_id = {a.id: a for a in await _rows(demo, Appointment)}
    moved = [a for a in by_id.values() if a.status is AppointmentStatus.RESCHEDULED]
    assert moved
    for appointment in moved:
        replacement = by_id[appointment.rescheduled_to_id]
        assert replacement.case_id == appointment.case_id
        assert replacement.starts_at > appointment.starts_at


async def test_interventions_come_from_the_catalogue_with_a_mix_of_agencies_and_statuses(
    demo: Container,
):
    kinds = {kind.id: kind for kind in await _rows(demo, InterventionKind)}
    interventions = await _rows(demo, Intervention)
    assert {kinds[i.kind_id].category for i in interventions} == {
        "disruption",
        "support",
        "behaviour_change",
    }
    assert len({i.agency for i in interventions}) >= 5
    assert {i.status for i in interventions} == set(InterventionStatus)
    for intervention in interventions:
        if intervention.ended_on:
            assert intervention.started_on <= intervention.ended_on <= NOW.date()


async def test_both_sites_hold_a_panel_every_four_weeks_with_two_still_to_come(demo: Container):
    meetings = await _rows(demo, PanelMeeting)
    for site_id in {meeting.site_id for meeting in meetings}:
        own = sorted((m for m in meetings if m.site_id == site_id), key=lambda m: m.starts_at)
        assert len(own) >= 14
        gaps = {
            later.starts_at - earlier.starts_at
            for earlier, later in zip(own, own[1:], strict=False)
        }
        assert gaps == {timedelta(weeks=4)}
        assert [m.status for m in own if m.starts_at > NOW] == [PanelMeetingStatus.SCHEDULED] * 2
        assert own[0].starts_at >= NOW - timedelta(days=365)
    assert len({m.site_id for m in meetings}) == 2
    assert await _count(demo, PanelAgendaItem) >= 5 * len(meetings)
    assert await _count(demo, PanelAttendance) > 0


async def test_panel_actions_have_owners_and_due_dates_some_met_some_late_some_overdue(
    demo: Container,
):
    actions = await _rows(demo, PanelAction)
    assert all(a.owner_agency or a.owner_user_id for a in actions)
    assert any(a.owner_user_id for a in actions) and any(not a.owner_user_id for a in actions)
    done = [a for a in actions if a.status is PanelActionStatus.DONE]
    assert any(a.completed_on <= a.due_on for a in done)
    assert any(a.completed_on > a.due_on for a in done)
    overdue = [a for a in actions if a.status is PanelActionStatus.OPEN and a.due_on < NOW.date()]
    assert overdue


# --- Figures for the reports -------------------------------------------------------------


async def test_abuse_falls_between_start_and_closure_as_in_the_drive_evaluation(demo: Container):
    closed = [case for case in await _rows(demo, Case) if case.stage is Stage.CLOSED]
    for kind in AbuseType:
        at_start = sum(bool(getattr(case, f"start_{kind.value}")) for case in closed)
        at_closure = sum(bool(getattr(case, f"closure_{kind.value}")) for case in closed)
        assert at_start >= 3
        assert 0.6 <= 1 - at_closure / at_start <= 1.0, kind


async def test_idvas_see_risk_reduced_in_about_four_closed_cases_in_five(demo: Container):
    closed = {case.id for case in await _rows(demo, Case) if case.stage is Stage.CLOSED}
    by_case: dict[int, list[RiskAssessment]] = defaultdict(list)
    for assessment in await _rows(demo, RiskAssessment):
        if assessment.case_id in closed and assessment.assessor_role is Role.IDVA:
            by_case[assessment.case_id].append(assessment)
    reduced = 0
    for assessments in by_case.values():
        first, *_, last = sorted(assessments, key=lambda a: a.assessed_at)
        reduced += LEVEL_RANK[last.level] < LEVEL_RANK[first.level]
    assert len(by_case) == len(closed)
    assert 0.7 <= reduced / len(closed) <= 0.9


async def test_marac_appearances_and_police_incidents_fall_after_closure(demo: Container):
    closed = [case for case in await _rows(demo, Case) if case.stage is Stage.CLOSED]
    marac = await _rows(demo, MaracAppearance)
    incidents = await _rows(demo, PoliceIncident)
    six_months = timedelta(days=183)

    def before_and_after(days: list[tuple[int, Any]]) -> tuple[int, int]:
        before = after = 0
        for case in closed:
            allocated, closed_on = case.allocated_at.date(), case.closed_at.date()
            own = [day for case_id, day in days if case_id == case.id]
            before += sum(allocated - six_months <= day < allocated for day in own)
            after += sum(closed_on < day <= closed_on + six_months for day in own)
        return before, after

    marac_before, marac_after = before_and_after([(m.case_id, m.heard_on) for m in marac])
    incidents_before, incidents_after = before_and_after(
        [(i.case_id, i.occurred_on) for i in incidents]
    )
    assert marac_after < marac_before / 2
    assert incidents_after < incidents_before / 2


async def test_waits_contacts_engagement_and_panel_actions_give_plausible_funder_figures(
    demo: Container,
):
    cases = await _rows(demo, Case)
    allocated = [case for case in cases if case.allocated_at]
    waits = [(case.allocated_at.date() - case.referral_date).days for case in allocated]
    assert 7 <= statistics.median(waits) <= 28
    contacts = await _rows(demo, Contact)
    assert 10 <= len(contacts) / len(allocated) <= 40
    engaged = {c.case_id for c in contacts if c.contact_type in DIRECT_CONTACT_TYPES}
    assert 0.35 <= len(engaged) / len(allocated) <= 0.8
    actions = await _rows(demo, PanelAction)
    due = [
        a for a in actions if a.due_on < NOW.date() and a.status is not PanelActionStatus.CANCELLED
    ]
    on_time = [a for a in due if a.completed_on and a.completed_on <= a.due_on]
    assert 0.55 <= len(on_time) / len(due) <= 0.9


# --- Safety, determinism, refusal -------------------------------------------------------


async def test_no_demo_name_email_phone_or_address_could_belong_to_a_real_person(demo: Container):
    for user in await _rows(demo, User):
        assert user.email.endswith(".invalid")
        assert user.display_name.startswith("Demo ")
    for case in await _rows(demo, Case):
        assert case.subject_name.startswith("Demo Subject ")
        assert case.subject_address.endswith("Example Street, Testville")
    for person in await _rows(demo, LinkedPerson):
        assert person.name.startswith("Demo ")
        assert person.address.endswith("Sample Road, Nowhere")
        assert person.contact is None or person.contact.startswith("07700 900")
    for meeting in await _rows(demo, PanelMeeting):
        assert "Example Street" in meeting.place
        assert meeting.link.startswith("https://meet.example.invalid/")
    for incident in await _rows(demo, PoliceIncident):
        assert incident.police_reference.startswith("DEMO-")


async def test_the_same_seed_and_clock_give_the_same_data(container):
    first = await seed_demo(container, seed=7, now=NOW)
    snapshot = await _snapshot(container)
    await _wipe(container)

    second = await seed_demo(container.uow(), seed=7, now=NOW)

    assert second.counts == first.counts
    assert await _snapshot(container) == snapshot


async def test_a_different_seed_gives_different_data(container):
    await seed_demo(container, seed=1, now=NOW)
    snapshot = await _snapshot(container)
    await _wipe(container)

    await seed_demo(container, seed=2, now=NOW)

    other = await _snapshot(container)
    assert other["contacts"] != snapshot["contacts"]
    assert [row[0] for row in other["cases"]] == [row[0] for row in snapshot["cases"]]


async def test_seeding_a_database_that_holds_data_is_refused_and_changes_nothing(container):
    assert await database_is_empty(container)
    await seed_demo(container, now=NOW)
    contacts = await _count(container, Contact)

    with pytest.raises(DemoDataPresent) as refused:
        await seed_demo(container, now=NOW)

    assert refused.value.code == "demo_data_present"
    assert not await database_is_empty(container)
    assert await _count(container, Contact) == contacts
    assert await _count(container, Site) == 2


async def test_demo_accounts_sign_in_with_the_demo_password(
    demo: Container, demo_summary: DemoSummary
):
    users = {user.email: user for user in await _rows(demo, User)}
    assert demo_summary.accounts == demo_accounts()
    assert set(users) == {account.email for account in demo_summary.accounts}
    assert len({user.password_hash for user in users.values()}) == 1
    assert verify_password(users[demo_summary.accounts[0].email].password_hash, DEMO_PASSWORD)
    held = {(role, code) for account in demo_summary.accounts for role, code in account.roles}
    assert {role for role, _ in held} == set(Role)


async def test_progress_is_reported_for_every_step_up_to_the_total(container):
    calls: list[tuple[str, int, int]] = []

    await seed_demo(container, now=NOW, progress=lambda *call: calls.append(call))

    assert [step for step, _, _ in calls] == list(PROGRESS_STEPS)
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)
    assert calls[-1][1] == calls[-1][2] == calls[0][2]


# --- The command -------------------------------------------------------------------------


def test_the_demo_seed_command_prints_the_sign_ins_and_refuses_a_second_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from cli.main import app

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}")
    monkeypatch.setenv("DEMO_MODE", "true")
    runner = CliRunner()

    first = runner.invoke(app, ["demo", "seed", "--seed", "3"])
    second = runner.invoke(app, ["demo", "seed"])

    assert first.exit_code == 0, first.output
    assert "casey.cm@demo.drive-assist.invalid" in first.output
    assert DEMO_PASSWORD in first.output
    assert second.exit_code == 1
    assert "already holds data" in second.output


def test_the_demo_seed_command_outside_demo_mode_refuses_and_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from cli.main import app

    database = tmp_path / "real.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("DEMO_MODE", "false")

    result = CliRunner().invoke(app, ["demo", "seed"])

    assert result.exit_code == 1
    assert "Demo data is added only in demo mode" in result.output
    assert DEMO_PASSWORD not in result.output
    assert not database.exists() or database.stat().st_size == 0
