"""Fakes of outside services that tests talk to over real protocols.

Imported lazily so that ``python -m tests.fakes.bot_api`` runs the module only once.
"""

from typing import Any

__all__ = ["Call", "FailedCall", "FakeBotApi", "InvalidRequest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tests.fakes import bot_api

        return getattr(bot_api, name)
    raise AttributeError(name)
