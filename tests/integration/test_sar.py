"""Subject access exports on SQLite and PostgreSQL: what the bundle holds, what it redacts, who
may make one, what the audit trail keeps, and the ``drive-assist sar export`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.enums import (
    Agency,
    ContactType,
    DashAnswer,
    MaracAppearanceType,
    PersonKind,
    PlaceKind,
    PoliceIncidentType,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import NotFound, NotPermitted, ValidationFailed
from core.models import AuditEvent
from core.rules import DASH_QUESTIONS
from core.schemas.appointments import AppointmentCreate
from core.schemas.cases import CaseAllocate, CaseRead, CaseTransfer, CaseUpdate, StageMove
from core.schemas.contacts import ContactCreate
from core.schemas.interventions import InterventionCreate
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.schemas.people import LinkedPersonCreate
from core.schemas.referrals import PerpetratorDetails, ReferralCreate
from core.schemas.risk import MaracAppearanceCreate, PoliceIncidentCreate, RiskAssessmentCreate
from core.schemas.sar import SarBundle
from core.services import alerts as alert_services
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from core.services import interventions as intervention_services
from core.services import panels as panel_services
from core.services import people as people_services
from core.services import referrals as referral_services
from core.services import risk as risk_services
from core.services import sar as sar_services
from tests.conftest import START
from tests.factories import World
from ui.i18n import Translator
from ui.sar import bundle_html, bundle_json, write_bundle

SUBJECT_NAME = "Quillon Vexbridge-Sartest"
VICTIM_NAME = "Ophira Lumbergast-Sartest"
VICTIM_ADDRESS = "12 Nowhere Crescent, Fictiontown"
CHILD_NAME = "Pipkin Lumbergast-Sartest"
SAFETY_NOTE = "Safety plan code word zephyrine"
CONTACT_NOTE = "Talked about anger <script>alert('x')</script> & triggers"


async def _full_case(world: World) -> CaseRead:
    """An allocated HER case with a record of every kind, touched by staff of several agencies."""
    uow = world.container.uow
    sm = world.actor(Role.SERVICE_MANAGER)
    cm = world.actor(Role.CASE_MANAGER)
    idva = world.actor(Role.IDVA)
    police = world.actor(Role.POLICE_FELLOW)
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    panel_member = world.actor(Role.PANEL_MEMBER)
    case = await world.allocated_case()
    case = await case_services.update_case(
        uow=uow(),
        actor=sm,
        case_id=case.id,
        data=CaseUpdate(
            version=case.version,
            subject_name=SUBJECT_NAME,
            subject_address="1 Subject Street, Fictiontown",
        ),
    )
    for kind, name in ((PersonKind.VICTIM, VICTIM_NAME), (PersonKind.CHILD, CHILD_NAME)):
        await people_services.add_linked_person(
            uow=uow(),
            actor=idva,
            data=LinkedPersonCreate(
                case_id=case.id,
                kind=kind,
                name=name,
                address=VICTIM_ADDRESS,
                safety_notes=SAFETY_NOTE,
            ),
        )
    await contact_services.log_contact(
        uow=uow(),
        actor=cm,
        data=ContactCreate(
            case_id=case.id,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=45,
            categories=frozenset({WorkCategory.BEHAVIOUR_CHANGE}),
            notes=CONTACT_NOTE,
        ),
    )
    await appointment_services.book_appointment(
        uow=uow(),
        actor=cm,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=START + timedelta(days=2),
            ends_at=START + timedelta(days=2, hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    await risk_services.record_risk_assessment(
        uow=uow(),
        actor=idva,
        data=RiskAssessmentCreate(case_id=case.id, level=RiskLevel.HIGH, reason="Escalating"),
    )
    await risk_services.record_marac_appearance(
        uow=uow(), actor=cm, data=MaracAppearanceCreate(case_id=case.id, heard_on=date(2026, 2, 1))
    )
    await risk_services.record_police_incident(
        uow=uow(),
        actor=police,
        data=PoliceIncidentCreate(
            case_id=case.id, occurred_on=date(2026, 2, 10), police_reference="PX-000-SAR"
        ),
    )
    await intervention_services.add_intervention(
        uow=uow(),
        actor=police,
        data=InterventionCreate(case_id=case.id, kind_code="dvpn_dvpo", agency=Agency.POLICE),
    )
    alert = await alert_services.raise_disruption_alert(uow=uow(), actor=cm, case_id=case.id)
    await alert_services.acknowledge_alert(uow=uow(), actor=police, alert_id=alert.id)
    meeting = await panel_services.schedule_panel_meeting(
        uow=uow(),
        actor=coordinator,
        data=PanelMeetingCreate(site_id=case.site_id, starts_at=START + timedelta(days=7)),
    )
    await panel_services.add_agenda_item(
        uow=uow(), actor=coordinator, meeting_id=meeting.id, case_id=case.id
    )
    await panel_services.add_panel_action(
        uow=uow(),
        actor=coordinator,
        data=PanelActionCreate(
            meeting_id=meeting.id,
            case_id=case.id,
            description="Check licence conditions",
            owner_user_id=panel_member.user_id,
            due_on=date(2026, 3, 20),
        ),
    )
    return case


async def _export(world: World, reference: str, site: str = "HER") -> SarBundle:
    return await sar_services.export_subject_access(
        uow=world.container.uow(), actor=world.actor(Role.ADMIN, site), reference=reference
    )


async def _sar_audits(world: World) -> list[tuple[int | None, int | None, dict[str, Any]]]:
    """Each ``sar.export`` audit event as (case id, actor id, details)."""
    async with world.container.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEvent.case_id, AuditEvent.actor_user_id, AuditEvent.details).where(
                AuditEvent.action == "sar.export"
            )
        )
        return [(case_id, actor_id, details) for case_id, actor_id, details in rows]


async def test_an_admin_exports_every_kind_of_record_held_about_the_subject(world: World) -> None:
    case = await _full_case(world)

    bundle = await _export(world, case.reference.lower())

    assert bundle.subject.reference == case.reference
    assert bundle.subject.subject_name == SUBJECT_NAME
    assert [contact.notes for contact in bundle.contacts] == [CONTACT_NOTE]
    assert bundle.free_text_review is True
    assert len(bundle.stage_history) == 2  # referred, then allocated
    assert [risk.level for risk in bundle.risk_assessments] == [RiskLevel.HIGH]
    assert len(bundle.appointments) == 1
    assert [i.kind_code for i in bundle.interventions] == ["dvpn_dvpo"]
    assert [i.agency for i in bundle.interventions] == [Agency.POLICE]
    assert len(bundle.panel_discussions) == 1
    assert [a.description for a in bundle.panel_actions] == ["Check licence conditions"]
    assert [m.heard_on for m in bundle.marac_appearances] == [date(2026, 2, 1)]
    assert [i.police_reference for i in bundle.police_incidents] == ["PX-000-SAR"]
    assert len(bundle.alerts) == 1


async def test_victims_and_children_are_only_counted_and_other_agencies_staff_are_not_named(
    world: World,
) -> None:
    case = await _full_case(world)

    bundle = await _export(world, case.reference)
    text = bundle_json(bundle)

    assert bundle.linked_people == {PersonKind.VICTIM: 1, PersonKind.CHILD: 1}
    for secret in (VICTIM_NAME, CHILD_NAME, VICTIM_ADDRESS, SAFETY_NOTE):
        assert secret not in text
    police, idva, probation = (
        world.actor(Role.POLICE_FELLOW),
        world.actor(Role.IDVA),
        world.actor(Role.PANEL_MEMBER),
    )
    for other_agency in (police, idva, probation):
        assert other_agency.display_name not in text
    assert bundle.alerts[0].acknowledged_by is not None
    assert bundle.alerts[0].acknowledged_by.display == "[redacted: police]"
    assert bundle.risk_assessments[0].assessed_by is not None
    assert bundle.risk_assessments[0].assessed_by.display == "[redacted: idva_service]"
    assert bundle.panel_actions[0].owner is not None
    assert bundle.panel_actions[0].owner.display == "[redacted: probation]"
    case_manager = world.actor(Role.CASE_MANAGER)
    assert bundle.contacts[0].staff is not None
    assert bundle.contacts[0].staff.name == case_manager.display_name  # Drive's own staff


async def test_the_readable_page_escapes_markup_in_notes_and_shows_the_review_warning(
    world: World,
) -> None:
    case = await _full_case(world)
    bundle = await _export(world, case.reference)

    page = bundle_html(bundle, Translator("en_GB"))

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; triggers" in page
    assert SUBJECT_NAME in page
    assert VICTIM_NAME not in page
    assert "review them for anything about another person" in page
    assert "[redacted: Police Drive Fellow, Police]" in page
    assert "<h1>Subject access bundle for case " + case.reference in page


async def test_the_welsh_page_speaks_welsh_in_its_language_attribute(world: World) -> None:
    case = await _full_case(world)
    bundle = await _export(world, case.reference)

    page = bundle_html(bundle, Translator("cy"))

    assert '<html lang="cy">' in page
    assert SUBJECT_NAME in page


async def test_only_an_admin_of_the_case_site_may_export_and_a_refusal_audits_nothing(
    world: World,
) -> None:
    case = await _full_case(world)

    for role in (Role.SERVICE_MANAGER, Role.CASE_MANAGER, Role.IDVA, Role.POLICE_FELLOW):
        with pytest.raises(NotPermitted):
            await sar_services.export_subject_access(
                uow=world.container.uow(), actor=world.actor(role), reference=case.reference
            )
    with pytest.raises(NotFound):
        await _export(world, case.reference, site="WOR")
    for nonsense in ("X" * 10_000, "HER-\x00", "' OR 1=1 --", ""):
        with pytest.raises(ValidationFailed):
            await _export(world, nonsense)
    assert await _sar_audits(world) == []


async def test_an_admin_elsewhere_who_works_the_case_site_in_another_role_cannot_export(
    world: World,
) -> None:
    case = await _full_case(world)
    admin_elsewhere = await world.add_actor(
        "admin.both@test.invalid", [("WOR", Role.ADMIN), ("HER", Role.CASE_MANAGER)]
    )

    with pytest.raises(NotFound):
        await sar_services.export_subject_access(
            uow=world.container.uow(), actor=admin_elsewhere, reference=case.reference
        )
    assert await _sar_audits(world) == []


async def test_the_export_is_audited_with_ids_and_counts_only(world: World) -> None:
    case = await _full_case(world)

    await _export(world, case.reference)

    [(case_id, actor_id, details)] = await _sar_audits(world)
    assert case_id == case.id
    assert actor_id == world.actor(Role.ADMIN).user_id
    assert details["counts"]["contacts"] == 1
    assert details["counts"]["linked_victim"] == 1
    stored = json.dumps(details)
    for secret in (SUBJECT_NAME, VICTIM_NAME, CONTACT_NOTE, "Check licence conditions"):
        assert secret not in stored


async def test_the_bundle_is_written_to_a_folder_or_a_zip_and_never_overwrites(
    world: World, tmp_path: Path
) -> None:
    case = await _full_case(world)
    bundle = await _export(world, case.reference)
    translator = Translator("en_GB")

    folder_files = write_bundle(bundle, translator, tmp_path / "out")
    archive = write_bundle(bundle, translator, tmp_path / "sar.zip")

    assert sorted(path.name for path in folder_files) == [
        f"sar-{case.reference}.html",
        f"sar-{case.reference}.json",
    ]
    loaded = json.loads((tmp_path / "out" / f"sar-{case.reference}.json").read_text())
    assert loaded["subject"]["subject_name"] == SUBJECT_NAME
    with zipfile.ZipFile(archive[0]) as opened:
        assert sorted(opened.namelist()) == [
            f"sar-{case.reference}.html",
            f"sar-{case.reference}.json",
        ]
    with pytest.raises(FileExistsError):
        write_bundle(bundle, translator, tmp_path / "out")
    with pytest.raises(FileExistsError):
        write_bundle(bundle, translator, tmp_path / "sar.zip")


# --- The command line --------------------------------------------------------------------------


def _run_cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", "COLUMNS": "200"}
    if args[:2] == ("demo", "seed"):
        env["DEMO_MODE"] = "true"  # the demo is seeded only in demo mode
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_drive_assist_sar_export_writes_a_zip_and_explains_every_refusal(tmp_path: Path) -> None:
    database = tmp_path / "sar.sqlite3"
    assert _run_cli("db", "upgrade", database=database).returncode == 0
    assert _run_cli("demo", "seed", database=database).returncode == 0
    admin, case_manager = "admin@demo.drive-assist.invalid", "casey.cm@demo.drive-assist.invalid"
    output = tmp_path / "bundle.zip"

    def export(reference: str, email: str, output: Path) -> subprocess.CompletedProcess[str]:
        return _run_cli(
            "sar", "export", reference, "--as", email, "--output", str(output), database=database
        )

    done = export("HER-0001", admin, output)
    again = export("HER-0001", admin, output)
    missing = export("HER-9999", admin, tmp_path / "m")
    refused = export("HER-0001", case_manager, tmp_path / "r")

    assert done.returncode == 0, done.stderr
    assert "Review notes and other free text" in done.stdout
    with zipfile.ZipFile(output) as opened:
        bundle = json.loads(opened.read("sar-HER-0001.json"))
    assert bundle["subject"]["reference"] == "HER-0001"
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert missing.returncode == 1
    assert "We could not find that record" in missing.stderr
    assert refused.returncode == 1
    assert "You do not have permission to do that" in refused.stderr
    assert not (tmp_path / "r").exists()


REFERRER_CONTACT = "Duty desk, probation.sartest@probation.test.invalid"
STAGE_REASON = "Engaging after the second session"
INCIDENT_NOTE = "Call-out, subject left before arrival"


async def test_the_bundle_holds_the_case_work_details_and_redacts_the_referrer_and_dash_answers(
    world: World,
) -> None:
    sm = world.actor(Role.SERVICE_MANAGER)
    cm = world.actor(Role.CASE_MANAGER)
    made = await referral_services.record_referral(
        uow=world.container.uow(),
        actor=sm,
        data=ReferralCreate(
            site_id=world.sites["HER"].id,
            referral_date=date(2026, 2, 20),
            referral_source=ReferralSource.OTHER,
            referral_reason=ReferralReason.SERIAL,
            subject=PerpetratorDetails(
                name=SUBJECT_NAME,
                gender="Not stated",
                phone="07700 900123",
                languages="English, Welsh",
                interpreter_needed=True,
            ),
            referrer_agency="Probation",
            referrer_contact=REFERRER_CONTACT,
            dash_answers={q: DashAnswer.NO for q in DASH_QUESTIONS} | {"q9": DashAnswer.YES},
        ),
    )
    case = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=sm,
        case_id=made.case.id,
        data=CaseAllocate(version=made.case.version, case_manager_id=cm.user_id),
    )
    case = await case_services.change_stage(
        uow=world.container.uow(),
        actor=sm,
        case_id=case.id,
        data=StageMove(version=case.version, to_stage=Stage.ENGAGING, reason=STAGE_REASON),
    )
    await risk_services.record_marac_appearance(
        uow=world.container.uow(),
        actor=cm,
        data=MaracAppearanceCreate(
            case_id=case.id,
            heard_on=date(2026, 2, 25),
            appearance_type=MaracAppearanceType.REPEAT,
            description="Heard again after a new incident",
        ),
    )
    await risk_services.record_police_incident(
        uow=world.container.uow(),
        actor=world.actor(Role.POLICE_FELLOW),
        data=PoliceIncidentCreate(
            case_id=case.id,
            occurred_on=date(2026, 2, 24),
            incident_type=PoliceIncidentType.DOMESTIC_ABUSE,
            description=INCIDENT_NOTE,
        ),
    )
    both = await world.add_actor(
        "both.sar@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    moved = await case_services.transfer_case(
        uow=world.container.uow(),
        actor=both,
        case_id=case.id,
        data=CaseTransfer(version=case.version, to_site_id=world.sites["WOR"].id),
    )

    bundle = await _export(world, moved.reference, site="WOR")
    subject = bundle.subject

    assert [(f.reference, f.site_code) for f in subject.former_references] == [
        (case.reference, "HER")
    ]
    assert (subject.referral_source, subject.referral_reason) == (
        ReferralSource.OTHER,
        ReferralReason.SERIAL,
    )
    assert (subject.subject_gender, subject.subject_phone, subject.subject_languages) == (
        "Not stated",
        "07700 900123",
        "English, Welsh",
    )
    assert subject.subject_interpreter_needed is True
    assert subject.referrer_agency == "Probation"
    assert subject.referrer_contact_redacted is True
    assert subject.dash_checklist_redacted is True
    assert subject.dash_score is not None and subject.episode == 1
    engaging = [c for c in bundle.stage_history if c.to_stage is Stage.ENGAGING]
    assert [(c.reason, c.episode) for c in engaging] == [(STAGE_REASON, 1)]
    assert engaging[0].effective_on is not None
    assert [(m.appearance_type, m.description) for m in bundle.marac_appearances] == [
        (MaracAppearanceType.REPEAT, "Heard again after a new incident")
    ]
    assert [(i.incident_type, i.description) for i in bundle.police_incidents] == [
        (PoliceIncidentType.DOMESTIC_ABUSE, INCIDENT_NOTE)
    ]
    english = Translator("en_GB")
    page = bundle_html(bundle, english)
    for text in (bundle_json(bundle), page):
        assert "probation.sartest" not in text  # the referrer's contact: never in the bundle
        assert "q9" not in text and "pregnant" not in text  # nor the victim's DASH answers
    for shown in (case.reference, STAGE_REASON, INCIDENT_NOTE, "Repeat appearance", "Probation"):
        assert shown in page
    assert "[redacted: a third party]" in page
