"""The web's Admin page in one read, composed from the services the CLI and the page's
buttons use (``sites.list_sites``, ``users.list_users``, ``notifications_admin``), so the
page and those can never disagree about who sees what.
"""

from __future__ import annotations

from core.policy import Action, allowed_somewhere, authorize_somewhere, sites_where
from core.schemas.actor import Actor
from core.schemas.admin import AdminPage
from core.services import notifications_admin, sites, users
from core.uow import UnitOfWork


async def _managed_sites(uow: UnitOfWork, actor: Actor) -> set[int]:
    async with uow:
        authorize_somewhere(actor, Action.USER_MANAGE)  # inside: a refusal is put on record
        return sites_where(actor, Action.USER_MANAGE)


async def admin_page(*, uow: UnitOfWork, actor: Actor, site_id: int | None = None) -> AdminPage:
    """For an actor who manages staff somewhere: their sites, the staff at ``site_id`` (or at
    the first site where they manage staff), and the failed notifications they may retry."""
    managed = await _managed_sites(uow, actor)
    known = await sites.list_sites(uow=uow, actor=actor)
    managed_ids = tuple(site.id for site in known if site.id in managed)
    shown = site_id if site_id in managed_ids else (managed_ids[0] if managed_ids else None)
    staff = [] if shown is None else await users.list_users(uow=uow, actor=actor, site_id=shown)
    failed = (
        await notifications_admin.list_failed_notifications(uow=uow, actor=actor)
        if allowed_somewhere(actor, Action.NOTIFICATION_ADMIN)
        else []
    )
    return AdminPage(
        sites=tuple(known),
        managed_site_ids=managed_ids,
        site_id=shown,
        staff=tuple(sorted(staff, key=lambda person: (person.display_name, person.id))),
        failed=tuple(failed),
        can_create_site=allowed_somewhere(actor, Action.SITE_CREATE),
    )
