"""The Reflex app: pages, the global stylesheet, the backend's extra route and lifespan task."""

from __future__ import annotations

import reflex as rx

from webapp import backend, routes
from webapp.pages.sign_in import sign_in
from webapp.pages.today import today
from webapp.state import AppState

app = rx.App(
    html_lang="en-GB",
    stylesheets=["/webapp.css"],
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.el.meta(name="theme-color", content="#0b0c0c"),
    ],
    api_transformer=backend.api(),
)
app.register_lifespan_task(backend.notifications_lifespan)

app.add_page(today, route=routes.TODAY, title="Drive Assist", on_load=AppState.require_session)
app.add_page(sign_in, route=routes.SIGN_IN, title="Drive Assist")
