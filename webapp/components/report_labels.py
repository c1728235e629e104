"""The reader's words for the report's rows (``core.services.report_export.report_rows``).

Core hands out each figure as codes (``measure`` ``closures_by_reason``, ``breakdown``
``completed``) and a number; the Reports page shows them through :func:`row_label` and
:func:`format_value`, in the reader's language, grouped into the tables of :data:`GROUPS`. The
tables hold English source strings marked with ``N_()`` so ``make i18n`` extracts them, like
``ui.labels``. The export's note on small counts is :func:`suppression_note` (the same words as
the command line's).
"""

from __future__ import annotations

from babel.numbers import format_decimal

from core.enums import AbuseType, Agency, ClosureReason, RiskLevel, Stage, WorkCategory
from core.schemas.reports import ReportRow
from core.services.report_export import SMALL_COUNT_MAX
from ui.i18n import N_, Translator
from ui.labels import intervention_kind_label, label

MEASURE_LABELS: dict[str, str] = {
    # The funder return
    "referrals": N_("Referrals received"),
    "allocations": N_("Cases allocated"),
    "median_days_referral_to_allocation": N_("Median days from referral to allocation"),
    "cases_worked": N_("Cases worked"),
    "engaged": N_("Cases worked with a direct contact"),
    "engaged_percent": N_("Share of cases worked with a direct contact"),
    "contacts": N_("Contacts"),
    "case_months": N_("Case months open"),
    "contacts_per_case_month": N_("Contacts per case month"),
    "work_mix": N_("Contacts with this kind of work"),
    "work_mix_percent": N_("Share of contacts with this kind of work"),
    "interventions": N_("Interventions started"),
    "interventions_by_category": N_("Interventions started, by kind of work"),
    "interventions_by_kind": N_("Interventions started, by intervention"),
    "interventions_by_agency": N_("Interventions started, by agency"),
    "panel_actions_due": N_("Panel actions due"),
    "panel_actions_on_time": N_("Panel actions done on time"),
    "panel_actions_on_time_percent": N_("Share of panel actions done on time"),
    "panel_meetings_held": N_("Panel meetings held"),
    "panel_meetings_cancelled": N_("Panel meetings cancelled"),
    "panel_attendance_marked": N_("People on the registers of meetings held"),
    "panel_attendance": N_("People who attended meetings held"),
    "panel_attendance_percent": N_("Share of people who attended meetings held"),
    "alerts_raised": N_("Disruption alerts raised"),
    "alerts_acknowledged_within_4h": N_("Alerts acknowledged within 4 hours"),
    "alerts_acknowledged_within_4h_percent": N_("Share of alerts acknowledged within 4 hours"),
    "closures": N_("Cases closed"),
    "closures_by_reason": N_("Cases closed, by reason"),
    "open_cases": N_("Open cases at the end of the period"),
    "open_cases_by_stage_and_risk": N_("Open cases, by stage and risk level"),
    # The outcome measures
    "closed_cases": N_("Cases closed in the period"),
    "cases_allocated": N_("Closed cases that had been allocated"),
    "abuse_recorded": N_("Cases with this abuse recorded at start and closure"),
    "abuse_at_start": N_("Using this abuse at the start"),
    "abuse_at_start_percent": N_("Share using this abuse at the start"),
    "abuse_at_closure": N_("Using this abuse at closure"),
    "abuse_at_closure_percent": N_("Share using this abuse at closure"),
    "abuse_change_percent": N_("Change in the share using this abuse"),
    "idva_assessed": N_("Cases with two or more IDVA risk assessments"),
    "idva_risk_reduced": N_("Risk reduced (IDVA assessments)"),
    "idva_risk_reduced_percent": N_("Share with risk reduced (IDVA assessments)"),
    "idva_risk_unchanged": N_("Risk unchanged (IDVA assessments)"),
    "idva_risk_increased": N_("Risk increased (IDVA assessments)"),
    "marac_appearances": N_("MARAC appearances"),
    "police_incidents": N_("Police incidents"),
}

WINDOW_LABELS: dict[str, str] = {
    "before_allocation": N_("In the 6 months before allocation"),
    "after_closure": N_("In the 6 months after closure"),
}
NOT_ASSESSED = N_("Not assessed")
NO_FIGURE = N_("Not applicable")

# The page's tables, in order: (id, section, title, measures). A row belongs to the group
# that lists its measure.
FUNDER, OUTCOMES = "funder", "outcomes"
GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "referrals",
        FUNDER,
        N_("Referrals and allocation"),
        ("referrals", "allocations", "median_days_referral_to_allocation"),
    ),
    (
        "work",
        FUNDER,
        N_("Work with cases"),
        (
            "cases_worked",
            "engaged",
            "engaged_percent",
            "contacts",
            "case_months",
            "contacts_per_case_month",
        ),
    ),
    ("work-mix", FUNDER, N_("Work mix"), ("work_mix", "work_mix_percent")),
    (
        "interventions",
        FUNDER,
        N_("Interventions"),
        (
            "interventions",
            "interventions_by_category",
            "interventions_by_kind",
            "interventions_by_agency",
        ),
    ),
    (
        "panel-alerts",
        FUNDER,
        N_("Panel meetings, actions and alerts"),
        (
            "panel_actions_due",
            "panel_actions_on_time",
            "panel_actions_on_time_percent",
            "panel_meetings_held",
            "panel_meetings_cancelled",
            "panel_attendance_marked",
            "panel_attendance",
            "panel_attendance_percent",
            "alerts_raised",
            "alerts_acknowledged_within_4h",
            "alerts_acknowledged_within_4h_percent",
        ),
    ),
    ("closures", FUNDER, N_("Closures"), ("closures", "closures_by_reason")),
    ("open-cases", FUNDER, N_("Open cases"), ("open_cases", "open_cases_by_stage_and_risk")),
    ("closed-cases", OUTCOMES, N_("Closed cases"), ("closed_cases", "cases_allocated")),
    (
        "abuse",
        OUTCOMES,
        N_("Abuse at the start and at closure"),
        (
            "abuse_recorded",
            "abuse_at_start",
            "abuse_at_start_percent",
            "abuse_at_closure",
            "abuse_at_closure_percent",
            "abuse_change_percent",
        ),
    ),
    (
        "risk",
        OUTCOMES,
        N_("Risk"),
        (
            "idva_assessed",
            "idva_risk_reduced",
            "idva_risk_reduced_percent",
            "idva_risk_unchanged",
            "idva_risk_increased",
        ),
    ),
    (
        "marac-police",
        OUTCOMES,
        N_("MARAC and police"),
        ("marac_appearances", "police_incidents"),
    ),
)
GROUP_OF_MEASURE = {measure: group for group, _s, _t, measures in GROUPS for measure in measures}

_WORK_CATEGORY_MEASURES = {"work_mix", "work_mix_percent", "interventions_by_category"}


def breakdown_label(measure: str, breakdown: str, words: Translator) -> str:
    """The reader's word for a row's breakdown code; '' when the row has none."""
    if not breakdown:
        return ""
    if measure in _WORK_CATEGORY_MEASURES:
        return label(WorkCategory(breakdown), words)
    if measure == "interventions_by_kind":
        return intervention_kind_label(breakdown, words)
    if measure == "interventions_by_agency":
        return label(Agency(breakdown), words)
    if measure == "closures_by_reason":
        return label(ClosureReason(breakdown), words)
    if measure == "open_cases_by_stage_and_risk":
        stage, _slash, risk = breakdown.partition("/")
        risk_words = (
            words.gettext(NOT_ASSESSED) if risk == "not_assessed" else label(RiskLevel(risk), words)
        )
        return words.gettext(
            "{stage}, {risk_level}", stage=label(Stage(stage), words), risk_level=risk_words
        )
    if measure.startswith("abuse_"):
        return label(AbuseType(breakdown), words)
    if breakdown in WINDOW_LABELS:
        return words.gettext(WINDOW_LABELS[breakdown])
    return breakdown


def row_label(row: ReportRow, words: Translator) -> str:
    """What a row counts, in the reader's words: "Cases closed, by reason: Completed"."""
    source = MEASURE_LABELS.get(row.measure)
    measure = words.gettext(source) if source else row.measure
    if not row.breakdown:
        return measure
    return words.gettext(
        "{measure}: {breakdown}",
        measure=measure,
        breakdown=breakdown_label(row.measure, row.breakdown, words),
    )


def format_value(row: ReportRow, words: Translator) -> str:
    """A row's figure as the page shows it: "1,234", "42.5%", "1.75"; a share of nothing (no
    figure) reads "Not applicable"."""
    if row.value is None:
        return words.gettext(NO_FIGURE)
    locale = words.locale
    if row.kind == "count":
        return format_decimal(row.value, format="#,##0", locale=locale)
    if row.kind == "percent":
        return words.gettext(
            "{number}%", number=format_decimal(row.value, format="#,##0.0", locale=locale)
        )
    if row.kind == "median":
        return format_decimal(row.value, format="#,##0.#", locale=locale)
    return format_decimal(row.value, format="#,##0.00", locale=locale)


def suppression_note(words: Translator) -> str:
    """The exports' note on small counts (the command line's words, the same msgid)."""
    return words.gettext(
        "Counts from 1 to {max} are suppressed (left blank), and so is any percentage, median "
        "or rate worked out from one, to protect the people counted.",
        max=SMALL_COUNT_MAX,
    )
