"""Pacing Telegram sends: Telegram's limits are 30 messages a second overall and one a second
to a chat.

The dispatcher asks a pacer two things for each send (:class:`SendPacer`): wait for the next
send slot (overall), then, for the message it chooses for that slot, whether its chat may
receive now. A message whose chat is busy goes back to the outbox until it is free, and the slot
goes to the next message. The slot comes before the message is chosen so that it always carries
the most urgent message waiting at that moment.

:class:`Pacer` keeps both limits in this process. A limiter shared by several worker processes
(a token bucket in Redis or PostgreSQL) would implement the same four calls. :data:`UNPACED`
never waits: the in-app inbox uses it, and Telegram does when pacing is switched off.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

# A pacer forgets chats that have long been free once it knows this many.
_CHATS_REMEMBERED = 10_000


class SendPacer(Protocol):
    async def next_slot(self) -> None:
        """Wait for the next send slot. On return, a send may start at once and counts as
        started (call ``take_chat`` and then the channel without waiting on anything else)."""

    async def take_chat(self, chat_id: int) -> float:
        """0.0 when this chat may receive now (it is then busy until ``sent``); otherwise the
        seconds until it may, and nothing is taken."""

    async def sent(self, chat_id: int) -> None:
        """The send to this chat has come back, delivered or not."""

    async def hold_chat(self, chat_id: int, seconds: float) -> None:
        """Keep a chat quiet for ``seconds`` (Telegram said ``retry_after``)."""


class Unpaced:
    """A pacer that never waits."""

    async def next_slot(self) -> None:
        return None

    async def take_chat(self, chat_id: int) -> float:
        return 0.0

    async def sent(self, chat_id: int) -> None:
        return None

    async def hold_chat(self, chat_id: int, seconds: float) -> None:
        return None


UNPACED = Unpaced()

# How much both of Telegram's limits are stretched (the setting DISPATCH_PACING_MARGIN's
# default). On a quiet 2-CPU machine, 2 or 4 workers and the bot let 31 arrive at the fake Bot
# API within one second in 7 windows of one 5,000-message run at 3 %, in 1 window of 6 runs at
# 5 %, and never in 5 runs at 6 %, at 28.1-28.3 messages a second (28.30 at most; the target
# is 28): bench/RESULTS.md, "The pacing margin".
DEFAULT_MARGIN = 0.06


class Pacer:
    """A global rate and a minimum interval per chat, in this process, on a monotonic clock.

    Overall, a strict sliding window: no more than ``limit`` sends (``rate`` a second, rounded
    down) start in any ``window`` (one second, stretched by ``margin``), however late the event
    loop wakes a sleeper. The window is kept on the moments slots were actually given (the last
    ``limit`` of them), not on a plan: a plan of evenly spaced slots lets sends that woke late
    bunch up with the ones on time after them. Slots are also spread evenly (``window / limit``
    apart, reserved before sleeping, so concurrent callers never share one), so sends leave
    steadily rather than in bursts of ``limit``; the window is what makes the cap strict.

    A chat has one send in flight at most, and may receive again one interval after its last
    send *came back* (``sent``), so two arrivals at Telegram are an interval apart however late
    the first left. Both limits are stretched by ``margin`` (``DEFAULT_MARGIN``, 6 %): a send
    arrives some milliseconds after it starts, a few tens when the machine is busy, and without
    it two arrivals one window apart can fall inside one of Telegram's one-second windows.
    """

    def __init__(
        self,
        *,
        rate: float,
        per_chat_interval: float,
        margin: float = DEFAULT_MARGIN,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate; use UNPACED for none")
        self.limit = max(1, math.floor(rate))
        self.window = max(1.0, self.limit / rate) * (1.0 + margin)
        self._slot_interval = self.window / self.limit
        self._chat_interval = per_chat_interval * (1.0 + margin)
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_slot_at = 0.0
        self._starts: deque[float] = deque(maxlen=self.limit)  # the last ``limit`` slots given
        self._chat_free_at: dict[int, float] = {}  # math.inf while a send is in flight

    async def next_slot(self) -> None:
        now = self._monotonic()
        slot = max(self._next_slot_at, now)
        self._next_slot_at = slot + self._slot_interval
        if slot > now:
            await self._sleep(slot - now)
        # The strict part: no await between the last check and noting the start.
        starts = self._starts
        while True:
            now = self._monotonic()
            if len(starts) < self.limit or starts[0] + self.window <= now:
                break
            await self._sleep(starts[0] + self.window - now)
        starts.append(now)

    async def take_chat(self, chat_id: int) -> float:
        now = self._monotonic()
        free_at = self._chat_free_at.get(chat_id, 0.0)
        if free_at == math.inf:  # in flight: free one interval after it comes back
            return self._chat_interval
        if free_at > now:
            return free_at - now
        self._chat_free_at[chat_id] = math.inf
        if len(self._chat_free_at) > _CHATS_REMEMBERED:
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}
        return 0.0

    async def sent(self, chat_id: int) -> None:
        self._chat_free_at[chat_id] = self._monotonic() + self._chat_interval

    async def hold_chat(self, chat_id: int, seconds: float) -> None:
        until = self._monotonic() + seconds
        self._chat_free_at[chat_id] = max(self._chat_free_at.get(chat_id, 0.0), until)
