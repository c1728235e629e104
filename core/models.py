"""ORM mappings (SQLAlchemy 2 typed). Only services touch these; faces see pydantic read models.

Fields marked *restricted* hold personal data about victims and children: only the victim
services return them, to the roles the policy allows, and every read is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, str_enum
from core.db.types import UTCDateTime
from core.enums import (
    Agency,
    AlertStatus,
    AppointmentStatus,
    AttendanceStatus,
    Channel,
    ClosureReason,
    ContactType,
    Face,
    InterventionStatus,
    KindGroup,
    Lane,
    Locale,
    MaracAppearanceType,
    NotificationKind,
    OutboxState,
    PanelActionStatus,
    PanelMeetingStatus,
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
from core.sealing import SealedString


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Delete the bot's messages to this site's staff once they are this many hours old;
    # None: keep them.
    bot_message_retention_hours: Mapped[int | None] = mapped_column(Integer)
    # Anonymise this site's cases this many whole years after they closed (see
    # core.services.retention); None: keep them.
    closed_case_retention_years: Mapped[int | None] = mapped_column(SmallInteger)
    # Roles (codes) that may record a new referral here besides the service manager and the
    # panel coordinator (see core.services.referrals); None: no one else.
    referral_roles: Mapped[list[str] | None] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    locale: Mapped[Locale] = mapped_column(str_enum(Locale, 8), default=Locale.EN_GB)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes before an appointment to remind this person; None: the default (a day and an
    # hour before, see core.notifications).
    reminder_lead_minutes: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Web sign-in's second factor (RFC 6238, base32). Set when enrolment starts, confirmed by
    # ``totp_enrolled_at``; ``totp_last_step`` is the last 30-second step accepted, so a code
    # cannot be used twice.
    # Sealed in the database (core.sealing): a stolen backup holds no usable second factor.
    totp_secret: Mapped[str | None] = mapped_column(SealedString())
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set when many failed sign-ins from several clients lock the account (core.services.auth);
    # cleared by the person's own reset link or by a service manager or admin.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A UK mobile number for text messages (GOV.UK Notify), as +447...; optional. Sealed in the
    # database like the second factor, and never logged.
    mobile_number: Mapped[str | None] = mapped_column(SealedString())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class Membership(Base):
    """A role a user holds at one site. A user may hold several roles at several sites."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "site_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    agency: Mapped[Agency | None] = mapped_column(str_enum(Agency))

    user: Mapped[User] = relationship(back_populates="memberships")
    site: Mapped[Site] = relationship(lazy="joined")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("site_id", "reference"),
        Index("ix_cases_case_manager_stage", "case_manager_id", "stage"),
        Index("ix_cases_site_stage", "site_id", "stage"),
        # The duplicate check at referral: same folded surname, and a date of birth among two.
        Index("ix_cases_subject_match", "subject_surname_key", "subject_date_of_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    reference: Mapped[str] = mapped_column(String(16))
    # The perpetrator's own identity: visible to the site's staff, never sent in a chat message.
    subject_name: Mapped[str | None] = mapped_column(String(200))
    subject_date_of_birth: Mapped[date | None] = mapped_column(Date)
    subject_address: Mapped[str | None] = mapped_column(Text)
    subject_gender: Mapped[str | None] = mapped_column(String(40))
    subject_phone: Mapped[str | None] = mapped_column(String(40))
    subject_languages: Mapped[str | None] = mapped_column(String(200))
    subject_interpreter_needed: Mapped[bool | None] = mapped_column(Boolean)
    # The name folded for matching (core.names): case, accents, spacing and punctuation gone.
    # Kept by the services whenever ``subject_name`` changes; None when there is no name.
    subject_name_key: Mapped[str | None] = mapped_column(String(200))
    subject_surname_key: Mapped[str | None] = mapped_column(String(120))

    referral_date: Mapped[date] = mapped_column(Date)
    referral_source: Mapped[ReferralSource] = mapped_column(str_enum(ReferralSource))
    referral_reason: Mapped[ReferralReason] = mapped_column(str_enum(ReferralReason))
    dash_score: Mapped[int | None] = mapped_column(SmallInteger)
    # The DASH checklist as answered at referral ({"q1": "yes", ...}); None: a score typed in.
    dash_answers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    referrer_agency: Mapped[str | None] = mapped_column(String(120))
    referrer_contact: Mapped[str | None] = mapped_column(Text)
    # 1 for the first referral; a reopened case starts the next episode.
    episode: Mapped[int] = mapped_column(SmallInteger, default=1, server_default=text("1"))

    stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    planned_end: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closure_reason: Mapped[ClosureReason | None] = mapped_column(str_enum(ClosureReason))
    closure_reason_other: Mapped[str | None] = mapped_column(Text)

    # The four abuse types the evaluation tracked; None means not yet recorded.
    start_physical: Mapped[bool | None] = mapped_column(Boolean)
    start_sexual: Mapped[bool | None] = mapped_column(Boolean)
    start_harassment_stalking: Mapped[bool | None] = mapped_column(Boolean)
    start_jealous_controlling: Mapped[bool | None] = mapped_column(Boolean)
    closure_physical: Mapped[bool | None] = mapped_column(Boolean)
    closure_sexual: Mapped[bool | None] = mapped_column(Boolean)
    closure_harassment_stalking: Mapped[bool | None] = mapped_column(Boolean)
    closure_jealous_controlling: Mapped[bool | None] = mapped_column(Boolean)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # When the retention policy removed this case's personal data; None: not anonymised.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}

    site: Mapped[Site] = relationship(lazy="joined")
    case_manager: Mapped[User | None] = relationship(lazy="joined")


class CaseStageChange(Base):
    """The dated history of a case's stage: one row per move, including the first."""

    __tablename__ = "case_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(str_enum(Stage))
    to_stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    closure_reason: Mapped[ClosureReason | None] = mapped_column(str_enum(ClosureReason))
    closure_reason_other: Mapped[str | None] = mapped_column(Text)
    # When the move took effect: ``changed_at`` is that moment, ``effective_on`` the day given
    # (None on rows from before revision 0009: the day of ``changed_at``).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    episode: Mapped[int] = mapped_column(SmallInteger, default=1, server_default=text("1"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # On the move to *closed*: the abuse types at that closure, kept with its episode (reopening
    # clears the case's own; the outcome measures count each closed episode). None elsewhere.
    closure_physical: Mapped[bool | None] = mapped_column(Boolean)
    closure_sexual: Mapped[bool | None] = mapped_column(Boolean)
    closure_harassment_stalking: Mapped[bool | None] = mapped_column(Boolean)
    closure_jealous_controlling: Mapped[bool | None] = mapped_column(Boolean)


class CaseFormerReference(Base):
    """A reference a case held at a site it has since been transferred from.

    It stays findable (``find_case``) and is never issued again at that site.
    """

    __tablename__ = "case_former_references"
    __table_args__ = (
        UniqueConstraint("site_id", "reference"),
        Index("ix_case_former_references_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    reference: Mapped[str] = mapped_column(String(16))
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _same_as_created(context: Any) -> Any:
    """An insert's ``created_at``, as the default of its ``updated_at``."""
    return context.get_current_parameters()["created_at"]


class LinkedPerson(Base):
    """An adult victim or a child linked to a case. Every field but the kind is restricted."""

    __tablename__ = "linked_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PersonKind] = mapped_column(str_enum(PersonKind))
    name: Mapped[str | None] = mapped_column(String(200))  # restricted
    date_of_birth: Mapped[date | None] = mapped_column(Date)  # restricted
    address: Mapped[str | None] = mapped_column(Text)  # restricted
    contact: Mapped[str | None] = mapped_column(Text)  # restricted
    safety_notes: Mapped[str | None] = mapped_column(Text)  # restricted
    relationship_to_subject: Mapped[str | None] = mapped_column(String(60))  # restricted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last edit; a row made without one takes its ``created_at``.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_same_as_created)
    # The day the link to the case ended (moved on, no longer at risk from the subject...);
    # None while current. An ended link stays, as history.
    ended_on: Mapped[date | None] = mapped_column(Date)
    # The IDVA supporting this person: her "My cases" (core.services.people.my_idva_cases).
    assigned_idva_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class RiskAssessment(Base):
    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_case_assessed", "case_id", "assessed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    level: Mapped[RiskLevel] = mapped_column(str_enum(RiskLevel))
    dash_score: Mapped[int | None] = mapped_column(SmallInteger)
    dash_answers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assessor_role: Mapped[Role | None] = mapped_column(str_enum(Role))


class MaracAppearance(Base):
    __tablename__ = "marac_appearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    heard_on: Mapped[date] = mapped_column(Date)
    appearance_type: Mapped[MaracAppearanceType | None] = mapped_column(
        str_enum(MaracAppearanceType)
    )
    description: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PoliceIncident(Base):
    __tablename__ = "police_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    police_reference: Mapped[str | None] = mapped_column(String(40))
    incident_type: Mapped[PoliceIncidentType | None] = mapped_column(str_enum(PoliceIncidentType))
    description: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_case_starts", "case_id", "starts_at"),
        Index("ix_appointments_staff_starts", "staff_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place_kind: Mapped[PlaceKind] = mapped_column(str_enum(PlaceKind))
    status: Mapped[AppointmentStatus] = mapped_column(str_enum(AppointmentStatus))
    outcome: Mapped[str | None] = mapped_column(Text)
    rescheduled_to_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contact(Base):
    """A contact with the perpetrator, or an attempt at one."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_case_occurred", "case_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    contact_type: Mapped[ContactType] = mapped_column(str_enum(ContactType))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    is_disruption: Mapped[bool] = mapped_column(Boolean, default=False)
    is_support: Mapped[bool] = mapped_column(Boolean, default=False)
    is_behaviour_change: Mapped[bool] = mapped_column(Boolean, default=False)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def categories(self) -> list[WorkCategory]:
        flags = {
            WorkCategory.DISRUPTION: self.is_disruption,
            WorkCategory.SUPPORT: self.is_support,
            WorkCategory.BEHAVIOUR_CHANGE: self.is_behaviour_change,
        }
        return categories_in_order(category for category, flag in flags.items() if flag)


def categories_in_order(categories: Iterable[WorkCategory]) -> list[WorkCategory]:
    """``categories`` in the order every face lists them: ``WorkCategory``'s own."""
    chosen = set(categories)
    return [category for category in WorkCategory if category in chosen]


class InterventionKind(Base):
    """The seeded catalogue of interventions, per category. Faces translate ``code``."""

    __tablename__ = "intervention_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[WorkCategory] = mapped_column(str_enum(WorkCategory))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Intervention(Base):
    __tablename__ = "interventions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("intervention_kinds.id"))
    agency: Mapped[Agency] = mapped_column(str_enum(Agency))
    status: Mapped[InterventionStatus] = mapped_column(str_enum(InterventionStatus))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    kind: Mapped[InterventionKind] = relationship(lazy="joined")


class PanelMeeting(Base):
    __tablename__ = "panel_meetings"
    __table_args__ = (Index("ix_panel_meetings_site_starts", "site_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[PanelMeetingStatus] = mapped_column(str_enum(PanelMeetingStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PanelAgendaItem(Base):
    __tablename__ = "panel_agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("panel_meetings.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)


class PanelAction(Base):
    __tablename__ = "panel_actions"
    __table_args__ = (Index("ix_panel_actions_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("panel_meetings.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_agency: Mapped[Agency | None] = mapped_column(str_enum(Agency))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PanelActionStatus] = mapped_column(str_enum(PanelActionStatus))
    completed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PanelAttendance(Base):
    __tablename__ = "panel_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("panel_meetings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agency: Mapped[Agency | None] = mapped_column(str_enum(Agency))
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only record of who did or saw what, through which face. Never updated or deleted.

    ``details`` holds codes and ids only, never names, addresses or notes.

    The events form a hash chain (see core.services.audit): ``seq`` runs 1, 2, 3... without
    gaps, ``prev_hash`` is the ``hash`` of event ``seq - 1`` and ``hash`` is the SHA-256 of this
    event's canonical form, so an edited, inserted or deleted row shows up on verification.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_case_occurred", "case_id", "occurred_at"),
        Index("ix_audit_events_actor_occurred", "actor_user_id", "occurred_at"),
        Index("ix_audit_events_site_occurred", "site_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    face: Mapped[Face] = mapped_column(str_enum(Face, 16))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    case_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditChainHead(Base):
    """The one row that holds the end of the audit chain: its last ``seq`` and ``hash``.

    Every append moves it in the same transaction, so deleting the last events (which leaves a
    chain that is whole as far as it goes) is still found: the head is ahead of the last row.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class TelegramLink(Base):
    """A staff account's link to one Telegram user and chat. Nothing else from the profile."""

    __tablename__ = "telegram_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivation_reason: Mapped[str | None] = mapped_column(String(40))


class DisruptionAlert(Base):
    """A case manager's call for police disruption, for the site's police fellow to act on."""

    __tablename__ = "disruption_alerts"
    __table_args__ = (Index("ix_disruption_alerts_status_raised", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    action_taken: Mapped[str | None] = mapped_column(Text)
    actioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Outbox rows still to be sent, or failed and waiting for an admin: what ``ix_outbox_messages_due``
# holds. Sent and cancelled rows, nearly all of them, are left out.
_UNFINISHED = "state IN ('queued', 'sending', 'failed')"


class OutboxMessage(Base):
    """One message to one person through one channel: the only way anything is sent.

    ``message_key`` and ``params`` are rendered in the recipient's language at send time;
    ``params`` hold case references, times and place kinds, never names or addresses.
    ``dedupe_key`` is unique, so a scheduler that runs twice queues a message once.
    """

    __tablename__ = "outbox_messages"
    # Partial indexes, so recording a message sent writes three index entries, not six: the
    # claim and the failed list look only at unfinished rows, and a broadcast or a digest has
    # no case or appointment to be found by (foreign-key lookups name a value, which the
    # planner knows implies NOT NULL).
    __table_args__ = (
        Index(
            "ix_outbox_messages_due", "state", "lane_rank", "not_before",
            postgresql_where=text(_UNFINISHED), sqlite_where=text(_UNFINISHED),
        ),
        Index("ix_outbox_messages_recipient", "recipient_user_id", "state"),
        Index(
            "ix_outbox_messages_case_id", "case_id",
            postgresql_where=text("case_id IS NOT NULL"), sqlite_where=text("case_id IS NOT NULL"),
        ),
        Index(
            "ix_outbox_messages_appointment_id", "appointment_id",
            postgresql_where=text("appointment_id IS NOT NULL"),
            sqlite_where=text("appointment_id IS NOT NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    recipient_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 16))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    lane: Mapped[Lane] = mapped_column(str_enum(Lane, 16))
    lane_rank: Mapped[int] = mapped_column(SmallInteger)  # LANE_ORDER[lane], for claim order
    message_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[OutboxState] = mapped_column(str_enum(OutboxState, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # What the message is about, so a reschedule, a cancellation or a closure can find it.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationPreference(Base):
    """The channels one person chose for one group of notifications (``KindGroup``).

    No row: the default (Telegram when linked, else the in-app inbox; see
    ``core.notifications.choice``). ``channels`` is a list of ``Channel`` values, never empty.
    """

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind_group: Mapped[KindGroup] = mapped_column(str_enum(KindGroup, 16))
    channels: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboxItem(Base):
    """The in-app inbox: what the bot would send, for staff who do not use Telegram."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outbox_message_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("outbox_messages.id", ondelete="SET NULL"),
        unique=True,
    )
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    message_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramLinkCode(Base):
    """A one-time code that links a staff account to a Telegram account (``/start CODE``).

    Only the SHA-256 of the code is stored: the code itself is shown once, to its owner.
    """

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramLinkAttempt(Base):
    """A wrong link code sent by a Telegram account, for the rate limit. Nothing else is kept."""

    __tablename__ = "telegram_link_attempts"
    __table_args__ = (
        Index("ix_telegram_link_attempts_user_attempted", "telegram_user_id", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BotProcessedUpdate(Base):
    """A Telegram ``update_id`` the bot has taken on, so a redelivered update is done once."""

    __tablename__ = "bot_processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BotConversation(Base):
    """Where a Telegram user is in a multi-step flow, so a restart resumes it.

    ``data`` holds ids and codes only; the one exception is a note the user is typing, which
    is deleted when the flow is saved or cancelled.
    """

    __tablename__ = "bot_conversations"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class BotMessage(Base):
    """A message the bot sent as a reply, so a site's retention rule can delete it later.

    Only ids and the time are kept, never the text. ``user_id`` is the linked account the chat
    belongs to, when there is one. A row is forgotten once the message is deleted (or gone).
    Notifications sent through the outbox are found from ``outbox_messages`` instead.
    """

    __tablename__ = "bot_messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_bot_messages_user_sent", "user_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored.

    A session ends when it is revoked (sign-out, an idle or too old session, an account made
    inactive); a revoked row is kept for the audit trail's sake and never comes back, but for
    one ended only for being idle, which its owner's passkey or device PIN may resume within
    the session's 12 hours (``core.services.passkeys``, ``core.services.device_pins``).
    """

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(20))


class WebSignInToken(Base):
    """A one-time token of the web sign-in: a ``handoff`` code (60 seconds, exchanged for a
    session by the HTTP endpoint that sets the cookie). (``enrolment`` tokens, between a right
    password and the first TOTP code, were issued before accounts were set up by invitation
    only; see ``AccountLink``.) Only the SHA-256 is stored.
    """

    __tablename__ = "web_sign_in_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Passkey(Base):
    """A WebAuthn credential (passkey) a member of staff signs in with instead of the password
    and code. ``credential_id`` is the authenticator's id for it (base64url); ``public_key``
    the COSE key that checks its signatures; ``sign_count`` the authenticator's counter at the
    last sign-in (a count that goes backwards suggests a cloned key, and is refused).
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[str] | None] = mapped_column(JSON)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasskeyChallenge(Base):
    """A challenge handed to the browser for one passkey ceremony: single use, a few minutes.

    ``purpose`` is "register" (for ``user_id``'s own new passkey) or "sign_in" (anyone's
    passkey: sign-in asks for no email address). Only the SHA-256 of the challenge is kept; the
    browser's signed answer carries the challenge itself back.
    """

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DevicePin(Base):
    """A short PIN that resumes its owner's idle web session on one device (issue 20 part 6).

    ``device_hash`` is the SHA-256 of the random id in that browser's device cookie (the id
    itself is never stored); ``pin_hash`` is argon2id of the device id and the PIN together,
    so the table alone, without the device's cookie, gives no PIN to guess offline.
    ``failed_attempts`` counts wrong PINs since the last right one; at the limit the row goes.
    One PIN per person per device (``core.services.device_pins``).
    """

    __tablename__ = "device_pins"
    __table_args__ = (UniqueConstraint("user_id", "device_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    pin_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountLink(Base):
    """A single-use link that sets up or recovers a staff account (core.services.accounts):
    an ``invitation`` (a new account: set a password, then enrol an authenticator), a
    ``password_reset`` (a new password, proved with the authenticator) or a
    ``second_factor_reset`` (the password, then a new authenticator). Only the SHA-256 of the
    link's token is stored. A link is usable until ``expires_at`` while ``used_at`` and
    ``revoked_at`` are empty; a newer link of the same kind for the account revokes it.
    ``verified_at``: its first step is done (the password set or confirmed), so the second
    (enrolling an authenticator) may follow. ``failed_attempts``: wrong passwords or codes
    typed through it; at the limit it is revoked.
    """

    __tablename__ = "account_links"
    __table_args__ = (Index("ix_account_links_user_kind", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSignInAttempt(Base):
    """A web sign-in under way or failed, for the throttle and the account lock.

    ``account_key`` is the SHA-256 of the email address as typed (lower case): unknown addresses
    count too, so a refusal says nothing about whether an account exists, and whatever someone
    types into the email box (a password, say) is never stored. ``client_key`` is the SHA-256
    of the client's network address (an IPv6 address by its /64), never the address itself.
    """

    __tablename__ = "web_sign_in_attempts"
    __table_args__ = (
        Index("ix_web_sign_in_attempts_account_attempted", "account_key", "attempted_at"),
        Index("ix_web_sign_in_attempts_client_attempted", "client_key", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SendPacerState(Base):
    """A shared send limiter's next evenly spaced slot (``core.notifications.shared_pacer``).

    The three ``send_pacer`` tables hold Telegram's limits for every process sending with one
    bot token when the limiter lives in PostgreSQL; times are seconds since the epoch on the
    database's clock, the one clock every process shares. Nothing here is about a person.
    """

    __tablename__ = "send_pacers"

    limiter: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_slot_at: Mapped[float] = mapped_column(Double)


class SendPacerStart(Base):
    """One of the last ``limit`` send starts of a limiter: a ring of ``limit`` rows, the oldest
    replaced by each new start, so a start is allowed when the oldest is a window old."""

    __tablename__ = "send_pacer_starts"

    limiter: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    started_at: Mapped[float] = mapped_column(Double)


class SendPacerChat(Base):
    """A chat's turn: busy while a send to it is in flight (until ``busy_until``, in case its
    process died), then free from ``free_at``. Rows of chats long free are deleted."""

    __tablename__ = "send_pacer_chats"

    limiter: Mapped[str] = mapped_column(String(100), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    free_at: Mapped[float] = mapped_column(Double)
    busy_until: Mapped[float] = mapped_column(Double)


class ClientSubmission(Base):
    """A save a device made with its own key (a UUID it made when the form was first shown), so
    the same save sent again (held offline and retried, a lost answer, a second tap) is done
    once: ``result_id`` is what the first one wrote. Keys are per person."""

    __tablename__ = "client_submissions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    client_key: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    result_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
