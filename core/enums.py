"""Vocabularies of the domain. Values are stable codes; faces translate them for display."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASE_MANAGER = "case_manager"
    SERVICE_MANAGER = "service_manager"
    PANEL_COORDINATOR = "panel_coordinator"
    POLICE_FELLOW = "police_fellow"
    IDVA = "idva"
    PANEL_MEMBER = "panel_member"
    ADMIN = "admin"


class Agency(StrEnum):
    DRIVE = "drive"
    POLICE = "police"
    PROBATION = "probation"
    SOCIAL_CARE = "social_care"
    HOUSING = "housing"
    HEALTH = "health"
    IDVA_SERVICE = "idva_service"
    SUBSTANCE_MISUSE = "substance_misuse"
    MENTAL_HEALTH = "mental_health"
    OTHER = "other"


class Face(StrEnum):
    """Through which entry point an action came; recorded on every audit event."""

    WEB = "web"
    BOT = "bot"
    CLI = "cli"
    WORKER = "worker"
    SYSTEM = "system"


class ReferralSource(StrEnum):
    MARAC = "marac"
    MATAC = "matac"
    POLICE = "police"
    OTHER = "other"  # another agency
    SELF = "self"  # the person referred themselves


class ReferralReason(StrEnum):
    HIGH_RISK = "high_risk"
    SERIAL = "serial"


class Stage(StrEnum):
    REFERRED = "referred"
    ALLOCATED = "allocated"
    ENGAGING = "engaging"
    ACTIVE = "active"
    INDIRECT = "indirect"
    CLOSED = "closed"


OPEN_STAGES = frozenset(s for s in Stage if s is not Stage.CLOSED)


class ClosureReason(StrEnum):
    COMPLETED = "completed"
    DISENGAGED = "disengaged"
    CUSTODY = "custody"
    MOVED_AWAY = "moved_away"
    DIED = "died"
    OTHER = "other"


class RiskLevel(StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


class DashAnswer(StrEnum):
    """An answer to one question of the SafeLives DASH risk checklist."""

    YES = "yes"
    NO = "no"
    NOT_KNOWN = "not_known"


class MaracAppearanceType(StrEnum):
    FIRST = "first"
    REPEAT = "repeat"


class PoliceIncidentType(StrEnum):
    DOMESTIC_ABUSE = "domestic_abuse"
    BREACH_OF_ORDER = "breach_of_order"
    ARREST = "arrest"
    CHARGE = "charge"
    OTHER = "other"


class AbuseType(StrEnum):
    PHYSICAL = "physical"
    SEXUAL = "sexual"
    HARASSMENT_STALKING = "harassment_stalking"
    JEALOUS_CONTROLLING = "jealous_controlling"


class PersonKind(StrEnum):
    """A person linked to a case: an adult victim or a child."""

    VICTIM = "victim"
    CHILD = "child"


class PlaceKind(StrEnum):
    OFFICE = "office"
    HOME_VISIT = "home_visit"
    COMMUNITY_VENUE = "community_venue"
    PHONE = "phone"
    VIDEO = "video"
    CUSTODY = "custody"
    OTHER = "other"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


class ContactType(StrEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"
    VIDEO = "video"
    TEXT = "text"
    LETTER = "letter"
    HOME_VISIT = "home_visit"
    ATTEMPT_NO_ANSWER = "attempt_no_answer"


DIRECT_CONTACT_TYPES = frozenset(
    {ContactType.FACE_TO_FACE, ContactType.PHONE, ContactType.VIDEO, ContactType.HOME_VISIT}
)


class WorkCategory(StrEnum):
    DISRUPTION = "disruption"
    SUPPORT = "support"
    BEHAVIOUR_CHANGE = "behaviour_change"


class InterventionStatus(StrEnum):
    """Migration 0010 renamed planned, in_progress and not_pursued to offered, started and
    declined; *ended* is work stopped before it was completed."""

    OFFERED = "offered"
    STARTED = "started"
    COMPLETED = "completed"
    DECLINED = "declined"
    ENDED = "ended"


# Interventions that have come to an end: they carry an end date.
FINISHED_INTERVENTION_STATUSES = frozenset(
    {InterventionStatus.COMPLETED, InterventionStatus.DECLINED, InterventionStatus.ENDED}
)


class PanelMeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class PanelActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class AttendanceStatus(StrEnum):
    INVITED = "invited"
    ATTENDING = "attending"
    APOLOGIES = "apologies"
    ATTENDED = "attended"
    ABSENT = "absent"


class Locale(StrEnum):
    EN_GB = "en_GB"
    CY = "cy"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    INBOX = "inbox"
    EMAIL = "email"  # GOV.UK Notify
    SMS = "sms"  # GOV.UK Notify


# Channels sent through GOV.UK Notify, paced together (one API key, one rate limit).
NOTIFY_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})


class Lane(StrEnum):
    """Priority lanes, drained in this order: critical before high before normal."""

    CRITICAL = "critical"  # disruption alerts and escalations
    HIGH = "high"  # reminders and prompts
    NORMAL = "normal"  # broadcasts and digests


LANE_ORDER = {Lane.CRITICAL: 0, Lane.HIGH: 1, Lane.NORMAL: 2}


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NotificationKind(StrEnum):
    APPOINTMENT_REMINDER = "appointment_reminder"
    DAILY_DIGEST = "daily_digest"
    MISSED_APPOINTMENT = "missed_appointment"
    PANEL_REMINDER = "panel_reminder"
    PANEL_BROADCAST = "panel_broadcast"
    DISRUPTION_ALERT = "disruption_alert"
    ESCALATION = "escalation"
    # The in-app inbox only: someone else issued a Telegram link code for your account.
    TELEGRAM_LINK_CODE_ISSUED = "telegram_link_code_issued"
    # The in-app inbox only: a manager or admin reset your password or second factor.
    ACCOUNT_PASSWORD_RESET = "account_password_reset"
    ACCOUNT_SECOND_FACTOR_RESET = "account_second_factor_reset"
    # The in-app inbox and email: you changed your own authenticator app on My account.
    ACCOUNT_AUTHENTICATOR_CHANGED = "account_authenticator_changed"
    # The in-app inbox and email: a manager or admin removed one of your passkeys.
    ACCOUNT_PASSKEY_REMOVED = "account_passkey_removed"


class KindGroup(StrEnum):
    """What a person chooses channels for: each notification kind belongs to one group."""

    REMINDERS = "reminders"
    DIGEST = "digest"
    ALERTS = "alerts"
    PANEL = "panel"


KIND_GROUPS: dict[NotificationKind, KindGroup] = {
    NotificationKind.APPOINTMENT_REMINDER: KindGroup.REMINDERS,
    NotificationKind.MISSED_APPOINTMENT: KindGroup.REMINDERS,
    NotificationKind.DAILY_DIGEST: KindGroup.DIGEST,
    NotificationKind.DISRUPTION_ALERT: KindGroup.ALERTS,
    NotificationKind.ESCALATION: KindGroup.ALERTS,
    NotificationKind.PANEL_REMINDER: KindGroup.PANEL,
    NotificationKind.PANEL_BROADCAST: KindGroup.PANEL,
}


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
