"""The mobile-first Reflex web app: a thin face over ``core`` services (see ../shared/STYLE.md)."""
