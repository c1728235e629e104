from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from core.enums import Agency, Locale, Role
from core.schemas.common import InputModel, ReadModel, ShortText
from core.schemas.sites import SiteCode

# Deliberately plain: staff addresses include .invalid demo domains and police.uk addresses,
# and an address is checked for real when a link code or reset is sent to it.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=12, max_length=256)]


class MembershipCreate(InputModel):
    site_code: SiteCode
    role: Role
    agency: Agency | None = None


class UserCreate(InputModel):
    email: Email
    display_name: ShortText
    password: Password | None = None
    locale: Locale = Locale.EN_GB
    memberships: list[MembershipCreate] = Field(default_factory=list, max_length=50)


class UserMembershipRead(ReadModel):
    site_id: int
    site_code: str
    role: Role
    agency: Agency | None


class UserRead(ReadModel):
    id: int
    email: str
    display_name: str
    locale: Locale
    is_active: bool
    created_at: datetime
    memberships: tuple[UserMembershipRead, ...]
    # Filled in by ``list_users`` only (elsewhere False): whether a Telegram link is active.
    telegram_linked: bool = False


class RoleChange(InputModel):
    """The one role a staff member is to hold at a site, in place of the roles held there now."""

    site_id: int
    role: Role
    agency: Agency | None = None
