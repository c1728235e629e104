"""Reading the new-referral form into core's ``ReferralCreate``, or the problems to show.

The face checks only what it must to build the input model (an answer to each required
question, a real date, a whole number for a score); core checks the rest (dates in the future,
text limits, who may refer where) and its refusals are shown against the question they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.enums import AbuseType, DashAnswer, ReferralReason, ReferralSource
from core.rules import DASH_QUESTIONS
from core.schemas.cases import AbuseProfile
from core.schemas.common import input_error
from core.schemas.referrals import PerpetratorDetails, ReferralCreate
from ui.errors import error_message
from ui.i18n import N_, Translator
from webapp.components.forms import parse_date_parts

Problems = dict[str, tuple[str, str]]  # question -> (the id of its field, the message)

YES, NO, NOT_KNOWN = "yes", "no", "not_known"
TEXT_FIELDS = ("gender", "address", "phone", "languages", "referrer_agency", "referrer_contact")
# Core's field names, by the question on this form that shows its refusal.
QUESTION_OF_FIELD = {
    "referral_date": "referral_date",
    "date_of_birth": "date_of_birth",
    "name": "name",
    "dash_score": "dash_score",
    "dash_answers": "dash",
    "site_id": "site",
    **{field: field for field in TEXT_FIELDS},
}

MISSING_SITE = N_("Select the site the referral is for")
BAD_REFERRAL_DATE = N_("Enter the date of the referral, for example 27 3 2025")
MISSING_SOURCE = N_("Select where the referral came from")
MISSING_REASON = N_("Select the reason for the referral")
MISSING_NAME = N_("Enter the person's full name")
BAD_BIRTH_DATE = N_("Enter a real date of birth, for example 4 11 1985, or leave it blank")
MISSING_DASH_MODE = N_("Select how the DASH risk checklist was done")
MISSING_DASH = N_("Answer every question of the DASH checklist: {count} not answered")
BAD_SCORE = N_("Enter the DASH score as a whole number from 0 to 24")


@dataclass(frozen=True)
class SiteChoice:
    id: str
    label: str


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name) or "").strip()


def _yes_no(answer: str) -> bool | None:
    return {YES: True, NO: False}.get(answer)


def _dash(form: Mapping[str, Any], words: Translator, problems: Problems) -> dict[str, Any]:
    """The checklist answers or the typed score, as ``ReferralCreate``'s keywords."""
    mode = _text(form, "dash_mode")
    if mode == "checklist":
        answers = {q: _text(form, f"dash_{q}") for q in DASH_QUESTIONS}
        missing = [q for q, a in answers.items() if a not in {d.value for d in DashAnswer}]
        if missing:
            message = words.gettext(MISSING_DASH, count=len(missing))
            problems["dash"] = (f"dash_{missing[0]}-yes", message)
            problems["dash_missing"] = ("", " ".join(missing))
            return {}
        return {"dash_answers": {q: DashAnswer(a) for q, a in answers.items()}}
    if mode == "score":
        score = _text(form, "dash_score")
        if not score.isdigit() or not 0 <= int(score) <= 24:
            problems["dash_score"] = ("dash_score", words.gettext(BAD_SCORE))
            return {}
        return {"dash_score": int(score)}
    if mode != "none":
        problems["dash_mode"] = ("dash_mode-checklist", words.gettext(MISSING_DASH_MODE))
    return {}


def read_referral(
    form: Mapping[str, Any], site_ids: list[str], words: Translator, problems: Problems
) -> ReferralCreate | None:
    """The referral the form describes, or None (``problems`` says why)."""
    site = _text(form, "site") if len(site_ids) > 1 else (site_ids[0] if site_ids else "")
    if site not in site_ids:
        problems["site"] = (
            f"site-{site_ids[0]}" if site_ids else "site",
            words.gettext(MISSING_SITE),
        )
    referral_date = parse_date_parts(form, "referral_date")
    if referral_date is None:
        problems["referral_date"] = ("referral_date", words.gettext(BAD_REFERRAL_DATE))
    source = _text(form, "source")
    if source not in {s.value for s in ReferralSource}:
        problems["source"] = ("source-marac", words.gettext(MISSING_SOURCE))
    reason = _text(form, "reason")
    if reason not in {r.value for r in ReferralReason}:
        problems["reason"] = ("reason-high_risk", words.gettext(MISSING_REASON))
    if not _text(form, "name"):
        problems["name"] = ("name", words.gettext(MISSING_NAME))
    born = parse_date_parts(form, "date_of_birth")
    typed_birth = any(_text(form, f"date_of_birth_{p}") for p in ("day", "month", "year"))
    if typed_birth and born is None:
        problems["date_of_birth"] = ("date_of_birth", words.gettext(BAD_BIRTH_DATE))
    dash = _dash(form, words, problems)
    if problems or referral_date is None:
        return None
    texts = {field: _text(form, field) or None for field in TEXT_FIELDS}
    try:
        subject = PerpetratorDetails(
            name=_text(form, "name"),
            date_of_birth=born,
            gender=texts["gender"],
            address=texts["address"],
            phone=texts["phone"],
            languages=texts["languages"],
            interpreter_needed=_yes_no(_text(form, "interpreter")),
        )
        abuse = {t.value: _yes_no(_text(form, f"abuse_{t.value}")) for t in AbuseType}
        return ReferralCreate(
            site_id=int(site),
            referral_date=referral_date,
            referral_source=ReferralSource(source),
            referral_reason=ReferralReason(reason),
            subject=subject,
            referrer_agency=texts["referrer_agency"],
            referrer_contact=texts["referrer_contact"],
            abuse_at_start=AbuseProfile(**abuse),
            **dash,
        )
    except ValidationError as invalid:
        error = input_error(invalid)
        question = QUESTION_OF_FIELD.get(str(error.details.get("field")), "name")
        problems[question] = (question, error_message(error, words))
        return None
