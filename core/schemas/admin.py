"""The web's Admin page in one read: the sites, the staff at one of them, failed notifications."""

from __future__ import annotations

from core.schemas.common import ReadModel
from core.schemas.notifications_admin import FailedNotificationRead
from core.schemas.sites import SiteRead
from core.schemas.users import UserRead


class AdminPage(ReadModel):
    """``sites``: every site the admin belongs to; ``managed_site_ids``: those where they
    manage staff (in ``sites`` order); ``site_id``: the site whose ``staff`` are listed (the
    one asked for when they manage staff there, else the first; None when none), by name.
    ``failed``: failed notifications to staff at their sites (empty unless they may send
    them again). ``can_create_site``: whether they may create a site."""

    sites: tuple[SiteRead, ...]
    managed_site_ids: tuple[int, ...]
    site_id: int | None
    staff: tuple[UserRead, ...]
    failed: tuple[FailedNotificationRead, ...]
    can_create_site: bool
