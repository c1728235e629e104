"""A case as a picker shows it: its id (for the callback) and its reference. Nothing else."""

from __future__ import annotations

from core.schemas.common import ReadModel


class CaseChoice(ReadModel):
    case_id: int
    reference: str
