"""Builders for a small, obviously fictional world: two sites and one person in every role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from core.bootstrap import Container
from core.enums import Agency, Face, ReferralReason, ReferralSource, Role
from core.schemas.actor import Actor
from core.schemas.cases import CaseAllocate, CaseCreate, CaseRead
from core.schemas.sites import SiteCreate, SiteRead
from core.schemas.users import MembershipCreate, UserCreate
from core.services import cases as case_services
from core.services import sites as site_services
from core.services import users as user_services

AGENCY_FOR_ROLE = {Role.PANEL_MEMBER: Agency.PROBATION, Role.POLICE_FELLOW: Agency.POLICE}


@dataclass
class World:
    container: Container
    sites: dict[str, SiteRead] = field(default_factory=dict)
    # actors[(site_code, role)] holds that role at that site only.
    actors: dict[tuple[str, Role], Actor] = field(default_factory=dict)

    def actor(self, role: Role, site: str = "HER") -> Actor:
        return self.actors[(site, role)]

    async def add_actor(self, email: str, memberships: list[tuple[str, Role]]) -> Actor:
        await user_services.add_user(
            uow=self.container.uow(),
            actor=Actor.system(),
            data=UserCreate(
                email=email,
                display_name=f"Test {email.split('@')[0]}",
                memberships=[
                    MembershipCreate(site_code=code, role=role, agency=AGENCY_FOR_ROLE.get(role))
                    for code, role in memberships
                ],
            ),
        )
        return await user_services.actor_for_email(
            uow=self.container.uow(), email=email, face=Face.CLI
        )

    async def referral(self, site: str = "HER", **overrides: object) -> CaseRead:
        data = {
            "site_id": self.sites[site].id,
            "referral_date": date(2026, 2, 20),
            "referral_source": ReferralSource.MARAC,
            "referral_reason": ReferralReason.HIGH_RISK,
            "dash_score": 16,
        } | overrides
        return await case_services.create_case(
            uow=self.container.uow(),
            actor=self.actor(Role.SERVICE_MANAGER, site),
            data=CaseCreate(**data),
        )

    async def allocated_case(
        self, site: str = "HER", case_manager: Actor | None = None, **referral: object
    ) -> CaseRead:
        """A case referred (``referral``: overrides for :meth:`referral`) and allocated."""
        case = await self.referral(site, **referral)
        manager = case_manager or self.actor(Role.CASE_MANAGER, site)
        return await case_services.allocate_case(
            uow=self.container.uow(),
            actor=self.actor(Role.SERVICE_MANAGER, site),
            case_id=case.id,
            data=CaseAllocate(version=case.version, case_manager_id=manager.user_id),
        )


async def build_world(container: Container) -> World:
    world = World(container)
    for code, name in (("HER", "Testshire North"), ("WOR", "Testshire South")):
        world.sites[code] = await site_services.create_site(
            uow=container.uow(), actor=Actor.system(), data=SiteCreate(code=code, name=name)
        )
    for code in world.sites:
        for role in Role:
            email = f"{role.value}.{code.lower()}@test.invalid"
            world.actors[(code, role)] = await world.add_actor(email, [(code, role)])
    return world
