"""One shape for every event handler that acts for the signed-in person.

A handler that reads or changes data is written as::

    @rx.event
    @signed_in
    async def mark_all_read(self, caller: Caller) -> None:
        marked = await inbox.mark_all_inbox_read(uow=caller.uow(), actor=caller.actor)
        self.notice = caller.words.ngettext(...)

``signed_in`` does, once for every handler, what each used to write out by hand:

- asks core who the connection's session belongs to (``auth.actor_for_session``, on every
  event, so an idle, signed-out or switched-off session stops working at once); with no live
  session it empties the tab's stored pages and sends it to the sign-in page, and the handler
  never runs;
- gives the handler a ``Caller``: the actor, the translator for the person's language and the
  process's container (``caller.uow()`` for a unit of work);
- clears the page's old messages first (the page's ``_clear_messages``);
- turns a core ``DomainError`` the handler lets through into the page's error summary (the
  page's ``_show_error``, with the message already in the person's language).

The ``caller`` parameter is the decorator's: Reflex sees the handler's other parameters only.
Works for plain and for generator (``yield``) handlers.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from core.bootstrap import Container
from core.errors import DomainError
from core.schemas.actor import Actor
from core.uow import UnitOfWork
from ui.errors import error_message
from ui.i18n import Translator
from webapp.container import container
from webapp.i18n import translator
from webapp.state import AppState

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    """Who an event handler acts for, in which language, with which container."""

    actor: Actor
    words: Translator
    container: Container

    def uow(self) -> UnitOfWork:
        """A new unit of work (one per service call)."""
        return self.container.uow()


async def resolve_caller(state: AppState) -> Caller | None:
    """The caller behind ``state``'s connection, or None without a live session."""
    actor = await state.actor()
    if actor is None:
        return None
    return Caller(actor=actor, words=translator(state.locale), container=container())


def _public_signature(handler: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """The handler's signature and annotations without its ``caller`` parameter."""
    signature = inspect.signature(handler)
    self_param, caller_param, *rest = signature.parameters.values()
    annotations = {
        name: hint for name, hint in handler.__annotations__.items() if name != caller_param.name
    }
    return signature.replace(parameters=[self_param, *rest]), annotations


def signed_in(handler: Handler) -> Handler:
    """Resolve the caller, or send the tab to sign in; clear messages; show core's errors."""
    public, annotations = _public_signature(handler)

    if inspect.isasyncgenfunction(handler):

        @functools.wraps(handler)
        async def steps(self: AppState, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            caller = await resolve_caller(self)
            if caller is None:
                yield self._signed_out()
                return
            self._clear_messages()
            try:
                async for step in handler(self, caller, *args, **kwargs):
                    yield step
            except DomainError as error:
                yield self._show_error(error_message(error, caller.words), error)

        wrapper: Any = steps
    else:

        @functools.wraps(handler)
        async def once(self: AppState, *args: Any, **kwargs: Any) -> Any:
            caller = await resolve_caller(self)
            if caller is None:
                return self._signed_out()
            self._clear_messages()
            try:
                return await handler(self, caller, *args, **kwargs)
            except DomainError as error:
                return self._show_error(error_message(error, caller.words), error)

        wrapper = once
    wrapper.__signature__ = public
    wrapper.__annotations__ = annotations
    return wrapper  # type: ignore[no-any-return]


__all__ = ["Caller", "resolve_caller", "signed_in"]
