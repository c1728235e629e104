"""The log-contact page: its view and its state, one module each."""

from webapp.pages.log_contact.state import LogContactState
from webapp.pages.log_contact.view import log_contact

__all__ = ["LogContactState", "log_contact"]
