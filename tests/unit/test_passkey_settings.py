"""Which RP ID and origins passkeys use, from WEB_RP_ID and WEB_ALLOWED_ORIGINS."""

from __future__ import annotations

from core.settings import Settings


def test_the_rp_id_is_the_first_allowed_origins_host_when_it_is_not_set() -> None:
    settings = Settings(web_allowed_origins="https://drive.example.org,https://other.invalid")
    assert settings.passkey_relying_party() == ("drive.example.org", ("https://drive.example.org",))


def test_a_set_rp_id_takes_every_allowed_origin_on_its_domain_and_no_other() -> None:
    settings = Settings(
        web_allowed_origins="https://a.example.org,https://example.org,https://example.org.evil.invalid",
        web_rp_id="Example.org",
    )
    assert settings.passkey_relying_party() == (
        "example.org",
        ("https://a.example.org", "https://example.org"),
    )


def test_an_ip_address_or_no_origin_on_the_domain_means_no_passkeys() -> None:
    assert Settings().passkey_relying_party() is None
    assert Settings(web_allowed_origins="http://127.0.0.1:3000").passkey_relying_party() is None
    assert Settings(web_rp_id="[::1]").passkey_relying_party() is None
    assert (
        Settings(
            web_allowed_origins="https://a.invalid", web_rp_id="b.invalid"
        ).passkey_relying_party()
        is None
    )
