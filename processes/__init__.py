"""How the long-running processes are wired: the outbox, the schedulers, the audit checkpoint
writer and the bot, in ``processes.serve``.

It sits beside the faces, not in one: the CLI (``drive-assist run``, ``worker``, ``bot run``)
and the web backend (``webapp.backend``) both start the same services from here, so no face
imports another. It may import ``bot`` (the Telegram channel and application); it speaks
through ``logging``, never a face's console.
"""
