"""Panel: the coming panel meetings at my sites, their agendas (case references, never names)
and actions with owners and due dates, my reply, and the actions from the last panels; an
action's owner marks it done here. The panel coordinator (or service manager) also schedules a
meeting, puts cases on its agenda, agrees actions, and sends the broadcast.

``state``: the page's state and handlers (one read, ``panels.panel_page``); ``rows``: the typed
rows it holds; ``checks``: the form checks; ``view``: the components.
"""

from webapp.pages.panel.state import PanelState
from webapp.pages.panel.view import panel_page

__all__ = ["PanelState", "panel_page"]
