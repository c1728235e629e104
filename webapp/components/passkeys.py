"""What the pages share about passkeys: reading ``assets/passkeys.js``'s outcome."""

from __future__ import annotations

import json

import reflex as rx

from core.settings import Settings


def offer_passkeys(settings: Settings, callback: rx.EventHandler) -> rx.event.EventSpec | None:
    """Ask the browser whether it can use this site's passkeys (WebAuthn, and the page at one
    of the passkeys' origins); ``callback`` gets True or False. None: the server has no RP ID.
    """
    relying_party = settings.passkey_relying_party()
    if relying_party is None:
        return None
    origins = json.dumps(list(relying_party[1]))
    return rx.call_script(
        f"!!(window.daPasskeys && window.daPasskeys.supported({origins}))", callback=callback
    )


def credential_from(outcome: object) -> str | None:
    """The credential JSON in a ceremony's outcome, or None (cancelled, timed out, no
    passkey, or anything malformed): core checks whatever is returned."""
    try:
        parsed = json.loads(outcome) if isinstance(outcome, str) else None
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("ok") is not True:
        return None
    credential = parsed.get("credential")
    return credential if isinstance(credential, str) else None


def ceremony(method: str, options_json: str, callback: rx.EventHandler) -> rx.event.EventSpec:
    """Run ``daPasskeys.<method>`` ("create" or "get") in the browser; ``callback`` gets the
    outcome (a JSON string)."""
    return rx.call_script(
        f"window.daPasskeys.{method}({json.dumps(options_json)})", callback=callback
    )
