"""What the new-referral page shows after the duplicate check and after saving, as typed rows
in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from core.areas import Offer, offers_on_case
from core.enums import Stage
from core.schemas.actor import Actor
from core.schemas.cases import CaseRead
from core.schemas.referrals import DuplicateCheckRead
from ui.i18n import Translator
from ui.labels import label
from webapp import routes


@dataclass(frozen=True)
class MatchRow:
    """A possible duplicate at a site where the person may see cases: its reference, linked."""

    key: str
    reference: str
    href: str
    site: str
    stage: str
    closeness: str


@dataclass(frozen=True)
class ElsewhereRow:
    """A possible match at a site the person may not see: only where, and whom to ask."""

    key: str
    text: str


@dataclass(frozen=True)
class Confirmation:
    """The saved referral: its reference, risk level and where to go next."""

    reference: str = ""
    level: str = ""
    case_href: str = ""
    allocate_href: str = ""  # '' when the person may not allocate a case manager


def match_rows(found: DuplicateCheckRead, words: Translator) -> list[MatchRow]:
    return [
        MatchRow(
            key=str(match.case_id),
            reference=match.reference,
            href=routes.case_path(match.case_id),
            site=match.site_code,
            stage=label(Stage(match.stage), words),
            closeness=words.gettext("Same name and date of birth")
            if match.closeness == "same"
            else words.gettext("Similar name or date of birth"),
        )
        for match in found.matches
    ]


def elsewhere_rows(found: DuplicateCheckRead, words: Translator) -> list[ElsewhereRow]:
    rows = []
    for place in found.elsewhere:
        whom = ", ".join(place.ask_contacts) or words.gettext("the site's service manager")
        rows.append(
            ElsewhereRow(
                key=place.site_code,
                text=words.gettext(
                    "A possible match exists at {site}. Ask {whom}.",
                    site=f"{place.site_name} ({place.site_code})",
                    whom=whom,
                ),
            )
        )
    return rows


def confirmation(case: CaseRead, actor: Actor, words: Translator) -> Confirmation:
    level = (
        label(case.dash_risk_level, words)
        if case.dash_risk_level is not None
        else words.gettext("Not assessed")
    )
    if case.dash_score is not None:
        level = words.gettext("{level} (DASH score {score})", level=level, score=case.dash_score)
    allocate = (
        routes.case_action_path(case.id, "allocate")
        if offers_on_case(actor, Offer.ALLOCATE_CASE, case)
        else ""
    )
    return Confirmation(
        reference=case.reference,
        level=level,
        case_href=routes.case_path(case.id),
        allocate_href=allocate,
    )
