"""Today: the first page after signing in (appointments, overdue actions, alerts, inbox).

A placeholder for now; the content comes with the Today work in issue 5.
"""

from __future__ import annotations

import reflex as rx

from webapp.components.layout import page
from webapp.i18n import _


def today() -> rx.Component:
    return page(_("Today"), rx.el.p(_("Your appointments, actions and alerts will show here.")))
