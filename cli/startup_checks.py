"""The check every serving entry point makes before it starts: no missing or published secret
outside demo mode (see ``core.bootstrap.check_production_secrets``), said in words."""

from __future__ import annotations

import typer

from cli.common import _, err_console
from core.bootstrap import UnsafeSecrets, check_production_secrets
from core.settings import SecretProblem, Settings


def secret_problem_message(problem: SecretProblem) -> str:
    """One problem, naming the environment variable and never its value."""
    if problem.setting == "WEB_PUBLIC_URL" and problem.problem == "missing":
        return _(
            "WEB_PUBLIC_URL is not set, so invitation and reset links would point at localhost."
            " Put the web app's address as staff reach it (for example https://drive.example.org)"
            " in WEB_PUBLIC_URL and in WEB_ALLOWED_ORIGINS, and start again."
        )
    if problem.setting == "WEB_PUBLIC_URL":
        return _(
            "WEB_PUBLIC_URL is not one of WEB_ALLOWED_ORIGINS, so invitation and reset links"
            " would lead somewhere this app is not served. Put the web app's address as staff"
            " reach it in both, and start again."
        )
    if problem.problem == "invalid" and problem.setting == "AUDIT_CHECKPOINT_KEY":
        return _(
            "{setting} is too short. Put a random value of 32 characters or more in that"
            " environment variable (for example from `openssl rand -base64 33`) and start again.",
            setting=problem.setting,
        )
    if problem.problem == "invalid":
        return _(
            "{setting} does not hold valid keys. Make a key with `drive-assist users"
            " new-sealing-key`, put it in that environment variable and start again.",
            setting=problem.setting,
        )
    if problem.problem == "missing":
        return _(
            "{setting} is not set. Put a secret value of your own in that environment variable"
            " and start again.",
            setting=problem.setting,
        )
    return _(
        "{setting} holds a published example or default secret, so anyone could use it. Put a"
        " secret value of your own in that environment variable and start again.",
        setting=problem.setting,
    )


def refuse_unsafe_secrets(
    settings: Settings | None = None,
    *,
    needs_bot_token: bool = False,
    needs_webhook_secret: bool = False,
    needs_totp_keys: bool = False,
    needs_checkpoint_key: bool = False,
    needs_public_url: bool = False,
) -> None:
    """Print each problem and exit with code 1 when the secrets are not fit to start with."""
    try:
        check_production_secrets(
            settings or Settings(),
            needs_bot_token=needs_bot_token,
            needs_webhook_secret=needs_webhook_secret,
            needs_totp_keys=needs_totp_keys,
            needs_checkpoint_key=needs_checkpoint_key,
            needs_public_url=needs_public_url,
        )
    except UnsafeSecrets as error:
        for problem in error.problems:
            err_console.print(f"[red]{secret_problem_message(problem)}[/red]")
        err_console.print(
            _("Drive Assist did not start. For a demo with sample data only, set DEMO_MODE=true.")
        )
        raise typer.Exit(code=1) from None
