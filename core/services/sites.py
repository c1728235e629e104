"""Sites (areas) such as Herefordshire or Hull."""

from __future__ import annotations

from sqlalchemy import select

from core.errors import ValidationFailed
from core.models import Site
from core.policy import Action, authorize, sites_where
from core.schemas.actor import Actor
from core.schemas.sites import SiteCreate, SiteRead
from core.services.audit import record_audit
from core.uow import UnitOfWork


async def create_site(*, uow: UnitOfWork, actor: Actor, data: SiteCreate) -> SiteRead:
    async with uow:
        authorize(actor, Action.SITE_CREATE)
        existing = await uow.session.scalar(select(Site.id).where(Site.code == data.code))
        if existing is not None:
            raise ValidationFailed(field="code", rule="unique")
        site = Site(code=data.code, name=data.name, created_at=uow.clock.now())
        uow.session.add(site)
        await uow.flush()
        record_audit(
            uow, actor, "site.create", entity_type="site", entity_id=site.id, site_id=site.id
        )
        await uow.commit()
        return SiteRead.model_validate(site)


async def list_sites(*, uow: UnitOfWork, actor: Actor) -> list[SiteRead]:
    """The sites the actor belongs to (every site for the host operator)."""
    async with uow:
        query = select(Site).order_by(Site.code)
        if not actor.is_system:
            query = query.where(Site.id.in_(sites_where(actor, Action.SITE_VIEW)))
        sites = (await uow.session.scalars(query)).all()
        return [SiteRead.model_validate(site) for site in sites]
