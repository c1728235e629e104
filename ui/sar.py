"""A subject access bundle as files: JSON for machines, one self-contained HTML page for people.

Shared by the faces that export a bundle (``drive-assist sar export``; the admin page). Every
value from the database goes through ``html.escape``, so a note holding markup shows as text.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from core.schemas.sar import SarBundle, StaffRef
from ui.i18n import Translator
from ui.labels import intervention_kind_label, label

Cell = str | int | bool | date | datetime | StrEnum | StaffRef | None

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#111;line-height:1.5}"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}"
    "th,td{border:1px solid #666;padding:.4rem;text-align:left;vertical-align:top}"
    "th{background:#eee}td{white-space:pre-wrap}"
    ".notice{border:3px solid #b00;padding:1rem;margin:1rem 0}"
)


def bundle_json(bundle: SarBundle) -> str:
    return bundle.model_dump_json(indent=2)


def file_stem(bundle: SarBundle) -> str:
    return f"sar-{bundle.subject.reference}"


class _Page:
    def __init__(self, translator: Translator) -> None:
        self.t = translator
        self.parts: list[str] = []

    def text(self, value: Cell) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.t.gettext("Yes") if value else self.t.gettext("No")
        if isinstance(value, StaffRef):
            if value.name is not None:
                return value.name
            agency = label(value.agency, self.t)
            if value.role is None:
                return self.t.gettext("[redacted: {agency}]", agency=agency)
            role = label(value.role, self.t)
            return self.t.gettext("[redacted: {role}, {agency}]", role=role, agency=agency)
        if isinstance(value, datetime):
            return self.t.format_datetime(value)
        if isinstance(value, date):
            return self.t.format_date(value)
        if isinstance(value, StrEnum):
            return label(value, self.t)
        return str(value)

    def heading(self, title: str) -> None:
        self.parts.append(f"<h2>{html.escape(title)}</h2>")

    def paragraph(self, text: str, css: str | None = None) -> None:
        attribute = f' class="{css}"' if css else ""
        self.parts.append(f"<p{attribute}>{html.escape(text)}</p>")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
        if not rows:
            self.paragraph(self.t.gettext("None recorded."))
            return
        head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(self.text(cell))}</td>" for cell in row) + "</tr>"
            for row in rows
        )
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def fields(self, pairs: Sequence[tuple[str, Cell]]) -> None:
        body = "".join(
            f'<tr><th scope="row">{html.escape(name)}</th>'
            f"<td>{html.escape(self.text(value))}</td></tr>"
            for name, value in pairs
        )
        self.parts.append(f"<table><tbody>{body}</tbody></table>")


def bundle_html(bundle: SarBundle, translator: Translator) -> str:
    """One page with a heading and a table per kind of record, in the reader's language."""
    _: Callable[..., str] = translator.gettext
    page = _Page(translator)
    subject = bundle.subject
    title = _("Subject access bundle for case {reference}", reference=subject.reference)
    page.paragraph(
        _(
            "Produced {when}. Victims, children and staff of other agencies are redacted. Notes"
            " and other free text are included as recorded: review them for anything about"
            " another person before you release this bundle.",
            when=page.text(bundle.generated_at),
        ),
        css="notice",
    )
    page.heading(_("The case"))
    abuse_start, abuse_end = subject.abuse_at_start, subject.abuse_at_closure
    page.fields(
        [
            (_("Reference"), subject.reference),
            (_("Site"), subject.site_code),
            (
                _("Former references"),
                ", ".join(
                    f"{old.reference} ({old.site_code}, {page.text(old.replaced_at)})"
                    for old in subject.former_references
                ),
            ),
            (_("Name"), subject.subject_name),
            (_("Date of birth"), subject.subject_date_of_birth),
            (_("Address"), subject.subject_address),
            (_("Gender"), subject.subject_gender),
            (_("Phone"), subject.subject_phone),
            (_("Languages"), subject.subject_languages),
            (_("Interpreter needed"), subject.subject_interpreter_needed),
            (_("Referred"), subject.referral_date),
            (_("Referral source"), subject.referral_source),
            (_("Referral reason"), subject.referral_reason),
            (_("Referring agency"), subject.referrer_agency),
            (
                _("Referrer's contact details"),
                _("[redacted: a third party]") if subject.referrer_contact_redacted else None,
            ),
            (_("DASH score"), subject.dash_score),
            (
                _("DASH checklist answers"),
                _("[redacted: the victim's answers]") if subject.dash_checklist_redacted else None,
            ),
            (_("Episode"), subject.episode),
            (_("Stage"), subject.stage),
            (_("Case manager"), subject.case_manager),
            (_("Allocated"), subject.allocated_at),
            (_("Planned end"), subject.planned_end),
            (_("Closed"), subject.closed_at),
            (_("Closure reason"), subject.closure_reason),
            (_("Closure reason, in words"), subject.closure_reason_other),
            (_("Physical abuse at start"), abuse_start.physical),
            (_("Sexual abuse at start"), abuse_start.sexual),
            (_("Harassment or stalking at start"), abuse_start.harassment_stalking),
            (_("Jealous or controlling behaviour at start"), abuse_start.jealous_controlling),
            (_("Physical abuse at closure"), abuse_end.physical),
            (_("Sexual abuse at closure"), abuse_end.sexual),
            (_("Harassment or stalking at closure"), abuse_end.harassment_stalking),
            (_("Jealous or controlling behaviour at closure"), abuse_end.jealous_controlling),
        ]
    )
    page.heading(_("Linked people"))
    page.table(
        [_("Kind"), _("Number (details redacted)")],
        [(kind, count) for kind, count in bundle.linked_people.items()],
    )
    page.heading(_("Stage history"))
    page.table(
        [
            _("When"),
            _("Took effect"),
            _("Episode"),
            _("From"),
            _("To"),
            _("Closure reason"),
            _("Reason"),
            _("By"),
        ],
        [
            (
                c.changed_at,
                c.effective_on,
                c.episode,
                c.from_stage,
                c.to_stage,
                c.closure_reason,
                "\n".join(text for text in (c.closure_reason_other, c.reason) if text),
                c.changed_by,
            )
            for c in bundle.stage_history
        ],
    )
    page.heading(_("Risk assessments"))
    page.table(
        [_("When"), _("Level"), _("DASH score"), _("Reason"), _("By")],
        [
            (r.assessed_at, r.level, r.dash_score, r.reason, r.assessed_by)
            for r in bundle.risk_assessments
        ],
    )
    page.heading(_("Contacts"))
    page.table(
        [
            _("When"),
            _("Type"),
            _("Minutes"),
            _("Work"),
            _("Topics"),
            _("Notes"),
            _("Next steps"),
            _("By"),
        ],
        [
            (
                c.occurred_at,
                c.contact_type,
                c.duration_minutes,
                ", ".join(label(category, translator) for category in c.categories),
                ", ".join(c.topics),
                c.notes,
                c.next_steps,
                c.staff,
            )
            for c in bundle.contacts
        ],
    )
    page.heading(_("Appointments"))
    page.table(
        [_("Starts"), _("Ends"), _("Place"), _("Status"), _("Outcome"), _("With")],
        [
            (a.starts_at, a.ends_at, a.place_kind, a.status, a.outcome, a.staff)
            for a in bundle.appointments
        ],
    )
    page.heading(_("Interventions"))
    page.table(
        [
            _("Intervention"),
            _("Work"),
            _("Agency"),
            _("Status"),
            _("Started"),
            _("Ended"),
            _("Recorded by"),
        ],
        [
            (
                intervention_kind_label(i.kind_code, translator),
                i.category,
                i.agency,
                i.status,
                i.started_on,
                i.ended_on,
                i.recorded_by,
            )
            for i in bundle.interventions
        ],
    )
    page.heading(_("Panel discussions"))
    page.table(
        [_("Meeting"), _("Status")],
        [(d.meeting_starts_at, d.meeting_status) for d in bundle.panel_discussions],
    )
    page.heading(_("Panel actions"))
    page.table(
        [_("Meeting"), _("Action"), _("Agency"), _("Owner"), _("Due"), _("Status"), _("Done")],
        [
            (
                a.meeting_starts_at,
                a.description,
                a.owner_agency,
                a.owner,
                a.due_on,
                a.status,
                a.completed_on,
            )
            for a in bundle.panel_actions
        ],
    )
    page.heading(_("MARAC appearances"))
    page.table(
        [_("Heard on"), _("Type"), _("Description")],
        [(m.heard_on, m.appearance_type, m.description) for m in bundle.marac_appearances],
    )
    page.heading(_("Police incidents"))
    page.table(
        [_("Date"), _("Police reference"), _("Type"), _("Description")],
        [
            (i.occurred_on, i.police_reference, i.incident_type, i.description)
            for i in bundle.police_incidents
        ],
    )
    page.heading(_("Disruption alerts"))
    page.table(
        [
            _("Raised"),
            _("Status"),
            _("Raised by"),
            _("Acknowledged by"),
            _("Acknowledged"),
            _("Action taken"),
            _("Actioned"),
        ],
        [
            (
                a.raised_at,
                a.status,
                a.raised_by,
                a.acknowledged_by,
                a.acknowledged_at,
                a.action_taken,
                a.actioned_at,
            )
            for a in bundle.alerts
        ],
    )
    language = translator.locale.replace("_", "-")
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{''.join(page.parts)}</main></body></html>\n"
    )


def write_bundle(bundle: SarBundle, translator: Translator, output: Path) -> list[Path]:
    """Write the JSON and HTML into the folder ``output``, or into a zip when it ends in .zip.

    Raises ``FileExistsError`` rather than overwrite an earlier export.
    """
    stem = file_stem(bundle)
    files = {
        f"{stem}.json": bundle_json(bundle),
        f"{stem}.html": bundle_html(bundle, translator),
    }
    if output.suffix.lower() == ".zip":
        if output.exists():
            raise FileExistsError(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        with output.open("xb") as handle:
            handle.write(buffer.getvalue())
        return [output]
    output.mkdir(parents=True, exist_ok=True)
    paths = [output / name for name in files]
    for path in paths:
        if path.exists():
            raise FileExistsError(path)
    for path, text in zip(paths, files.values(), strict=True):
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    return paths
