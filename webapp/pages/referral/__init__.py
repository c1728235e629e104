"""The new-referral page: its view and its state (with the form's reading and rows)."""

from webapp.pages.referral.state import ReferralState
from webapp.pages.referral.view import referral_page

__all__ = ["ReferralState", "referral_page"]
