"""One module per feature: each handler parses the update, calls one core service, renders."""
