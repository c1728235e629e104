"""The closed-case retention policy: a dry run says what would go and changes nothing; applying
it removes the personal data of cases closed longer ago than the site's rule, keeps every date,
flag and count, leaves the funder return and outcome measures over that period unchanged, is
audited with counts only, and does nothing the second time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.clock import FixedClock
from core.enums import (
    AppointmentStatus,
    ClosureReason,
    ContactType,
    PersonKind,
    PlaceKind,
    RiskLevel,
    Role,
    WorkCategory,
)
from core.errors import NotPermitted, ValidationFailed
from core.models import (
    Appointment,
    AuditEvent,
    Case,
    Contact,
    LinkedPerson,
    PoliceIncident,
    RiskAssessment,
)
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentOutcome
from core.schemas.cases import CaseClose, CaseRead, CaseUpdate
from core.schemas.contacts import ContactCreate
from core.schemas.people import LinkedPersonCreate
from core.schemas.risk import PoliceIncidentCreate, RiskAssessmentCreate
from core.services import appointments as appointment_services
from core.services import audit as audit_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from core.services import people as people_services
from core.services import reports as report_services
from core.services import retention as retention_services
from core.services import risk as risk_services
from tests.factories import World

SUBJECT_NAME = "Testy McFictional"
VICTIM_NAME = "Zyxwv Imaginary"
NOTE = "Met at the Umbervale library; talked about the Quillford flat."


async def worked_then_closed_case(world: World) -> CaseRead:
    """A case with personal data in every place the policy clears, then closed."""
    container, site = world.container, "HER"
    case = await world.allocated_case(site)
    manager, idva = world.actor(Role.CASE_MANAGER, site), world.actor(Role.IDVA, site)
    case = await case_services.update_case(
        uow=container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseUpdate(
            version=case.version,
            subject_name=SUBJECT_NAME,
            subject_date_of_birth=date(1980, 1, 2),
            subject_address="1 Nowhere Lane, Fictiontown",
        ),
    )
    await people_services.add_linked_person(
        uow=container.uow(),
        actor=idva,
        data=LinkedPersonCreate(
            case_id=case.id,
            kind=PersonKind.VICTIM,
            name=VICTIM_NAME,
            date_of_birth=date(1985, 3, 4),
            address="2 Nowhere Lane",
            contact="07700 900000",
            safety_notes="Safe word: teapot",
            relationship_to_subject="ex-partner",
        ),
    )
    await contact_services.log_contact(
        uow=container.uow(),
        actor=manager,
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=45,
            topics=["Umbervale"],
            notes=NOTE,
            next_steps="Call the Quillford housing office",
        ),
    )
    await risk_services.record_risk_assessment(
        uow=container.uow(),
        actor=idva,
        data=RiskAssessmentCreate(case_id=case.id, level=RiskLevel.HIGH, reason=NOTE),
    )
    await risk_services.record_police_incident(
        uow=container.uow(),
        actor=world.actor(Role.POLICE_FELLOW, site),
        data=PoliceIncidentCreate(
            case_id=case.id, occurred_on=date(2026, 2, 1), police_reference="CRN-0001"
        ),
    )
    starts_at = container.clock.now() - timedelta(hours=2)
    appointment = await appointment_services.book_appointment(
        uow=container.uow(),
        actor=manager,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    await appointment_services.record_appointment_outcome(
        uow=container.uow(),
        actor=manager,
        appointment_id=appointment.id,
        data=AppointmentOutcome(status=AppointmentStatus.ATTENDED, outcome=NOTE),
    )
    current = await case_services.get_case(uow=container.uow(), actor=manager, case_id=case.id)
    return await case_services.close_case(
        uow=container.uow(),
        actor=manager,
        case_id=case.id,
        data=CaseClose(version=current.version, reason=ClosureReason.COMPLETED),
    )


async def database_text(world: World) -> str:
    """Every row of the tables that hold case data, as one string."""
    tables = (
        "cases",
        "linked_people",
        "contacts",
        "risk_assessments",
        "appointments",
        "police_incidents",
    )
    async with world.container.engine.connect() as connection:
        rows = [
            repr(tuple(row))
            for name in tables
            for row in (await connection.execute(text(f"SELECT * FROM {name}"))).all()
        ]
    return "\n".join(rows)


async def figures(world: World, site_id: int) -> tuple[object, dict[str, object]]:
    """The report over the period, and the raw counts it rests on."""
    report = await report_services.build_report(
        uow=world.container.uow(),
        actor=world.actor(Role.ADMIN, "HER"),
        site_id=site_id,
        period_from=date(2026, 1, 1),
        period_to=date(2026, 12, 31),
    )
    async with world.container.session_factory() as session:
        counts: dict[str, object] = {
            "cases": (
                await session.execute(
                    select(Case.stage, Case.closure_reason, func.count())
                    .where(Case.site_id == site_id)
                    .group_by(Case.stage, Case.closure_reason)
                )
            ).all(),
            "contacts": (
                await session.execute(
                    select(
                        Contact.contact_type, func.count(), func.sum(Contact.duration_minutes)
                    ).group_by(Contact.contact_type)
                )
            ).all(),
            "risk": (
                await session.execute(
                    select(RiskAssessment.level, func.count()).group_by(RiskAssessment.level)
                )
            ).all(),
            "victims": await session.scalar(select(func.count()).select_from(LinkedPerson)),
            "incidents": await session.scalar(select(func.count()).select_from(PoliceIncident)),
            "appointments": (
                await session.execute(
                    select(Appointment.status, func.count()).group_by(Appointment.status)
                )
            ).all(),
        }
    return report, counts


async def test_applying_the_policy_removes_personal_data_and_keeps_every_figure(
    world: World, clock: FixedClock
) -> None:
    old_case = await worked_then_closed_case(world)
    site_id = world.sites["HER"].id
    await retention_services.set_case_retention(
        uow=world.container.uow(), actor=Actor.system(), site_code="HER", years=2
    )
    clock.advance(timedelta(days=365 * 2 + 30))
    recent_case = await worked_then_closed_case(world)  # closed a month ago: kept
    report_before, counts_before = await figures(world, site_id)

    plan = await retention_services.plan_retention(uow=world.container.uow(), actor=Actor.system())

    assert [(p.site_code, p.years, p.cases) for p in plan.sites] == [("HER", 2, 1)]
    expected_fields = {
        "cases.subject_name": 1,
        "cases.subject_date_of_birth": 1,
        "cases.subject_address": 1,
        "cases.subject_gender": 0,
        "cases.subject_phone": 0,
        "cases.subject_languages": 0,
        "cases.subject_name_key": 1,
        "cases.subject_surname_key": 1,
        "cases.referrer_contact": 0,
        "cases.dash_answers": 0,
        "cases.closure_reason_other": 0,
        "linked_people.name": 1,
        "linked_people.date_of_birth": 1,
        "linked_people.address": 1,
        "linked_people.contact": 1,
        "linked_people.safety_notes": 1,
        "linked_people.relationship_to_subject": 1,
        "contacts.notes": 1,
        "contacts.next_steps": 1,
        "contacts.topics": 1,
        "appointments.outcome": 1,
        "risk_assessments.reason": 1,
        "police_incidents.police_reference": 1,
        "disruption_alerts.action_taken": 0,
        "panel_actions.description": 0,
    }
    assert plan.sites[0].fields_by_column == expected_fields
    assert plan.applied is False
    assert (await database_text(world)).count(VICTIM_NAME) == 2  # the dry run changed nothing

    progress: list[tuple[str, int, int]] = []
    applied = await retention_services.apply_retention(
        uow=world.container.uow(),
        actor=Actor.system(),
        batch_size=1,
        progress=lambda *step: progress.append(step),
    )

    assert applied.applied is True
    assert [(s.site_code, s.cases, s.fields_cleared) for s in applied.sites] == [
        ("HER", 1, sum(expected_fields.values()))
    ]
    assert progress[0] == ("HER", 0, 1) and progress[-1] == ("HER", 1, 1)
    async with world.container.session_factory() as session:
        old = await session.get(Case, old_case.id)
        recent = await session.get(Case, recent_case.id)
        assert old is not None and recent is not None
        assert (old.subject_name, old.subject_date_of_birth, old.subject_address) == (
            None,
            None,
            None,
        )
        assert old.anonymised_at == clock.now()
        assert (old.reference, old.closed_at, old.closure_reason, old.dash_score) == (
            old_case.reference,
            old_case.closed_at,
            ClosureReason.COMPLETED,
            old_case.dash_score,
        )
        assert (recent.subject_name, recent.anonymised_at) == (SUBJECT_NAME, None)
        old_contact = await session.scalar(select(Contact).where(Contact.case_id == old_case.id))
        assert old_contact is not None
        assert (old_contact.notes, old_contact.next_steps, old_contact.topics) == (None, None, [])
        assert (old_contact.duration_minutes, old_contact.contact_type) == (
            45,
            ContactType.FACE_TO_FACE,
        )
    # Only the recent case still holds the words; the old one's are gone everywhere.
    stored = await database_text(world)
    assert stored.count(VICTIM_NAME) == 1
    assert stored.count("CRN-0001") == 1
    # The recent case's contact note and topic, risk reason and appointment outcome.
    assert stored.count("Umbervale") == 4
    report_after, counts_after = await figures(world, site_id)
    assert report_after == report_before
    assert counts_after == counts_before

    # Audited with counts only; a second run finds nothing to do.
    async with world.container.session_factory() as session:
        audited = (
            await session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "retention.anonymise")
            )
        ).all()
    assert audited == [{"years": 2, "cases": 1, "fields": sum(expected_fields.values())}]
    again = await retention_services.apply_retention(
        uow=world.container.uow(), actor=Actor.system()
    )
    assert [(s.cases, s.fields_cleared) for s in again.sites] == [(0, 0)]
    assert (
        await audit_services.verify_audit_chain(uow=world.container.uow(), actor=Actor.system())
    ).ok


async def test_a_site_without_a_policy_keeps_its_closed_cases(
    world: World, clock: FixedClock
) -> None:
    await worked_then_closed_case(world)
    clock.advance(timedelta(days=365 * 30))

    plan = await retention_services.plan_retention(uow=world.container.uow(), actor=Actor.system())
    applied = await retention_services.apply_retention(
        uow=world.container.uow(), actor=Actor.system()
    )

    assert (plan.sites, applied.sites) == ([], [])
    assert (await database_text(world)).count(VICTIM_NAME) == 1


async def test_only_the_sites_admin_or_the_host_operator_set_and_run_the_policy(
    world: World,
) -> None:
    with pytest.raises(NotPermitted):
        await retention_services.set_case_retention(
            uow=world.container.uow(),
            actor=world.actor(Role.ADMIN, "WOR"),
            site_code="HER",
            years=3,
        )
    with pytest.raises(NotPermitted):
        await retention_services.plan_retention(
            uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER, "HER")
        )
    with pytest.raises(ValidationFailed):
        await retention_services.set_case_retention(
            uow=world.container.uow(), actor=Actor.system(), site_code="HER", years=0
        )
    admin = world.actor(Role.ADMIN, "HER")
    saved = await retention_services.set_case_retention(
        uow=world.container.uow(), actor=admin, site_code="HER", years=6
    )
    plan = await retention_services.plan_retention(uow=world.container.uow(), actor=admin)

    assert saved.closed_case_retention_years == 6
    assert [(p.site_code, p.years, p.cases) for p in plan.sites] == [("HER", 6, 0)]
    async with world.container.session_factory() as session:
        details = await session.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "retention.set")
        )
    assert details == {"years": 6, "previous_years": None}


# --- the command line -----------------------------------------------------------------------


def run_cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", "COLUMNS": "200"}
    if args[:2] == ("demo", "seed"):
        env["DEMO_MODE"] = "true"  # the demo is seeded only in demo mode
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_operator_sets_a_policy_and_runs_it_dry_then_for_real(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    assert run_cli("db", "upgrade", database=database).returncode == 0
    assert run_cli("demo", "seed", "--seed", "7", database=database).returncode == 0

    set_result = run_cli("retention", "set", "--site", "HER", "--years", "1", database=database)
    neither = run_cli("retention", "run", database=database)
    dry = run_cli("retention", "run", "--dry-run", "--site", "HER", database=database)
    applied = run_cli("retention", "run", "--apply", "--site", "HER", database=database)

    assert set_result.returncode == 0, set_result.stderr
    assert "Closed cases at HER are anonymised 1 year after they closed." in set_result.stdout
    assert neither.returncode != 0
    assert dry.returncode == 0, dry.stderr
    assert "HER: " in dry.stdout and "would be anonymised" in dry.stdout
    assert "Dry run: nothing was changed." in dry.stdout
    assert applied.returncode == 0, applied.stderr
    assert "anonymised" in applied.stdout and "would be" not in applied.stdout
