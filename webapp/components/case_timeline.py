"""A case's timeline as the web app shows it: core's entries turned into words, then a list.

Core hands out each entry with a ``label_key`` such as ``"contact.phone"`` or
``"stage.active"``: the part before the dot names the vocabulary, the part after the code, and
``ui.labels`` (the bot's labels) gives the reader's word for it. Free text is in an entry only
when the reader may see the case's notes (core decides); otherwise the page says it is withheld.
"""

from __future__ import annotations

from enum import StrEnum

import reflex as rx

from core.enums import (
    AlertStatus,
    AppointmentStatus,
    ContactType,
    InterventionStatus,
    PanelActionStatus,
    RiskLevel,
    Stage,
)
from core.schemas.timeline import TimelineEntry, TimelineKind
from ui.i18n import N_, Translator
from ui.labels import intervention_kind_label, label
from webapp.i18n import _

# The vocabulary behind each ``label_key`` prefix (core.services.timeline).
KEY_VOCABULARIES: dict[str, type[StrEnum]] = {
    "contact": ContactType,
    "appointment": AppointmentStatus,
    "intervention": InterventionStatus,
    "panel_action": PanelActionStatus,
    "stage": Stage,
    "risk": RiskLevel,
    "alert": AlertStatus,
}

KIND_LABELS: dict[TimelineKind, str] = {
    TimelineKind.CONTACT: N_("Contact"),
    TimelineKind.APPOINTMENT: N_("Appointment"),
    TimelineKind.INTERVENTION: N_("Intervention"),
    TimelineKind.PANEL_ACTION: N_("Panel action"),
    TimelineKind.STAGE_CHANGE: N_("Stage change"),
    TimelineKind.RISK_ASSESSMENT: N_("Risk assessment"),
    TimelineKind.DISRUPTION_ALERT: N_("Disruption alert"),
}


def label_for_key(label_key: str, words: Translator) -> str:
    """The reader's word for a timeline ``label_key`` (the key itself if it is not known)."""
    prefix, _dot, code = label_key.partition(".")
    vocabulary = KEY_VOCABULARIES.get(prefix)
    if vocabulary is None:
        return label_key
    try:
        return label(vocabulary(code), words)
    except ValueError:
        return label_key


def _title_and_detail(entry: TimelineEntry, words: Translator) -> tuple[str, str]:
    status = label_for_key(entry.label_key, words)
    details: list[str] = []
    title = status
    if entry.kind is TimelineKind.CONTACT:
        if entry.duration_minutes:
            details.append(words.ngettext("{n} minute", "{n} minutes", entry.duration_minutes))
        details += [label(category, words) for category in entry.categories]
    elif entry.kind is TimelineKind.APPOINTMENT:
        title = words.gettext(KIND_LABELS[entry.kind])
        details.append(status)
        if entry.place_kind is not None:
            details.append(label(entry.place_kind, words))
    elif entry.kind is TimelineKind.INTERVENTION:
        title = intervention_kind_label(entry.intervention_kind or "", words) or status
        details.append(status)
        if entry.agency is not None:
            details.append(label(entry.agency, words))
    elif entry.kind is TimelineKind.PANEL_ACTION:
        title = entry.description or words.gettext(KIND_LABELS[entry.kind])
        details.append(status)
        if entry.due_on is not None:
            details.append(words.gettext("Due {date}", date=words.format_date(entry.due_on)))
    elif entry.kind is TimelineKind.STAGE_CHANGE:
        if entry.closure_reason is not None:
            details.append(label(entry.closure_reason, words))
    elif entry.kind is TimelineKind.RISK_ASSESSMENT:
        if entry.dash_score is not None:
            details.append(words.gettext("DASH score {score}", score=entry.dash_score))
    return title, " · ".join(details)


def _free_text(entry: TimelineEntry, words: Translator) -> list[tuple[str, str]]:
    """(label, text) for each piece of free text the reader was given."""
    pieces = [
        (N_("Notes"), entry.notes),
        (N_("Next steps"), entry.next_steps),
        (N_("Outcome"), entry.outcome),
        (N_("Reason"), entry.reason),
        (N_("Action taken"), entry.action_taken),
    ]
    return [(words.gettext(name), text) for name, text in pieces if text]


def timeline_rows(entries: list[TimelineEntry], words: Translator) -> list[dict[str, str]]:
    """What the page shows for each entry, newest first, as plain strings for the state."""
    rows = []
    for entry in entries:
        title, detail = _title_and_detail(entry, words)
        notes = _free_text(entry, words)
        rows.append(
            {
                "key": f"{entry.kind.value}-{entry.entry_id}",
                "kind": entry.kind.value,
                "kind_label": words.gettext(KIND_LABELS[entry.kind]),
                "title": title,
                "detail": detail,
                "when": words.format_datetime(entry.when, "d MMM yyyy, HH:mm"),
                "when_iso": entry.when.isoformat(),
                "staff": words.gettext("By {name}", name=entry.staff_name)
                if entry.staff_name
                else "",
                "note_label": notes[0][0] if notes else "",
                "note": notes[0][1] if notes else "",
                "more_label": notes[1][0] if len(notes) > 1 else "",
                "more": notes[1][1] if len(notes) > 1 else "",
                "withheld": "yes" if entry.notes_withheld else "",
            }
        )
    return rows


def _optional(text: rx.Var, component: rx.Component) -> rx.Component:
    return rx.cond(text != "", component)


def _entry(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.p(
            rx.el.strong(row["kind_label"], class_name=f"tag tag-{row['kind']}"),
            " ",
            rx.el.time(row["when"], date_time=row["when_iso"]),
            class_name="timeline-meta",
        ),
        rx.el.h3(row["title"], class_name="heading-s"),
        _optional(row["detail"], rx.el.p(row["detail"], class_name="timeline-detail")),
        _optional(row["staff"], rx.el.p(row["staff"], class_name="hint timeline-staff")),
        _optional(
            row["note"],
            rx.el.p(rx.el.strong(row["note_label"], ": "), row["note"], class_name="timeline-note"),
        ),
        _optional(
            row["more"],
            rx.el.p(rx.el.strong(row["more_label"], ": "), row["more"], class_name="timeline-note"),
        ),
        _optional(
            row["withheld"],
            rx.el.p(_("Notes are not shown to your role."), class_name="hint"),
        ),
        key=row["key"],
        class_name="timeline-entry",
    )


def timeline(rows: rx.Var) -> rx.Component:
    """The timeline section: a heading and the entries, newest first."""
    return rx.el.section(
        rx.el.h2(_("Timeline"), id="timeline", class_name="heading-m"),
        rx.cond(
            rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.ol(rx.foreach(rows, _entry), class_name="timeline"),
            rx.el.p(_("Nothing has been recorded on this case yet.")),
        ),
        aria_labelledby="timeline",
        class_name="case-section",
    )
