from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from core.schemas.common import InputModel, ReadModel, ShortText

SiteCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2,5}$")
]


class SiteCreate(InputModel):
    code: SiteCode
    name: ShortText


class SiteRead(ReadModel):
    id: int
    code: str
    name: str
    created_at: datetime
