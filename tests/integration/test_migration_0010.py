"""Revision 0010 on a database holding data: intervention statuses are mapped to the new words
and back, and linked people get their ``updated_at`` from ``created_at``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.migrate import downgrade, upgrade
from tests.integration.test_migrations import empty_database_url, engine  # noqa: F401

STAMP = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
OLD = ("planned", "in_progress", "completed", "not_pursued")


async def _fill_at_0009(db: AsyncEngine) -> None:
    async with db.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO sites (id, code, name, created_at) VALUES (1, 'TST', 'Testshire', :at)"
            ),
            {"at": STAMP},
        )
        await connection.execute(
            text(
                "INSERT INTO cases (id, site_id, reference, referral_date, referral_source,"
                " referral_reason, stage, stage_changed_at, created_at, updated_at, version)"
                " VALUES (1, 1, 'TST-0001', '2026-01-01', 'marac', 'high_risk', 'referred',"
                " :at, :at, :at, 1)"
            ),
            {"at": STAMP},
        )
        kind_id = (
            await connection.execute(text("SELECT min(id) FROM intervention_kinds"))
        ).scalar_one()
        for n, status in enumerate(OLD, start=1):
            await connection.execute(
                text(
                    "INSERT INTO interventions (id, case_id, kind_id, agency, status, created_at)"
                    " VALUES (:id, 1, :kind, 'police', :status, :at)"
                ),
                {"id": n, "kind": kind_id, "status": status, "at": STAMP},
            )
        await connection.execute(
            text(
                "INSERT INTO linked_people (id, case_id, kind, name, created_at)"
                " VALUES (1, 1, 'victim', 'Testperson Fictional', :at)"
            ),
            {"at": STAMP},
        )


async def _statuses(db: AsyncEngine) -> list[str]:
    async with db.connect() as connection:
        rows = await connection.execute(text("SELECT status FROM interventions ORDER BY id"))
        return [row[0] for row in rows]


async def test_0010_maps_stored_intervention_statuses_and_back(engine: AsyncEngine) -> None:  # noqa: F811
    await upgrade(engine, "0009")
    await _fill_at_0009(engine)

    await upgrade(engine, "0010")
    upgraded = await _statuses(engine)
    async with engine.connect() as connection:
        person = (
            await connection.execute(
                text("SELECT updated_at, ended_on, assigned_idva_id FROM linked_people")
            )
        ).one()
    await downgrade(engine, "0009")

    assert upgraded == ["offered", "started", "completed", "declined"]
    assert person[0] is not None and person[1] is None and person[2] is None
    assert await _statuses(engine) == list(OLD)
