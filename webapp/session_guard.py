"""What a reconnecting tab is sent back: nothing without a live session, and never victims'
details that core has not just read for it.

Reflex keeps each tab's state on the server under the tab's token and, when a socket presents
that token with ``hydrate``, sends the whole stored state back before any page loader runs.
So a socket that had only a closed tab's token (no session cookie) used to receive what the
tab last showed, an IDVA's victims included, with no audit event. This Reflex middleware runs
before every hydrate:

- no live session behind the connection's cookie: every page's stored state is emptied (the
  language kept) before the snapshot is taken, so the snapshot holds nothing; the page's
  ``require_session`` then sends the tab to sign in;
- a live session: states that hold restricted data (``forget_restricted``: victims and
  children on the case page) drop it, and the page's own loader reads it again through core,
  which checks the permission and audits the read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx
from reflex.middleware import Middleware

from webapp.state import AppState

if TYPE_CHECKING:
    from reflex.app import App
    from reflex.state import BaseState, StateUpdate
    from reflex_base.event import Event

HYDRATE_EVENTS = frozenset(
    f"{rx.State.get_full_name()}.{name}" for name in ("hydrate", "hydrate_and_load")
)


def _loaded_states(state: BaseState) -> list[BaseState]:
    """``state`` and every substate of it that this event loaded."""
    found = [state]
    for substate in state.substates.values():
        found.extend(_loaded_states(substate))
    return found


class SessionGuard(Middleware):
    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        if event.name not in HYDRATE_EVENTS:
            return None
        shell = await state.get_state(AppState)
        if await shell.actor() is None:
            shell._forget_pages()
            return None
        for loaded in _loaded_states(state._get_root_state()):
            forget = getattr(loaded, "forget_restricted", None)
            if forget is not None:
                forget()
        return None
