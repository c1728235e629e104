"""Passkeys (WebAuthn): sign in with the phone's fingerprint or face unlock in one tap.

A signed-in person registers passkeys for their own account (``begin_registration`` then
``finish_registration``), lists, renames and removes them. Anyone may then sign in with one
(``begin_sign_in`` then ``finish_sign_in``): the passkey is discoverable, so no email address is
typed, and the result is the same one-time handoff code as the password-and-code sign-in, which
the web app's cookie endpoint swaps for a session (``core.services.auth``).

Each ceremony's challenge is random, kept server-side as its SHA-256 only, valid for
``CHALLENGE_LIFETIME`` and claimed once: the browser's signed answer carries the challenge
back and is looked up by it. py_webauthn checks the answer: the origin the browser saw and the
RP ID (``Settings.passkey_relying_party``), so a look-alike site cannot relay it (phishing
resistance), the challenge, user verification (fingerprint, face or PIN: required), the
signature, and that the sign count never goes backwards. Any failure is the one
``PasskeyRejected`` and changes nothing but the claimed challenge and an audit event naming the
reason. The authenticator app stays as the fallback.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from core.db.results import rowcount
from core.errors import (
    NotFound,
    NotPermitted,
    PasskeyRejected,
    PasskeysUnavailable,
    ValidationFailed,
)
from core.models import Passkey, PasskeyChallenge, User, WebSession
from core.schemas.actor import Actor
from core.schemas.auth import SignInResult
from core.schemas.common import has_nul
from core.schemas.passkeys import PasskeyRead
from core.services import auth
from core.services.audit import record_audit
from core.settings import Settings
from core.uow import UnitOfWork

RP_NAME = "Drive Assist"
CHALLENGE_LIFETIME = timedelta(minutes=5)
NAME_MAX_LENGTH = 60
MAX_PASSKEYS = 10  # per person: a few phones and a security key or two
REGISTER, SIGN_IN, RESUME = "register", "sign_in", "resume"
_BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


def _relying_party(settings: Settings) -> tuple[str, tuple[str, ...]]:
    found = settings.passkey_relying_party()
    if found is None:
        raise PasskeysUnavailable()
    return found


def passkeys_offered(settings: Settings) -> bool:
    """Whether this installation can offer passkeys (an RP ID and an origin on it are known)."""
    return settings.passkey_relying_party() is not None


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _user_handle(user_id: int) -> bytes:
    """What the passkey carries to say whose it is: the account's number, nothing personal."""
    return str(user_id).encode("ascii")


def _own(actor: Actor) -> int:
    if actor.is_system:
        raise NotPermitted(action="passkey.manage")
    return actor.user_id


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, passkey_id: int | None, **details: object
) -> None:
    """One event per site of the account (as ``core.services.auth``), so each site's admin
    sees it."""
    site_ids: list[int | None] = [*sorted({m.site_id for m in actor.memberships})] or [None]
    for site_id in site_ids:
        record_audit(
            uow,
            actor,
            action,
            entity_type="passkey",
            entity_id=passkey_id,
            site_id=site_id,
            details=dict(details) or None,
        )


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or has_nul(name):
        raise ValidationFailed(field="name", rule="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(field="name", rule="too_long", max_length=NAME_MAX_LENGTH)
    return name


# --- Challenges -------------------------------------------------------------------------------


async def _new_challenge(
    uow: UnitOfWork, purpose: str, user_id: int | None, challenge: bytes
) -> None:
    """Keep ``challenge`` (its hash) for one ceremony; expired and used ones are swept out."""
    now = uow.clock.now()
    await uow.session.execute(
        delete(PasskeyChallenge).where(
            or_(PasskeyChallenge.expires_at <= now, PasskeyChallenge.used_at.is_not(None))
        )
    )
    uow.session.add(
        PasskeyChallenge(
            purpose=purpose,
            user_id=user_id,
            challenge_hash=_hash(challenge),
            created_at=now,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )


async def _claim_challenge(
    uow: UnitOfWork, client_data_json: bytes, purpose: str, user_id: int | None
) -> bytes | None:
    """The challenge the browser signed, if it is a live one of ours for this ceremony; it is
    used up at once (two answers racing: one wins)."""
    try:
        challenge = parse_client_data_json(client_data_json).challenge
    except _BAD_ANSWER:
        return None
    conditions = [
        PasskeyChallenge.challenge_hash == _hash(challenge),
        PasskeyChallenge.purpose == purpose,
        PasskeyChallenge.used_at.is_(None),
        PasskeyChallenge.expires_at > uow.clock.now(),
    ]
    if user_id is not None:
        conditions.append(PasskeyChallenge.user_id == user_id)
    result = await uow.session.execute(
        update(PasskeyChallenge)
        .where(*conditions)
        .values(used_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    return challenge if rowcount(result) == 1 else None


def _reason(error: Exception) -> str:
    """Why py_webauthn refused an answer, as a short code for the audit (never its data)."""
    text = str(error).lower()
    for needle, reason in (
        ("origin", "wrong_origin"),
        ("rp id", "wrong_rp_id"),
        ("sign count", "sign_count_regressed"),
        ("verif", "not_verified"),
        ("signature", "bad_signature"),
    ):
        if needle in text:
            return reason
    return "invalid_response"


# --- Registering a passkey ---------------------------------------------------------------------


async def begin_registration(*, uow: UnitOfWork, actor: Actor, settings: Settings) -> str:
    """The options (JSON) for ``navigator.credentials.create``: a passkey for the actor's own
    account, kept on the device (discoverable) and unlocked by fingerprint, face or PIN."""
    user_id = _own(actor)
    rp_id, _origins = _relying_party(settings)
    async with uow:
        existing = (
            await uow.session.scalars(
                select(Passkey.credential_id).where(Passkey.user_id == user_id)
            )
        ).all()
        options = generate_registration_options(
            rp_id=rp_id,
            rp_name=RP_NAME,
            user_id=_user_handle(user_id),
            user_name=actor.email,
            user_display_name=actor.display_name,
            timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            # The same authenticator is not registered twice for one account.
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing
            ],
        )
        await _new_challenge(uow, REGISTER, user_id, options.challenge)
        await uow.commit()
    return options_to_json(options)


async def finish_registration(
    *, uow: UnitOfWork, actor: Actor, settings: Settings, credential_json: str, name: str
) -> PasskeyRead:
    """Check the browser's answer to ``begin_registration`` and keep the new passkey under
    ``name`` (so its owner can tell their passkeys apart). ``PasskeyRejected`` for any answer
    that does not hold up; audited ``passkey.registered``."""
    user_id = _own(actor)
    name = _clean_name(name)
    rp_id, origins = _relying_party(settings)
    try:
        credential: RegistrationCredential = parse_registration_credential_json(credential_json)
    except _BAD_ANSWER:
        raise PasskeyRejected(step=REGISTER) from None
    async with uow:
        challenge = await _claim_challenge(
            uow, credential.response.client_data_json, REGISTER, user_id
        )
        if challenge is None:
            await uow.commit()
            raise PasskeyRejected(step=REGISTER)
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=list(origins),
                require_user_verification=True,
            )
        except _BAD_ANSWER as error:
            _audit(uow, actor, "passkey.registration_failed", None, reason=_reason(error))
            await uow.commit()
            raise PasskeyRejected(step=REGISTER) from None
        credential_id = bytes_to_base64url(verified.credential_id)
        taken = await uow.session.scalar(
            select(Passkey.id).where(Passkey.credential_id == credential_id)
        )
        count = len(
            (await uow.session.scalars(select(Passkey.id).where(Passkey.user_id == user_id))).all()
        )
        if taken is not None or count >= MAX_PASSKEYS:
            reason = "already_registered" if taken is not None else "too_many"
            _audit(uow, actor, "passkey.registration_failed", None, reason=reason)
            await uow.commit()
            raise PasskeyRejected(step=REGISTER, reason=reason)
        passkey = Passkey(
            user_id=user_id,
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=_transports(credential),
            name=name,
            created_at=uow.clock.now(),
        )
        uow.session.add(passkey)
        await uow.flush()
        _audit(uow, actor, "passkey.registered", passkey.id)
        read = PasskeyRead.model_validate(passkey)
        await uow.commit()
        return read


def _transports(credential: RegistrationCredential) -> list[str] | None:
    known = {t.value for t in AuthenticatorTransport}
    found = [str(getattr(t, "value", t)) for t in credential.response.transports or []]
    return [t for t in found if t in known] or None


# --- The person's own passkeys -----------------------------------------------------------------


async def my_passkeys(*, uow: UnitOfWork, actor: Actor) -> list[PasskeyRead]:
    """The actor's own passkeys, newest first."""
    user_id = _own(actor)
    async with uow:
        rows = await uow.session.scalars(
            select(Passkey)
            .where(Passkey.user_id == user_id)
            .order_by(Passkey.created_at.desc(), Passkey.id.desc())
        )
        return [PasskeyRead.model_validate(row) for row in rows]


async def _own_passkey(uow: UnitOfWork, user_id: int, passkey_id: int) -> Passkey:
    passkey = await uow.session.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)
    )
    if passkey is None:  # someone else's is as unknown as one that does not exist
        raise NotFound(entity="passkeys", id=passkey_id)
    return passkey


async def rename_passkey(
    *, uow: UnitOfWork, actor: Actor, passkey_id: int, name: str
) -> PasskeyRead:
    """Give one of the actor's own passkeys a new name; audited ``passkey.renamed``."""
    user_id = _own(actor)
    name = _clean_name(name)
    async with uow:
        passkey = await _own_passkey(uow, user_id, passkey_id)
        passkey.name = name
        _audit(uow, actor, "passkey.renamed", passkey.id)
        await uow.flush()
        read = PasskeyRead.model_validate(passkey)
        await uow.commit()
        return read


async def remove_passkey(*, uow: UnitOfWork, actor: Actor, passkey_id: int) -> None:
    """Remove one of the actor's own passkeys: it no longer signs anyone in. Audited
    ``passkey.removed``. (The passkey stays on the device until its owner deletes it there.)"""
    user_id = _own(actor)
    async with uow:
        passkey = await _own_passkey(uow, user_id, passkey_id)
        await uow.session.delete(passkey)
        _audit(uow, actor, "passkey.removed", passkey_id)
        await uow.commit()


# --- Signing in with a passkey -----------------------------------------------------------------


async def _options_for_get(
    uow: UnitOfWork,
    settings: Settings,
    purpose: str,
    user_id: int | None,
    allow: list[str] | None = None,
) -> str:
    rp_id, _origins = _relying_party(settings)
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in allow]
        if allow
        else None,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    await _new_challenge(uow, purpose, user_id, options.challenge)
    await uow.commit()
    return options_to_json(options)


async def begin_sign_in(*, uow: UnitOfWork, settings: Settings) -> str:
    """The options (JSON) for ``navigator.credentials.get``: any of this site's passkeys on the
    device, with user verification; no account named (the passkey says whose it is)."""
    _relying_party(settings)
    async with uow:
        return await _options_for_get(uow, settings, SIGN_IN, None)


async def _verified_passkey(
    uow: UnitOfWork,
    settings: Settings,
    credential_json: str,
    purpose: str,
    user_id: int | None,
) -> tuple[Passkey, User]:
    """The passkey (and its active owner) that signed this answer to a live challenge of
    ``purpose`` (for ``user_id``'s account, if given), its sign count and last use updated.
    Otherwise ``PasskeyRejected``, with the failure audited and committed."""
    rp_id, origins = _relying_party(settings)
    try:
        credential: AuthenticationCredential = parse_authentication_credential_json(credential_json)
    except _BAD_ANSWER:
        raise PasskeyRejected(step=purpose) from None
    client_data = credential.response.client_data_json
    user: User | None = None
    reason = None
    challenge = await _claim_challenge(uow, client_data, purpose, user_id)
    found = (
        await uow.session.execute(
            select(Passkey, User)
            .join(User, User.id == Passkey.user_id)
            .where(Passkey.credential_id == bytes_to_base64url(credential.raw_id))
        )
    ).first()
    if challenge is None:
        reason = "passkey_challenge"
    elif found is None:
        reason = "passkey_unknown"
    else:
        passkey, user = found
        handle = credential.response.user_handle
        if not user.is_active:
            reason = "inactive_account"
        elif (user_id is not None and user.id != user_id) or (
            handle is not None and handle != _user_handle(user.id)
        ):
            reason = "passkey_wrong_user"
        else:
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=rp_id,
                    expected_origin=list(origins),
                    credential_public_key=passkey.public_key,
                    credential_current_sign_count=passkey.sign_count,
                    require_user_verification=True,
                )
            except _BAD_ANSWER as error:
                reason = f"passkey_{_reason(error)}"
    if reason is not None or user is None:
        await auth.record_failed_sign_in(uow, user, reason or "passkey_unknown")
        await uow.commit()
        raise PasskeyRejected(step=purpose)
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = uow.clock.now()
    return passkey, user


async def finish_sign_in(
    *, uow: UnitOfWork, settings: Settings, credential_json: str
) -> SignInResult:
    """Check the browser's answer to ``begin_sign_in``; a handoff code for the passkey's owner.

    ``PasskeyRejected`` (audited ``auth.sign_in_failed`` with the reason) for an answer made on
    another site or for another RP ID, a used or unknown challenge, an unknown or removed
    passkey, an inactive account, no user verification, a bad signature or a sign count that
    went backwards. Nothing else changes.
    """
    async with uow:
        passkey, user = await _verified_passkey(uow, settings, credential_json, SIGN_IN, None)
        result = await auth.issue_passkey_handoff(uow, user, passkey.id)
        await uow.commit()
        return result


# --- Resuming an idle session with a passkey ---------------------------------------------------


async def _resumable(
    uow: UnitOfWork, settings: Settings, session_token: str | None
) -> WebSession | None:
    """The session behind ``session_token`` if it ended only for being idle, is still within
    ``web_session_max_hours`` of its sign-in, and its active owner has a passkey."""
    if not session_token or has_nul(session_token):
        return None
    oldest = uow.clock.now() - timedelta(hours=settings.web_session_max_hours)
    return await uow.session.scalar(
        select(WebSession)
        .join(User, User.id == WebSession.user_id)
        .where(
            WebSession.token_hash == auth.hash_token(session_token),
            WebSession.revoked_reason == auth.IDLE,
            WebSession.created_at > oldest,
            User.is_active.is_(True),
            select(Passkey.id).where(Passkey.user_id == User.id).exists(),
        )
    )


async def resume_offered(*, uow: UnitOfWork, settings: Settings, session_token: str | None) -> bool:
    """Whether this browser's session, ended after the idle limit, may be resumed with one of
    its owner's passkeys (on this device, the one holding the session cookie)."""
    if not passkeys_offered(settings):
        return False
    async with uow:
        return await _resumable(uow, settings, session_token) is not None


async def begin_resume(*, uow: UnitOfWork, settings: Settings, session_token: str | None) -> str:
    """The options (JSON) for ``navigator.credentials.get`` limited to the session owner's own
    passkeys. ``PasskeyRejected`` when the session may not be resumed."""
    _relying_party(settings)
    async with uow:
        session = await _resumable(uow, settings, session_token)
        if session is None:
            raise PasskeyRejected(step=RESUME)
        allow = (
            await uow.session.scalars(
                select(Passkey.credential_id).where(Passkey.user_id == session.user_id)
            )
        ).all()
        return await _options_for_get(uow, settings, RESUME, session.user_id, list(allow))


async def finish_resume(
    *, uow: UnitOfWork, settings: Settings, session_token: str | None, credential_json: str
) -> None:
    """Check the answer to ``begin_resume`` and bring the idle session back: the same session
    (its 12-hour limit counts from the original sign-in), active again from now. Audited
    ``auth.session_resumed``. ``PasskeyRejected`` for anything that does not hold up, or when
    the session may no longer be resumed."""
    async with uow:
        session = await _resumable(uow, settings, session_token)
        if session is None:
            raise PasskeyRejected(step=RESUME)
        passkey, user = await _verified_passkey(
            uow, settings, credential_json, RESUME, session.user_id
        )
        now = uow.clock.now()
        result = await uow.session.execute(
            update(WebSession)
            .where(WebSession.id == session.id, WebSession.revoked_reason == auth.IDLE)
            .values(revoked_at=None, revoked_reason=None, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:  # resumed by another tab meanwhile: nothing is kept
            raise PasskeyRejected(step=RESUME)
        auth.record_session_resumed(uow, user, session.id, passkey.id)
        await uow.commit()
