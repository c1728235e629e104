"""The caseload a device keeps for a page opened with no signal: case ids and references only.

When the log-contact or caseload page is shown online, it puts the person's open cases (id and
reference, never a name) in a hidden element; ``assets/shell.js`` copies them into the
browser's storage, for 12 hours at most (a session's longest life), and forgets them when the
sign-in page is shown (so at sign-out). Opened offline from the service worker's copy, the
log-contact page offers those cases (``DEVICE_CASES``) on the same form as online.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import reflex as rx

from webapp.pages.case_options import CaseOption

ELEMENT_ID = "device-caseload"

# The cases the device kept, read when the page renders (only once it knows it is offline,
# so never while React hydrates the page the server built).
DEVICE_CASES = rx.Var(
    "((typeof window !== 'undefined' && window.DriveShell) ? window.DriveShell.cases() : [])"
).to(list[CaseOption])

# Today's date and the time now, on the device, for the offline form's "now" defaults.
DEVICE_TODAY = (
    rx.Var("String(new Date().getDate())").to(str),
    rx.Var("String(new Date().getMonth() + 1)").to(str),
    rx.Var("String(new Date().getFullYear())").to(str),
)
DEVICE_NOW = rx.Var("new Date().toTimeString().slice(0, 5)").to(str)


def for_device(cases: Iterable[tuple[int | str, str]]) -> str:
    """``(case id, reference)`` pairs as the hidden element carries them (JSON)."""
    return json.dumps([{"id": str(case_id), "reference": ref} for case_id, ref in cases])


def device_caseload(cases_json: rx.Var) -> rx.Component:
    """The hidden element ``assets/shell.js`` reads: ``cases_json`` is ``for_device``'s."""
    return rx.el.div(id=ELEMENT_ID, hidden=True, custom_attrs={"data-cases": cases_json})
