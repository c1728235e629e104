"""One module per page: the page component and its own substate."""
