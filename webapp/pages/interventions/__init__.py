"""An intervention on a case: add one, or change its status (issue 19)."""

from webapp.pages.interventions.state import InterventionState
from webapp.pages.interventions.view import intervention_page

__all__ = ["InterventionState", "intervention_page"]
