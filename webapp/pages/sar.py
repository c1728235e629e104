"""Subject access: an admin enters a case reference and downloads the case's bundle.

Two steps on one page: "Prepare the bundle" calls ``core.services.sar.export_subject_access``
(core redacts third parties, checks ``Action.SAR_EXPORT`` and audits the export once), then
the bundle can be downloaded as JSON and as one HTML page (``ui.sar``). The bundle is never
kept in the page's state (Reflex writes that to disk or Redis): each download button asks core
for it again, so a download needs a live session and is audited like the first export. The
page itself shows the reference and counts, never the bundle's content.
An unknown reference, or one at a site the admin does not administer, shows the error summary.
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx

from core.areas import Offer, offers
from core.errors import DomainError, NotFound, ValidationFailed
from core.services import sar
from ui.i18n import N_
from ui.sar import bundle_html, bundle_json, file_stem
from webapp.components.forms import FieldError, button, case_reference_field, error_summary, focus
from webapp.components.layout import role_page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

ENTER_REFERENCE = N_("Enter the case reference, like HER-0042")
BAD_REFERENCE = N_("Enter a case reference in the right format, like HER-0042")
NO_SUCH_CASE = N_("There is no case with that reference at your sites. Check the reference")


class SarState(AppState):
    allowed: bool = True
    loaded: bool = False
    form_key: str = ""
    reference: str = ""
    reference_error: str = ""
    errors: list[FieldError] = []
    ready_reference: str = ""  # the case whose bundle is ready to download ('' when none)
    ready_summary: str = ""

    def _forget_bundle(self) -> None:
        self.ready_reference = self.ready_summary = ""

    def _clear_messages(self) -> None:
        self.errors, self.reference_error = [], ""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        return self._fail(message)

    def _fail(self, message: str) -> rx.event.EventSpec:
        """No bundle: ``message`` by the reference field and in the summary."""
        self._forget_bundle()
        self.reference_error = message
        self.errors = [FieldError("case_reference", message)]
        self.form_key = uuid.uuid4().hex
        return focus("error-summary")

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.form_key = self.form_key or uuid.uuid4().hex
        self.allowed = offers(caller.actor, Offer.SAR_EXPORT)
        if not self.allowed:
            self._forget_bundle()
        self.loaded = True

    @rx.event
    @signed_in
    async def prepare(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        words = caller.words
        self._forget_bundle()
        self.reference = str(form.get("case_reference") or "").strip().upper()
        if not self.reference:
            return self._fail(words.gettext(ENTER_REFERENCE))
        try:
            bundle = await sar.export_subject_access(
                uow=caller.uow(), actor=caller.actor, reference=self.reference
            )
        except ValidationFailed:
            return self._fail(words.gettext(BAD_REFERENCE))
        except NotFound:
            return self._fail(words.gettext(NO_SUCH_CASE))
        self.ready_reference = bundle.subject.reference
        self.ready_summary = words.gettext(
            "Records: {records}. Victims and children: {people}.",
            records=sum(bundle.record_counts().values()),
            people=sum(bundle.linked_people.values()),
        )
        self.form_key = uuid.uuid4().hex
        return focus("bundle-ready")

    async def _download(self, caller: Caller, kind: str) -> rx.event.EventSpec | None:
        """The prepared case's bundle as a file, exported afresh (a live session, audited):
        the bundle itself is never kept in this state, which Reflex writes to disk or Redis."""
        if not self.ready_reference:
            return None
        bundle = await sar.export_subject_access(
            uow=caller.uow(), actor=caller.actor, reference=self.ready_reference
        )
        stem = file_stem(bundle)
        if kind == "json":
            return rx.download(
                data=bundle_json(bundle), filename=f"{stem}.json", mime_type="application/json"
            )
        html = bundle_html(bundle, caller.words)
        return rx.download(data=html, filename=f"{stem}.html", mime_type="text/html")

    @rx.event
    @signed_in
    async def download_json(self, caller: Caller) -> rx.event.EventSpec | None:
        return await self._download(caller, "json")

    @rx.event
    @signed_in
    async def download_html(self, caller: Caller) -> rx.event.EventSpec | None:
        return await self._download(caller, "html")


# --- the page ---------------------------------------------------------------------------------


def _ready() -> rx.Component:
    state = SarState
    return rx.cond(
        state.ready_reference != "",
        rx.el.section(
            rx.el.h2(
                _("The bundle is ready"),
                id="bundle-ready",
                tab_index=-1,
                class_name="heading-m",
            ),
            rx.el.p(
                _("Case"),
                " ",
                rx.el.strong(state.ready_reference, custom_attrs={"data-testid": "sar-ready"}),
                ". ",
                state.ready_summary,
            ),
            rx.el.div(
                rx.el.p(
                    _(
                        "Notes and other free text are included as recorded. Read them for"
                        " anything about another person before you release the bundle."
                    )
                ),
                class_name="notice",
            ),
            rx.el.div(
                rx.el.button(
                    _("Download JSON"),
                    type="button",
                    on_click=SarState.download_json,
                    class_name="button button-secondary",
                ),
                rx.el.button(
                    _("Download web page (HTML)"),
                    type="button",
                    on_click=SarState.download_html,
                    class_name="button button-secondary",
                ),
                class_name="button-group",
            ),
            aria_labelledby="bundle-ready",
            class_name="case-section",
        ),
    )


def _sar() -> rx.Component:
    state = SarState
    return rx.fragment(
        error_summary(state.errors),
        rx.el.p(
            _(
                "Everything held about a case's subject, with victims, children and other"
                " agencies' staff left out. Preparing a bundle is recorded in the audit."
            )
        ),
        rx.el.form(
            case_reference_field(_("Case reference"), state.reference_error, state.reference),
            button(_("Prepare the bundle"), type="submit"),
            key=state.form_key,
            on_submit=SarState.prepare,
            no_validate=True,
        ),
        _ready(),
    )


def sar_page() -> rx.Component:
    return role_page(
        _("Subject access request"),
        SarState,
        _sar(),
        _("Subject access is for administrators. If you need it, ask your administrator."),
    )
