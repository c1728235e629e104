"""Who is acting: the user, the roles they hold at each site, and the face they came through."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.enums import Agency, Face, Locale, Role


class MembershipRead(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    site_id: int
    site_code: str
    role: Role
    agency: Agency | None = None


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    email: str
    display_name: str
    locale: Locale = Locale.EN_GB
    face: Face
    memberships: tuple[MembershipRead, ...] = ()
    # The operator at the server's own command line: may set up sites and accounts, nothing
    # about cases (see ``core.policy.SYSTEM_ACTIONS``).
    is_system: bool = False

    @classmethod
    def system(cls, face: Face = Face.CLI) -> Actor:
        return cls(user_id=0, email="system", display_name="system", face=face, is_system=True)

    def roles_at(self, site_id: int) -> set[Role]:
        return {m.role for m in self.memberships if m.site_id == site_id}

    @property
    def site_ids(self) -> set[int]:
        return {m.site_id for m in self.memberships}
