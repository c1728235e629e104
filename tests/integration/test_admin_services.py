"""The admin's account services: switching a staff account off and on, and changing a role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.enums import Face, Role
from core.errors import NotFound, NotPermitted, ValidationFailed
from core.models import AuditEvent, Membership
from core.schemas.users import RoleChange
from core.services import admin as admin_services
from core.services import telegram_links
from core.services import users as user_services
from tests.factories import World


async def audit_actions(world: World, user_id: int) -> list[tuple[str, int | None]]:
    async with world.container.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.site_id)
            .where(AuditEvent.entity_type == "user", AuditEvent.entity_id == user_id)
            .order_by(AuditEvent.id)
        )
        return [(action, site_id) for action, site_id in rows]


async def test_an_admin_switches_a_staff_account_off_and_the_person_can_no_longer_sign_in(
    world: World,
) -> None:
    admin, cm = world.actor(Role.ADMIN), world.actor(Role.CASE_MANAGER)

    switched_off = await user_services.set_user_active(
        uow=world.container.uow(), actor=admin, user_id=cm.user_id, is_active=False
    )

    assert switched_off.is_active is False
    with pytest.raises(NotPermitted):
        await user_services.actor_for_email(
            uow=world.container.uow(), email=cm.email, face=Face.WEB
        )
    assert ("user.deactivate", world.sites["HER"].id) in await audit_actions(world, cm.user_id)


async def test_an_admin_switches_an_account_back_on_and_it_signs_in_again(world: World) -> None:
    admin, cm = world.actor(Role.ADMIN), world.actor(Role.CASE_MANAGER)
    uow = world.container.uow
    await user_services.set_user_active(uow=uow(), actor=admin, user_id=cm.user_id, is_active=False)

    back_on = await user_services.set_user_active(
        uow=uow(), actor=admin, user_id=cm.user_id, is_active=True
    )

    assert back_on.is_active is True
    again = await user_services.actor_for_email(uow=uow(), email=cm.email, face=Face.WEB)
    assert again.user_id == cm.user_id
    actions = [action for action, _ in await audit_actions(world, cm.user_id)]
    assert actions[-2:] == ["user.deactivate", "user.reactivate"]


async def test_an_admin_cannot_switch_off_their_own_account(world: World) -> None:
    admin = world.actor(Role.ADMIN)

    with pytest.raises(ValidationFailed):
        await user_services.set_user_active(
            uow=world.container.uow(), actor=admin, user_id=admin.user_id, is_active=False
        )


@pytest.mark.parametrize(("role", "site"), [(Role.ADMIN, "WOR"), (Role.SERVICE_MANAGER, "HER")])
async def test_only_an_admin_at_the_accounts_site_may_switch_it_off_or_change_its_role(
    world: World, role: Role, site: str
) -> None:
    cm, actor = world.actor(Role.CASE_MANAGER), world.actor(role, site)

    with pytest.raises(NotPermitted):
        await user_services.set_user_active(
            uow=world.container.uow(), actor=actor, user_id=cm.user_id, is_active=False
        )
    with pytest.raises(NotPermitted):
        await user_services.change_role(
            uow=world.container.uow(),
            actor=actor,
            user_id=cm.user_id,
            data=RoleChange(site_id=world.sites["HER"].id, role=Role.SERVICE_MANAGER),
        )


async def test_changing_a_role_replaces_the_role_held_at_that_site_and_is_audited(
    world: World,
) -> None:
    admin, cm = world.actor(Role.ADMIN), world.actor(Role.CASE_MANAGER)
    her = world.sites["HER"].id

    changed = await user_services.change_role(
        uow=world.container.uow(),
        actor=admin,
        user_id=cm.user_id,
        data=RoleChange(site_id=her, role=Role.SERVICE_MANAGER),
    )

    assert [(m.site_code, m.role) for m in changed.memberships] == [("HER", Role.SERVICE_MANAGER)]
    async with world.container.session_factory() as session:
        held = (
            await session.scalars(select(Membership.role).where(Membership.user_id == cm.user_id))
        ).all()
    assert held == [Role.SERVICE_MANAGER]
    promoted = await user_services.actor_for_email(
        uow=world.container.uow(), email=cm.email, face=Face.WEB
    )
    assert promoted.memberships[0].role is Role.SERVICE_MANAGER
    assert ("user.change_role", her) in await audit_actions(world, cm.user_id)


async def test_a_role_cannot_be_changed_at_a_site_where_the_person_does_not_work(
    world: World,
) -> None:
    wor_admin = world.actor(Role.ADMIN, "WOR")
    her_cm = world.actor(Role.CASE_MANAGER)

    with pytest.raises(NotFound):
        await user_services.change_role(
            uow=world.container.uow(),
            actor=wor_admin,
            user_id=her_cm.user_id,
            data=RoleChange(site_id=world.sites["WOR"].id, role=Role.IDVA),
        )


async def test_an_admin_cannot_change_their_own_role(world: World) -> None:
    admin = world.actor(Role.ADMIN)

    with pytest.raises(ValidationFailed):
        await user_services.change_role(
            uow=world.container.uow(),
            actor=admin,
            user_id=admin.user_id,
            data=RoleChange(site_id=world.sites["HER"].id, role=Role.CASE_MANAGER),
        )


async def test_the_staff_list_says_who_has_a_telegram_link(world: World) -> None:
    admin, cm = world.actor(Role.ADMIN), world.actor(Role.CASE_MANAGER)
    issued = await telegram_links.issue_link_code(
        uow=world.container.uow(), actor=cm, user_id=cm.user_id
    )
    await telegram_links.redeem_link_code(
        uow=world.container.uow(), code=issued.code, telegram_user_id=4242, chat_id=4242
    )

    staff = await user_services.list_users(
        uow=world.container.uow(), actor=admin, site_id=world.sites["HER"].id
    )

    linked = {person.email: person.telegram_linked for person in staff}
    assert linked[cm.email] is True
    assert linked[admin.email] is False


async def test_the_admin_page_lists_the_staff_at_a_site_the_admin_manages_by_name(
    world: World,
) -> None:
    both = await world.add_actor(
        "two.sites.admin@test.invalid", [("HER", Role.ADMIN), ("WOR", Role.ADMIN)]
    )
    cm = world.actor(Role.CASE_MANAGER)
    her, wor = world.sites["HER"].id, world.sites["WOR"].id

    at_wor = await admin_services.admin_page(uow=world.container.uow(), actor=both, site_id=wor)
    first = await admin_services.admin_page(uow=world.container.uow(), actor=both)

    assert at_wor.site_id == wor
    assert cm.user_id not in {person.id for person in at_wor.staff}
    assert first.site_id == her  # none asked for: the first by code
    assert cm.user_id in {person.id for person in first.staff}
    names = [person.display_name for person in first.staff]
    assert names == sorted(names)
    assert set(first.managed_site_ids) == {her, wor}


async def test_the_admin_page_never_lists_staff_at_a_site_the_admin_does_not_manage(
    world: World,
) -> None:
    admin = world.actor(Role.ADMIN)

    page = await admin_services.admin_page(
        uow=world.container.uow(), actor=admin, site_id=world.sites["WOR"].id
    )

    assert page.managed_site_ids == (world.sites["HER"].id,)
    assert page.site_id == world.sites["HER"].id
    assert world.actor(Role.CASE_MANAGER, "WOR").user_id not in {p.id for p in page.staff}


async def test_the_admin_page_is_refused_to_anyone_who_manages_no_staff(world: World) -> None:
    with pytest.raises(NotPermitted):
        await admin_services.admin_page(
            uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER)
        )
