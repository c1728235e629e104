"""The secure Telegram bot (python-telegram-bot): a thin face over ``core`` services.

Handlers parse an update, call one core service and render the reply; see ../shared/STYLE.md.
"""
