"""Use cases, one module per area. Each is a keyword-only async function taking ``uow`` and
``actor``, checking the policy, doing one unit of work and returning pydantic read models."""
