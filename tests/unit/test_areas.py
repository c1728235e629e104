"""The menu offers each role only the areas its policy lets it use somewhere."""

from __future__ import annotations

from core.areas import Area, areas_for
from core.enums import Face, Role
from core.schemas.actor import Actor, MembershipRead


def _actor(*roles: Role) -> Actor:
    return Actor(
        user_id=7,
        email="test.person@example.test",
        display_name="Test Person",
        face=Face.WEB,
        memberships=tuple(MembershipRead(site_id=1, site_code="TST", role=role) for role in roles),
    )


def test_a_case_manager_is_offered_case_work_but_not_team_reports_or_admin() -> None:
    areas = areas_for(_actor(Role.CASE_MANAGER))
    assert Area.LOG_CONTACT in areas and Area.APPOINTMENTS in areas and Area.ALERTS in areas
    assert Area.TEAM not in areas and Area.REPORTS not in areas and Area.ADMIN not in areas


def test_a_service_manager_is_offered_team_and_reports_but_not_admin() -> None:
    areas = areas_for(_actor(Role.SERVICE_MANAGER))
    assert Area.TEAM in areas and Area.REPORTS in areas
    assert Area.ADMIN not in areas


def test_an_admin_is_offered_admin_and_reports_but_not_logging_contacts() -> None:
    areas = areas_for(_actor(Role.ADMIN))
    assert Area.ADMIN in areas and Area.REPORTS in areas
    assert Area.LOG_CONTACT not in areas and Area.TEAM not in areas


def test_a_panel_member_is_offered_only_today_inbox_and_panel() -> None:
    assert areas_for(_actor(Role.PANEL_MEMBER)) == [Area.TODAY, Area.INBOX, Area.PANEL]


def test_menu_order_is_the_order_of_the_areas() -> None:
    areas = areas_for(_actor(Role.SERVICE_MANAGER, Role.ADMIN))
    assert areas == sorted(areas, key=list(Area).index)
