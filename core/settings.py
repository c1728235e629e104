"""The one place configuration is read from the environment.

Nothing else in the project touches ``os.environ``; entry points call ``bootstrap()``, which
builds a ``Settings``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "drive-assist.sqlite3"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as an environment variable."""

    model_config = SettingsConfigDict(env_prefix="", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy async URL. SQLite (aiosqlite) by default; "
        "postgresql+asyncpg://... for the scale path.",
    )
    timezone: str = Field(default="Europe/London", description="Zone dates are shown in.")
    default_locale: str = Field(default="en_GB", description="Language when the user has none.")
    demo_mode: bool = Field(default=False, description="Demo data and demo sign-ins allowed.")
    sql_echo: bool = Field(default=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def normalised_database_url(self) -> str:
        """Accept the plain ``postgresql://`` form people paste and use the async driver."""
        url = self.database_url
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+asyncpg://" + url[len(plain) :]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url
