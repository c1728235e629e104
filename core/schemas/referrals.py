"""A new referral, with the DASH checklist and the duplicate check that runs before it is saved."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import StringConstraints

from core.enums import DashAnswer, ReferralReason, ReferralSource, Role
from core.schemas.cases import AbuseProfile, CaseRead, DashScore
from core.schemas.common import InputModel, LongText, ReadModel, ShortText

Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Short40 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Short120 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


class PerpetratorDetails(InputModel):
    name: ShortText
    date_of_birth: date | None = None
    gender: Short40 | None = None
    address: LongText | None = None
    phone: Phone | None = None
    languages: ShortText | None = None
    interpreter_needed: bool | None = None


class ReferralCreate(InputModel):
    """A new referral. Give the DASH checklist (``dash_answers``, all of q1..q24) or, when it was
    done elsewhere, the score (``dash_score``), or neither when it is not known; never both.

    ``save_despite_duplicates``: the person saw the possible duplicates and saves anyway.
    """

    site_id: int
    referral_date: date
    referral_source: ReferralSource
    referral_reason: ReferralReason
    subject: PerpetratorDetails
    referrer_agency: Short120 | None = None
    referrer_contact: LongText | None = None
    dash_answers: dict[str, DashAnswer] | None = None
    dash_score: DashScore | None = None
    abuse_at_start: AbuseProfile | None = None
    save_despite_duplicates: bool = False


class DuplicateQuery(InputModel):
    """What the duplicate check compares: the name and date of birth typed into a referral."""

    site_id: int
    name: ShortText
    date_of_birth: date | None = None


class DuplicateMatch(ReadModel):
    """A possible duplicate at a site where the person may see cases."""

    case_id: int
    reference: str
    site_code: str
    subject_name: str | None
    subject_date_of_birth: date | None
    stage: str
    # "same": the same folded name and date of birth; "close": initials or day/month swapped.
    closeness: str


class DuplicateElsewhere(ReadModel):
    """A possible match at a site the person may not see: only whom to ask, no case details."""

    site_code: str
    site_name: str
    ask_role: Role
    ask_contacts: list[str]  # the work email addresses of that site's service managers


class DuplicateCheckRead(ReadModel):
    matches: list[DuplicateMatch]
    elsewhere: list[DuplicateElsewhere]

    @property
    def count(self) -> int:
        return len(self.matches) + len(self.elsewhere)


class ReferralRead(ReadModel):
    case: CaseRead
    # How many possible duplicates were found when it was saved (the person saved anyway).
    possible_duplicates: int


class ReferralSiteRead(ReadModel):
    """A site where the person may record a referral."""

    site_id: int
    code: str
    name: str


class SiteReferralRolesRead(ReadModel):
    site_code: str
    # Roles that may record a referral here besides the service manager and panel coordinator.
    extra_roles: list[Role]
