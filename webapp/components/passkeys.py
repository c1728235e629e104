"""What the pages share about passkeys: reading ``assets/passkeys.js``'s outcome."""

from __future__ import annotations

import json

import reflex as rx

# A page's handler passes this to rx.call_script; it resolves to True where WebAuthn works.
BROWSER_SUPPORT_SCRIPT = "!!(window.daPasskeys && window.daPasskeys.supported())"


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
