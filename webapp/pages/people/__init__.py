"""A victim or child on a case: add one, edit one, assign an IDVA, end the link (issue 19)."""

from webapp.pages.people.state import PersonState
from webapp.pages.people.view import person_page

__all__ = ["PersonState", "person_page"]
