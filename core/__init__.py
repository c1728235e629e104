"""Drive Assist core: every rule, query and permission check lives here.

The faces (``cli``, ``bot``, ``webapp``) import ``core``; ``core`` imports none of them.
"""
