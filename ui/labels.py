"""Display labels for the codes core hands out: every domain vocabulary and intervention kind.

Core stores and returns stable codes (``Stage.CLOSED``, ``"dvpn_dvpo"``); a face shows them
through :func:`label` or :func:`intervention_kind_label`, in the reader's language. The tables
hold English source strings marked with ``N_()`` so ``make i18n`` extracts them.
"""

from __future__ import annotations

from enum import StrEnum

from core.enums import (
    AbuseType,
    Agency,
    AlertStatus,
    AppointmentStatus,
    AttendanceStatus,
    Channel,
    ClosureReason,
    ContactType,
    DashAnswer,
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
from ui.i18n import N_, Translator

# One table per vocabulary, so a code shared by two vocabularies ("other", "cancelled") can
# read differently in each.
LABELS: dict[type[StrEnum], dict[StrEnum, str]] = {
    Role: {
        Role.CASE_MANAGER: N_("Case manager"),
        Role.SERVICE_MANAGER: N_("Service manager"),
        Role.PANEL_COORDINATOR: N_("Panel coordinator"),
        Role.POLICE_FELLOW: N_("Police Drive Fellow"),
        Role.IDVA: N_("IDVA"),
        Role.PANEL_MEMBER: N_("Panel member"),
        Role.ADMIN: N_("Administrator"),
    },
    Agency: {
        Agency.DRIVE: N_("Drive"),
        Agency.POLICE: N_("Police"),
        Agency.PROBATION: N_("Probation"),
        Agency.SOCIAL_CARE: N_("Social care"),
        Agency.HOUSING: N_("Housing"),
        Agency.HEALTH: N_("Health"),
        Agency.IDVA_SERVICE: N_("IDVA service"),
        Agency.SUBSTANCE_MISUSE: N_("Substance misuse service"),
        Agency.MENTAL_HEALTH: N_("Mental health service"),
        Agency.OTHER: N_("Other"),
    },
    Face: {
        Face.WEB: N_("Website"),
        Face.BOT: N_("Chat bot"),
        Face.CLI: N_("Command line"),
        Face.WORKER: N_("Background task"),
        Face.SYSTEM: N_("System"),
    },
    ReferralSource: {
        ReferralSource.MARAC: N_("MARAC"),
        ReferralSource.MATAC: N_("MATAC"),
        ReferralSource.POLICE: N_("Police"),
        ReferralSource.OTHER: N_("Other agency"),
        ReferralSource.SELF: N_("Self-referral"),
    },
    ReferralReason: {
        ReferralReason.HIGH_RISK: N_("High risk"),
        ReferralReason.SERIAL: N_("Serial perpetrator"),
    },
    Stage: {
        Stage.REFERRED: N_("Referred"),
        Stage.ALLOCATED: N_("Allocated"),
        Stage.ENGAGING: N_("Engaging"),
        Stage.ACTIVE: N_("Active"),
        Stage.INDIRECT: N_("Indirect work"),
        Stage.CLOSED: N_("Closed"),
    },
    ClosureReason: {
        ClosureReason.COMPLETED: N_("Completed"),
        ClosureReason.DISENGAGED: N_("Disengaged"),
        ClosureReason.CUSTODY: N_("In custody"),
        ClosureReason.MOVED_AWAY: N_("Moved away"),
        ClosureReason.DIED: N_("Died"),
        ClosureReason.OTHER: N_("Other"),
    },
    RiskLevel: {
        RiskLevel.STANDARD: N_("Standard"),
        RiskLevel.MEDIUM: N_("Medium"),
        RiskLevel.HIGH: N_("High"),
    },
    AbuseType: {
        AbuseType.PHYSICAL: N_("Physical abuse"),
        AbuseType.SEXUAL: N_("Sexual abuse"),
        AbuseType.HARASSMENT_STALKING: N_("Harassment and stalking"),
        AbuseType.JEALOUS_CONTROLLING: N_("Jealous and controlling behaviour"),
    },
    DashAnswer: {
        DashAnswer.YES: N_("Yes"),
        DashAnswer.NO: N_("No"),
        DashAnswer.NOT_KNOWN: N_("Not known"),
    },
    MaracAppearanceType: {
        MaracAppearanceType.FIRST: N_("First appearance"),
        MaracAppearanceType.REPEAT: N_("Repeat appearance"),
    },
    PoliceIncidentType: {
        PoliceIncidentType.DOMESTIC_ABUSE: N_("Domestic abuse incident"),
        PoliceIncidentType.BREACH_OF_ORDER: N_("Breach of an order"),
        PoliceIncidentType.ARREST: N_("Arrest"),
        PoliceIncidentType.CHARGE: N_("Charge"),
        PoliceIncidentType.OTHER: N_("Other"),
    },
    PersonKind: {
        PersonKind.VICTIM: N_("Victim"),
        PersonKind.CHILD: N_("Child"),
    },
    PlaceKind: {
        PlaceKind.OFFICE: N_("Office"),
        PlaceKind.HOME_VISIT: N_("Home visit"),
        PlaceKind.COMMUNITY_VENUE: N_("Community venue"),
        PlaceKind.PHONE: N_("By phone"),
        PlaceKind.VIDEO: N_("By video call"),
        PlaceKind.CUSTODY: N_("Prison or custody"),
        PlaceKind.OTHER: N_("Other"),
    },
    AppointmentStatus: {
        AppointmentStatus.SCHEDULED: N_("Scheduled"),
        AppointmentStatus.ATTENDED: N_("Attended"),
        AppointmentStatus.DID_NOT_ATTEND: N_("Did not attend"),
        AppointmentStatus.CANCELLED: N_("Cancelled"),
        AppointmentStatus.RESCHEDULED: N_("Rescheduled"),
    },
    ContactType: {
        ContactType.FACE_TO_FACE: N_("Face to face"),
        ContactType.PHONE: N_("Phone call"),
        ContactType.VIDEO: N_("Video call"),
        ContactType.TEXT: N_("Text message"),
        ContactType.LETTER: N_("Letter"),
        ContactType.HOME_VISIT: N_("Home visit"),
        ContactType.ATTEMPT_NO_ANSWER: N_("Contact attempt, no answer"),
    },
    WorkCategory: {
        WorkCategory.DISRUPTION: N_("Disruption"),
        WorkCategory.SUPPORT: N_("Support"),
        WorkCategory.BEHAVIOUR_CHANGE: N_("Behaviour change"),
    },
    InterventionStatus: {
        InterventionStatus.OFFERED: N_("Offered"),
        InterventionStatus.STARTED: N_("Started"),
        InterventionStatus.COMPLETED: N_("Completed"),
        InterventionStatus.DECLINED: N_("Declined"),
        InterventionStatus.ENDED: N_("Ended"),
    },
    PanelMeetingStatus: {
        PanelMeetingStatus.SCHEDULED: N_("Scheduled"),
        PanelMeetingStatus.HELD: N_("Held"),
        PanelMeetingStatus.CANCELLED: N_("Cancelled"),
    },
    PanelActionStatus: {
        PanelActionStatus.OPEN: N_("Open"),
        PanelActionStatus.DONE: N_("Done"),
        PanelActionStatus.CANCELLED: N_("Cancelled"),
    },
    AttendanceStatus: {
        AttendanceStatus.INVITED: N_("Invited"),
        AttendanceStatus.ATTENDING: N_("Attending"),
        AttendanceStatus.APOLOGIES: N_("Apologies"),
        AttendanceStatus.ATTENDED: N_("Attended"),
        AttendanceStatus.ABSENT: N_("Absent"),
    },
    Channel: {
        Channel.TELEGRAM: N_("Telegram"),
        Channel.INBOX: N_("Drive Assist inbox"),
        Channel.EMAIL: N_("Email"),
        Channel.SMS: N_("Text message"),
    },
    KindGroup: {
        KindGroup.REMINDERS: N_("Reminders"),
        KindGroup.DIGEST: N_("Daily summary"),
        KindGroup.ALERTS: N_("Disruption alerts"),
        KindGroup.PANEL: N_("Panel meetings"),
    },
    Lane: {
        Lane.CRITICAL: N_("Critical"),
        Lane.HIGH: N_("High"),
        Lane.NORMAL: N_("Normal"),
    },
    OutboxState: {
        OutboxState.QUEUED: N_("Waiting to send"),
        OutboxState.SENDING: N_("Sending"),
        OutboxState.SENT: N_("Sent"),
        OutboxState.FAILED: N_("Could not be sent"),
        OutboxState.CANCELLED: N_("Cancelled"),
    },
    NotificationKind: {
        NotificationKind.APPOINTMENT_REMINDER: N_("Appointment reminder"),
        NotificationKind.DAILY_DIGEST: N_("Daily summary"),
        NotificationKind.MISSED_APPOINTMENT: N_("Appointment with no outcome"),
        NotificationKind.PANEL_REMINDER: N_("Panel reminder"),
        NotificationKind.PANEL_BROADCAST: N_("Panel announcement"),
        NotificationKind.DISRUPTION_ALERT: N_("Disruption alert"),
        NotificationKind.ESCALATION: N_("Escalated alert"),
        NotificationKind.TELEGRAM_LINK_CODE_ISSUED: N_("Telegram link code"),
        NotificationKind.ACCOUNT_PASSWORD_RESET: N_("Password reset"),
        NotificationKind.ACCOUNT_SECOND_FACTOR_RESET: N_("Authenticator reset"),
        NotificationKind.ACCOUNT_AUTHENTICATOR_CHANGED: N_("Authenticator changed"),
        NotificationKind.ACCOUNT_PASSKEY_REMOVED: N_("Passkey removed"),
    },
    AlertStatus: {
        AlertStatus.OPEN: N_("Open"),
        AlertStatus.ACKNOWLEDGED: N_("Acknowledged"),
        AlertStatus.ACTIONED: N_("Action taken"),
    },
}

# A language is named in its own words, whatever language the page is in (GOV.UK's
# "English | Cymraeg" switch), so these are never translated.
LANGUAGE_NAMES: dict[Locale, str] = {
    Locale.EN_GB: "English",
    Locale.CY: "Cymraeg",
}

# The codes of the intervention_kinds reference table (seeded by migration 0001).
INTERVENTION_KIND_LABELS: dict[str, str] = {
    # Disruption
    "police_intelligence": N_("Police intelligence shared"),
    "dvpn_dvpo": N_("Domestic violence protection notice or order (DVPN/DVPO)"),
    "non_molestation_order": N_("Non-molestation order"),
    "restraining_order": N_("Restraining order"),
    "bail_licence_conditions": N_("Bail or licence conditions"),
    "clares_law_disclosure": N_("Clare's Law disclosure"),
    "arrest_or_charge": N_("Arrest or charge"),
    "housing_enforcement": N_("Housing enforcement"),
    "mappa_referral": N_("MAPPA referral"),
    # Support
    "housing": N_("Housing support"),
    "substance_misuse": N_("Substance misuse support"),
    "mental_health": N_("Mental health support"),
    "employment_benefits": N_("Employment and benefits"),
    "parenting": N_("Parenting support"),
    "physical_health": N_("Physical health support"),
    # Behaviour change
    "one_to_one_sessions": N_("One-to-one sessions"),
    "accredited_programme_referral": N_("Referral to an accredited programme"),
}


def label(value: StrEnum, translator: Translator) -> str:
    """The reader's word for one vocabulary code, e.g. ``Stage.CLOSED`` -> "Closed" / "Ar gau".

    An unknown code comes back as itself rather than failing the page; the unit tests make sure
    every code has a label.
    """
    if isinstance(value, Locale):
        return LANGUAGE_NAMES[value]
    source = LABELS.get(type(value), {}).get(value)
    return translator.gettext(source) if source else str(value)


def choices(vocabulary: type[StrEnum], translator: Translator) -> list[tuple[str, str]]:
    """``(code, label)`` for every member, in declaration order: for pickers and keyboards."""
    return [(member.value, label(member, translator)) for member in vocabulary]


def intervention_kind_label(code: str, translator: Translator) -> str:
    """The reader's word for an intervention kind code such as ``"dvpn_dvpo"``."""
    source = INTERVENTION_KIND_LABELS.get(code)
    return translator.gettext(source) if source else code
