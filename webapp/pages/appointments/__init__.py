"""The appointments page: its view, state, forms and rows, one module each."""

from webapp.pages.appointments.state import AppointmentsState
from webapp.pages.appointments.view import appointments_page

__all__ = ["AppointmentsState", "appointments_page"]
