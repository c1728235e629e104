"""What the pages share about setting up an authenticator app: the new secret as a QR code
and as a key to type in (an invitation or reset link, and changing one's own on My account)."""

from __future__ import annotations

import reflex as rx

from core.services import auth
from ui.i18n import Translator
from webapp.i18n import _


def qr_svg(otpauth_uri: str, words: Translator) -> str:
    """The QR code of a new authenticator's ``otpauth://`` address, titled in ``words``."""
    return auth.totp_qr_svg(otpauth_uri, title=words.gettext("QR code for your authenticator app"))


def new_authenticator(svg: rx.Var, secret: rx.Var) -> rx.Component:
    """The QR code (``svg``, from ``qr_svg``) and the key (``secret``) to set up an app with."""
    return rx.fragment(
        rx.el.div(rx.html(svg), class_name="qr-code"),
        rx.el.p(
            _("Key:"),
            " ",
            rx.el.code(secret, class_name="secret", custom_attrs={"data-testid": "totp-secret"}),
        ),
    )
