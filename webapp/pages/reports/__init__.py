"""Reports: the funder return and the outcome measures (the state in ``state``, what is shown
of a report and the files in ``figures``, the page in ``view``)."""

from webapp.pages.reports.state import ReportsState
from webapp.pages.reports.view import reports_page

__all__ = ["ReportsState", "reports_page"]
