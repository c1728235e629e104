"""The menu offers each role only the areas its policy lets it use somewhere."""

from __future__ import annotations

from core.areas import Area, Offer, areas_for, offer_sites, offers, offers_on_case
from core.enums import Face, Role, Stage
from core.schemas.actor import Actor, MembershipRead
from core.schemas.cases import CaseRead


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


def test_only_service_managers_and_admins_are_offered_resetting_a_colleagues_sign_in() -> None:
    for role in Role:
        resets = role in {Role.SERVICE_MANAGER, Role.ADMIN}
        assert offers(_actor(role), Offer.RESET_SIGN_IN) is resets, role


def test_menu_order_is_the_order_of_the_areas() -> None:
    areas = areas_for(_actor(Role.SERVICE_MANAGER, Role.ADMIN))
    assert areas == sorted(areas, key=list(Area).index)


def _case(stage: Stage = Stage.ACTIVE, case_manager_id: int = 7, site_id: int = 1) -> CaseRead:
    return CaseRead.model_construct(
        id=3,
        site_id=site_id,
        reference="DRV-TST-0003",
        stage=stage,
        case_manager_id=case_manager_id,
    )


def test_only_the_roles_the_policy_allows_are_offered_the_admin_buttons() -> None:
    admin, manager = _actor(Role.ADMIN), _actor(Role.CASE_MANAGER)
    assert offers(admin, Offer.SAR_EXPORT) and offers(admin, Offer.AUDIT_SEARCH)
    assert not offers(manager, Offer.SAR_EXPORT)
    assert not offers(manager, Offer.AUDIT_SEARCH)
    assert offer_sites(admin, Offer.MANAGE_STAFF) == frozenset({1})
    assert offer_sites(manager, Offer.MANAGE_STAFF) == frozenset()
    assert offers(_actor(Role.POLICE_FELLOW), Offer.ANSWER_ALERTS)
    assert not offers(manager, Offer.ANSWER_ALERTS)


def test_the_system_actor_is_offered_nothing() -> None:
    system = Actor.system(Face.WEB)
    assert all(not offers(system, offer) for offer in Offer)
    assert not offers_on_case(system, Offer.BOOK_APPOINTMENT, _case())


def test_booking_is_offered_on_an_open_case_of_my_own_and_not_on_a_closed_or_other_site_one() -> (
    None
):
    manager = _actor(Role.CASE_MANAGER)
    assert offers_on_case(manager, Offer.BOOK_APPOINTMENT, _case())
    assert not offers_on_case(manager, Offer.BOOK_APPOINTMENT, _case(stage=Stage.CLOSED))
    assert not offers_on_case(manager, Offer.BOOK_APPOINTMENT, _case(site_id=2))


def test_my_cases_is_offered_to_idvas_only() -> None:
    assert Area.MY_CASES in areas_for(_actor(Role.IDVA))
    for role in (Role.SERVICE_MANAGER, Role.CASE_MANAGER, Role.ADMIN, Role.PANEL_COORDINATOR):
        assert Area.MY_CASES not in areas_for(_actor(role)), role


def test_a_closed_case_offers_reopening_to_its_service_manager_and_no_stage_work() -> None:
    manager, case_manager = _actor(Role.SERVICE_MANAGER), _actor(Role.CASE_MANAGER)
    closed = _case(stage=Stage.CLOSED)
    assert offers_on_case(manager, Offer.REOPEN_CASE, closed)
    assert not offers_on_case(case_manager, Offer.REOPEN_CASE, closed)
    assert not offers_on_case(manager, Offer.REOPEN_CASE, _case())
    for offer in (Offer.CHANGE_STAGE, Offer.CLOSE_CASE, Offer.ALLOCATE_CASE, Offer.LOG_CONTACT):
        assert offers_on_case(manager, offer, _case())
        assert not offers_on_case(manager, offer, closed)
    # MARAC appearances and police incidents after closure feed the outcome measures.
    assert offers_on_case(manager, Offer.RECORD_MARAC, closed)
    assert offers_on_case(manager, Offer.RECORD_INCIDENT, closed)


def test_adding_an_intervention_is_offered_on_an_open_case_only_updating_one_on_any() -> None:
    case_manager = _actor(Role.CASE_MANAGER)
    closed = _case(stage=Stage.CLOSED)
    assert offers_on_case(case_manager, Offer.ADD_INTERVENTION, _case())
    assert not offers_on_case(case_manager, Offer.ADD_INTERVENTION, closed)
    assert not offers_on_case(case_manager, Offer.ADD_INTERVENTION, _case(case_manager_id=99))
    assert offers_on_case(case_manager, Offer.MANAGE_INTERVENTIONS, closed)
    assert not offers_on_case(_actor(Role.PANEL_MEMBER), Offer.ADD_INTERVENTION, _case())


def test_a_case_manager_works_her_own_case_but_does_not_allocate_reopen_or_transfer_it() -> None:
    case_manager = _actor(Role.CASE_MANAGER)
    mine, not_mine = _case(), _case(case_manager_id=99)
    for offer in (Offer.CHANGE_STAGE, Offer.CLOSE_CASE, Offer.RECORD_RISK, Offer.LOG_CONTACT):
        assert offers_on_case(case_manager, offer, mine)
        assert not offers_on_case(case_manager, offer, not_mine)
    for offer in (Offer.ALLOCATE_CASE, Offer.TRANSFER_CASE, Offer.MANAGE_PEOPLE):
        assert not offers_on_case(case_manager, offer, mine)
    assert not offers_on_case(case_manager, Offer.CHANGE_STAGE, _case(stage=Stage.REFERRED))


def test_a_transfer_is_offered_only_to_someone_who_may_transfer_at_another_site_too() -> None:
    one_site = _actor(Role.SERVICE_MANAGER)
    two_sites = Actor(
        user_id=7,
        email="test.person@example.test",
        display_name="Test Person",
        face=Face.WEB,
        memberships=tuple(
            MembershipRead(site_id=site, site_code=code, role=Role.SERVICE_MANAGER)
            for site, code in ((1, "TST"), (2, "OTH"))
        ),
    )
    assert not offers_on_case(one_site, Offer.TRANSFER_CASE, _case())
    assert offers_on_case(two_sites, Offer.TRANSFER_CASE, _case())
    assert not offers_on_case(two_sites, Offer.TRANSFER_CASE, _case(stage=Stage.CLOSED))


def test_a_new_referral_is_offered_to_service_managers_and_coordinators_and_where_a_site_allows():
    for role in (Role.SERVICE_MANAGER, Role.PANEL_COORDINATOR):
        assert Area.REFERRAL in areas_for(_actor(role)), role
    manager = _actor(Role.CASE_MANAGER)
    assert Area.REFERRAL not in areas_for(manager)
    # The site lets case managers refer (core.services.referrals.referral_sites found it).
    assert Area.REFERRAL in areas_for(manager, referral_sites=[1])
    assert Area.REFERRAL not in areas_for(Actor.system(), referral_sites=[1])
