"""What the web sign-in services hand out. Tokens and secrets here are shown once, never stored
in the clear (only their SHA-256 is kept), and never logged."""

from __future__ import annotations

from datetime import datetime

from core.schemas.common import ReadModel


class SignInResult(ReadModel):
    """Signed in: send the browser to the cookie endpoint with ``handoff_code`` before
    ``expires_at``; ``redeem_handoff`` exchanges it, once, for the session token."""

    handoff_code: str
    expires_at: datetime
