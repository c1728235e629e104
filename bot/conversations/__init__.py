"""Multi-step flows (``/log`` and the like), their state kept in the database between updates.

A flow is plain handlers that load the user's conversation (``core.services.bot_state``) at
each step and save it before answering, so a restart in the middle resumes at the same step.
PTB's ``ConversationHandler`` is deliberately not used: its state lives in memory.
"""
