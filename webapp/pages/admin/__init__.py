"""Admin: staff accounts, their roles, sites, Telegram link codes and failed notifications
(the state in ``state``, the page in ``view``)."""

from webapp.pages.admin.state import AdminState
from webapp.pages.admin.view import admin_page

__all__ = ["AdminState", "admin_page"]
