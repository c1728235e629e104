"""The permission policy, checked against a table written out by hand.

The table below is the specification; ``core.policy.POLICY`` is the implementation. Every
role x action x (own site, other site) x (my case or not, my record or not) is tried, and any
difference, an allow the table does not state or a refusal it does not expect, fails.

Cells: ``S`` any record at my site, ``C`` only cases allocated to me at my site,
``O`` only my own records at my site, ``A`` wherever I hold the role, ``-`` never.
"""

from __future__ import annotations

import itertools

import pytest

from core.enums import Face, Role
from core.errors import NotPermitted
from core.policy import (
    POLICY,
    Action,
    allowed_somewhere,
    authorize,
    authorize_somewhere,
    is_allowed,
)
from core.schemas.actor import Actor, MembershipRead

ROLES = [
    Role.CASE_MANAGER,
    Role.SERVICE_MANAGER,
    Role.PANEL_COORDINATOR,
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.PANEL_MEMBER,
    Role.ADMIN,
]
#                          CM   SM   PC   PF   IDVA PM   ADMIN
EXPECTED = """
site.create                -    -    -    -    -    -    A
site.view                  S    S    S    S    S    S    S
site.manage                -    -    -    -    -    -    S
user.manage                -    -    -    -    -    -    S
user.view                  -    S    S    -    -    -    S
user.unlock                -    S    -    -    -    -    S
account.reset              -    S    -    -    -    -    S
case.create                -    S    S    -    -    -    -
case.view                  S    S    S    S    S    -    S
case.update                C    S    -    -    -    -    -
case.allocate              -    S    -    -    -    -    -
case.change_stage          C    S    -    -    -    -    -
case.close                 C    S    -    -    -    -    -
case.reopen                -    S    -    -    -    -    -
case.transfer              -    S    -    -    -    -    S
case_notes.view            S    S    -    S    S    -    -
victim.view                -    S    -    -    S    -    S
victim.manage              -    S    -    -    S    -    -
victim.assign              -    S    -    -    -    -    -
risk.record                C    S    -    -    S    -    -
marac.record               C    S    S    -    S    -    -
incident.record            C    S    -    S    -    -    -
appointment.manage         C    S    -    -    -    -    -
contact.log                C    S    -    -    -    -    -
intervention.manage        C    S    -    S    -    -    -
panel.view                 S    S    S    S    S    S    S
panel.manage               -    S    S    -    -    -    -
panel_action.update        C    S    S    O    O    O    -
panel.rsvp                 O    O    O    O    O    O    O
audit.view                 -    -    -    -    -    -    S
alert.raise                C    S    -    -    -    -    -
alert.respond              -    S    -    S    -    -    -
telegram_link.manage       O    O    O    O    O    O    S
team.view                  -    S    -    -    -    -    -
notification.admin         -    -    -    -    -    -    S
report.view                -    S    -    -    -    -    S
sar.export                 -    -    -    -    -    -    S
retention.manage           -    -    -    -    -    -    S
"""

ME, SOMEONE_ELSE = 7, 8
MY_SITE, OTHER_SITE = 1, 2


def _table() -> dict[tuple[Action, Role], str]:
    table = {}
    for line in EXPECTED.strip().splitlines():
        action, *cells = line.split()
        assert len(cells) == len(ROLES), line
        for role, cell in zip(ROLES, cells, strict=True):
            table[(Action(action), role)] = cell
    return table


TABLE = _table()


def _actor(role: Role) -> Actor:
    return Actor(
        user_id=ME,
        email="someone@test.invalid",
        display_name="Someone",
        face=Face.WEB,
        memberships=(MembershipRead(site_id=MY_SITE, site_code="HER", role=role),),
    )


def _expected(cell: str, *, own_site: bool, my_case: bool, my_record: bool) -> bool:
    if cell == "A":
        return True
    if not own_site:
        return False
    return {"S": True, "C": my_case, "O": my_record, "-": False}[cell]


def test_the_table_names_every_action_and_every_role() -> None:
    assert {action for action, _ in TABLE} == set(Action)
    assert set(ROLES) == set(Role)


CONTEXTS = list(itertools.product([True, False], repeat=3))


@pytest.mark.parametrize(("action", "role"), sorted(TABLE, key=str))
def test_the_policy_allows_exactly_what_the_table_states(action: Action, role: Role) -> None:
    actor = _actor(role)
    for own_site, my_case, my_record in CONTEXTS:
        allowed = is_allowed(
            actor,
            action,
            site_id=MY_SITE if own_site else OTHER_SITE,
            case_manager_id=ME if my_case else SOMEONE_ELSE,
            owner_user_id=ME if my_record else SOMEONE_ELSE,
        )
        expected = _expected(
            TABLE[(action, role)], own_site=own_site, my_case=my_case, my_record=my_record
        )
        context = f"own_site={own_site} my_case={my_case} my_record={my_record}"
        assert allowed is expected, f"{role} {action} {context}"


def test_the_policy_states_no_action_the_table_does_not_know() -> None:
    assert set(POLICY) <= set(Action)


def test_victim_details_are_only_for_idvas_service_managers_and_admins() -> None:
    allowed = {role for role in Role if is_allowed(_actor(role), Action.VICTIM_VIEW, site_id=1)}
    assert allowed == {Role.IDVA, Role.SERVICE_MANAGER, Role.ADMIN}


def test_a_role_at_one_site_grants_nothing_at_another() -> None:
    actor = _actor(Role.SERVICE_MANAGER)
    with pytest.raises(NotPermitted) as refused:
        authorize(actor, Action.CASE_VIEW, site_id=OTHER_SITE)
    assert refused.value.code == "not_permitted"
    assert refused.value.details == {"action": "case.view"}


def test_the_host_operator_may_set_up_sites_and_accounts_but_not_read_cases() -> None:
    system = Actor.system()
    assert is_allowed(system, Action.SITE_CREATE)
    assert is_allowed(system, Action.USER_MANAGE, site_id=MY_SITE)
    assert not any(
        is_allowed(system, action, site_id=MY_SITE)
        for action in (Action.CASE_VIEW, Action.VICTIM_VIEW, Action.CONTACT_LOG, Action.AUDIT_VIEW)
    )


def test_roles_held_at_two_sites_each_apply_at_their_own_site() -> None:
    actor = Actor(
        user_id=ME,
        email="two@test.invalid",
        display_name="Two Sites",
        face=Face.BOT,
        memberships=(
            MembershipRead(site_id=MY_SITE, site_code="HER", role=Role.SERVICE_MANAGER),
            MembershipRead(site_id=OTHER_SITE, site_code="WOR", role=Role.PANEL_MEMBER),
        ),
    )
    assert is_allowed(actor, Action.CASE_VIEW, site_id=MY_SITE)
    assert not is_allowed(actor, Action.CASE_VIEW, site_id=OTHER_SITE)
    assert is_allowed(actor, Action.PANEL_VIEW, site_id=OTHER_SITE)


def test_the_host_operator_may_issue_and_revoke_telegram_links_at_any_site() -> None:
    system = Actor.system()
    assert is_allowed(system, Action.TELEGRAM_LINK_MANAGE, site_id=MY_SITE)
    assert is_allowed(system, Action.TELEGRAM_LINK_MANAGE, site_id=OTHER_SITE)


def test_an_action_allowed_somewhere_is_one_some_role_of_mine_grants_at_some_site() -> None:
    fellow, case_manager = _actor(Role.POLICE_FELLOW), _actor(Role.CASE_MANAGER)
    assert allowed_somewhere(fellow, Action.ALERT_RESPOND)
    assert not allowed_somewhere(case_manager, Action.ALERT_RESPOND)
    assert not allowed_somewhere(Actor.system(), Action.ALERT_RESPOND)
    authorize_somewhere(fellow, Action.ALERT_RESPOND)
    with pytest.raises(NotPermitted):
        authorize_somewhere(case_manager, Action.PANEL_MANAGE)


def test_the_host_operator_may_change_a_sites_settings() -> None:
    assert is_allowed(Actor.system(), Action.SITE_MANAGE, site_id=MY_SITE)


def test_whoever_may_read_a_cases_notes_may_read_the_case_itself() -> None:
    for role in Role:
        actor = _actor(role)
        if is_allowed(actor, Action.CASE_NOTES_VIEW, site_id=MY_SITE):
            assert is_allowed(actor, Action.CASE_VIEW, site_id=MY_SITE), role


def test_panel_coordinators_and_admins_read_a_case_but_not_its_notes() -> None:
    for role in (Role.PANEL_COORDINATOR, Role.ADMIN):
        actor = _actor(role)
        assert is_allowed(actor, Action.CASE_VIEW, site_id=MY_SITE)
        assert not is_allowed(actor, Action.CASE_NOTES_VIEW, site_id=MY_SITE)


def test_the_host_operator_may_neither_view_a_team_nor_retry_notifications() -> None:
    system = Actor.system()
    assert not is_allowed(system, Action.TEAM_VIEW, site_id=MY_SITE)
    assert not is_allowed(system, Action.NOTIFICATION_ADMIN, site_id=MY_SITE)
