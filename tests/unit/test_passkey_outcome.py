"""What the pages take from ``assets/passkeys.js``'s outcome: the credential, or nothing."""

from __future__ import annotations

import json

from webapp.components.passkeys import credential_from


def test_a_completed_ceremony_gives_its_credential_and_anything_else_gives_none() -> None:
    assert credential_from(json.dumps({"ok": True, "credential": '{"id": "x"}'})) == '{"id": "x"}'
    for outcome in (
        json.dumps({"ok": False, "error": "NotAllowedError"}),  # cancelled or timed out
        json.dumps({"ok": "true", "credential": "{}"}),
        json.dumps({"ok": True, "credential": {"id": "x"}}),
        json.dumps(["ok"]),
        "not json",
        None,
        42,
    ):
        assert credential_from(outcome) is None
