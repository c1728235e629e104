"""The audit trail as a hash chain: verification finds an altered, inserted or deleted event,
many writers at once still make one chain, the migration chains the events it finds, and an
admin searches the trail of their own sites (and is audited for it).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, Integer, String, column, func, select, table, text

from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.db.types import UTCDateTime
from core.enums import ContactType, Face, PlaceKind, Role, WorkCategory
from core.errors import AuditTrailBlocked, NotPermitted
from core.models import Appointment, AuditChainHead, AuditEvent, Contact, Site
from core.policy import Action
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate
from core.schemas.audit import (
    ChainBreak,
    ChainBreakKind,
    ChainBreakReason,
    ChainVerification,
    CheckpointState,
)
from core.schemas.contacts import ContactCreate
from core.schemas.sites import SiteCreate
from core.services import appointments as appointment_services
from core.services import audit as audit_services
from core.services import contacts as contact_services
from core.services import sites as site_services
from core.services.audit_checkpoints import CheckpointStore, write_audit_checkpoint
from core.services.refusals import REFUSED
from core.settings import Settings
from core.uow import UnitOfWork
from processes.serve import serve_outbox
from tests.conftest import START, create_postgres_database, drop_postgres_database, require_postgres
from tests.factories import World

CLI = [sys.executable, "-m", "cli"]


async def verify(container: Container, batch_size: int = 4) -> ChainVerification:
    return await audit_services.verify_audit_chain(
        uow=container.uow(), actor=Actor.system(), batch_size=batch_size
    )


async def sql(container: Container, statement: str, **params: object) -> None:
    async with container.engine.begin() as connection:
        await connection.execute(text(statement), params)


async def stored_chain(container: Container) -> list[tuple[int, int, str, str]]:
    async with container.engine.connect() as connection:
        rows = await connection.execute(
            select(AuditEvent.id, AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash).order_by(
                AuditEvent.seq
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def chain_with_some_work(world: World) -> list[tuple[int, int, str, str]]:
    await world.allocated_case()
    await world.allocated_case("WOR")
    chain = await stored_chain(world.container)
    assert len(chain) > 10
    return chain


# --- verification ---------------------------------------------------------------------------


async def test_an_untouched_trail_verifies_and_every_event_links_to_the_one_before(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)

    result = await verify(world.container)

    assert (result.ok, result.first_break, result.checked) == (True, None, len(chain))
    assert [seq for _, seq, _, _ in chain] == list(range(1, len(chain) + 1))
    assert chain[0][2] == audit_services.GENESIS_HASH
    assert all(chain[i][2] == chain[i - 1][3] for i in range(1, len(chain)))
    assert (result.head_seq, result.head_hash) == (len(chain), chain[-1][3])


async def test_an_event_whose_details_were_edited_in_the_database_is_named_as_altered(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)
    event_id, seq, _, _ = chain[len(chain) // 2]
    await sql(
        world.container,
        "UPDATE audit_events SET details = :details WHERE id = :id",
        details=json.dumps({"role": "admin"}),
        id=event_id,
    )

    result = await verify(world.container)

    assert result.ok is False
    assert result.first_break is not None
    assert (result.first_break.kind, result.first_break.reason) == (
        ChainBreakKind.ALTERED,
        ChainBreakReason.HASH_MISMATCH,
    )
    assert (result.first_break.seq, result.first_break.event_id) == (seq, event_id)
    assert result.checked == seq - 1


async def test_a_deleted_event_in_the_middle_is_named_by_its_place_in_the_chain(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)
    event_id, seq, _, _ = chain[5]
    await sql(world.container, "DELETE FROM audit_events WHERE id = :id", id=event_id)

    result = await verify(world.container)

    assert result.first_break is not None
    assert (result.first_break.kind, result.first_break.reason, result.first_break.seq) == (
        ChainBreakKind.DELETED,
        ChainBreakReason.SEQ_GAP,
        seq,
    )


async def test_deleting_the_last_events_is_found_because_the_head_is_ahead(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)
    last_two = [event_id for event_id, _, _, _ in chain[-2:]]
    await sql(
        world.container, f"DELETE FROM audit_events WHERE id IN ({last_two[0]}, {last_two[1]})"
    )

    result = await verify(world.container)

    assert result.first_break is not None
    assert (result.first_break.kind, result.first_break.reason, result.first_break.seq) == (
        ChainBreakKind.DELETED,
        ChainBreakReason.HEAD_AHEAD,
        len(chain) - 1,
    )


async def test_a_forged_event_after_the_last_one_is_found_even_with_a_correct_hash(
    world: World, clock: FixedClock
) -> None:
    chain = await chain_with_some_work(world)
    last_hash, seq = chain[-1][3], len(chain) + 1
    forged = dict(
        seq=seq,
        prev_hash=last_hash,
        occurred_at=clock.now(),
        actor_user_id=None,
        face="cli",
        action="case.update",
        entity_type="case",
        entity_id=1,
        site_id=None,
        case_id=1,
        details={},
    )
    async with world.container.session_factory() as session:
        session.add(AuditEvent(**forged, hash=audit_services.event_hash(**forged)))
        await session.commit()

    result = await verify(world.container)

    assert result.first_break is not None
    assert (result.first_break.kind, result.first_break.reason, result.first_break.seq) == (
        ChainBreakKind.INSERTED,
        ChainBreakReason.BEYOND_HEAD,
        seq,
    )


async def test_an_event_replaced_by_one_made_elsewhere_is_found_as_not_linking(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)
    event_id, seq, _, _ = chain[3]
    async with world.container.session_factory() as session:
        stored = await session.get(AuditEvent, event_id)
        assert stored is not None
        # A self-consistent row, hashed as if it followed some other event.
        stored.prev_hash = "f" * 64
        stored.hash = audit_services.event_hash(
            seq=stored.seq,
            prev_hash=stored.prev_hash,
            occurred_at=stored.occurred_at,
            actor_user_id=stored.actor_user_id,
            face=stored.face,
            action=stored.action,
            entity_type=stored.entity_type,
            entity_id=stored.entity_id,
            site_id=stored.site_id,
            case_id=stored.case_id,
            details=stored.details,
        )
        await session.commit()

    result = await verify(world.container)

    assert result.first_break is not None
    assert (result.first_break.kind, result.first_break.reason, result.first_break.seq) == (
        ChainBreakKind.INSERTED,
        ChainBreakReason.PREV_HASH_MISMATCH,
        seq,
    )


async def test_verification_reports_its_progress_up_to_the_head(world: World) -> None:
    chain = await chain_with_some_work(world)
    seen: list[tuple[int, int]] = []

    await audit_services.verify_audit_chain(
        uow=world.container.uow(),
        actor=Actor.system(),
        batch_size=5,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert seen[0] == (0, len(chain))
    assert seen[-1] == (len(chain), len(chain))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_a_case_manager_may_not_verify_the_trail(world: World) -> None:
    with pytest.raises(NotPermitted):
        await audit_services.verify_audit_chain(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER)
        )


# --- many writers at once -------------------------------------------------------------------

WRITERS = 12  # below the smallest connection pool (15), as each holds one at the barrier
EVENTS_EACH = 5


class HeldAtCommit(UnitOfWork):
    """Waits for every other writer before committing, so all of them append at once."""

    def __init__(self, container: Container, barrier: asyncio.Barrier) -> None:
        super().__init__(container.session_factory, container.clock)
        self._barrier = barrier

    async def commit(self) -> None:
        await self._barrier.wait()
        await super().commit()


@pytest.mark.parametrize("events_each", [EVENTS_EACH, 1], ids=["several events", "one event"])
async def test_many_writers_appending_at_the_same_moment_make_one_valid_chain(
    world: World, backend: str, events_each: int
) -> None:
    # Runs on both backends: on PostgreSQL the writers really commit concurrently and meet on
    # the chain head's row lock; on SQLite the database lock serialises them. One event each
    # takes PostgreSQL's one-statement append, several the general path.
    before = len(await stored_chain(world.container))
    barrier = asyncio.Barrier(WRITERS)
    site_id = world.sites["HER"].id

    async def writer(number: int) -> None:
        uow = HeldAtCommit(world.container, barrier)
        async with uow:
            # Some real work in the same transaction, so the lock is taken beside other writes.
            await uow.session.execute(select(func.count()).select_from(AuditEvent))
            for index in range(events_each):
                audit_services.record_audit(
                    uow,
                    Actor.system(),
                    "test.concurrent",
                    entity_type="writer",
                    entity_id=number,
                    site_id=site_id,
                    details={"index": index},
                )
            await uow.commit()

    await asyncio.wait_for(asyncio.gather(*(writer(n) for n in range(WRITERS))), timeout=120)

    chain = await stored_chain(world.container)
    assert len(chain) == before + WRITERS * events_each
    assert [seq for _, seq, _, _ in chain] == list(range(1, len(chain) + 1))
    result = await verify(world.container, batch_size=17)
    assert (result.ok, result.checked, result.head_seq) == (True, len(chain), len(chain))
    # Each writer's events sit together, in the order it recorded them.
    async with world.container.session_factory() as session:
        rows = (
            await session.execute(
                select(AuditEvent.entity_id, AuditEvent.details)
                .where(AuditEvent.action == "test.concurrent")
                .order_by(AuditEvent.seq)
            )
        ).all()
    runs = [rows[i : i + events_each] for i in range(0, len(rows), events_each)]
    assert all(len({writer for writer, _ in run}) == 1 for run in runs)
    assert all([d["index"] for _, d in run] == list(range(events_each)) for run in runs)


async def test_contacts_logged_with_their_events_keep_one_valid_chain(world: World) -> None:
    # A contact goes in at once and its event at commit (``insert_audited``): several at once,
    # and one whose unit of work has another event queued first (appended in order).
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)

    def contact() -> ContactCreate:
        return ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.PHONE,
            duration_minutes=5,
        )

    logged = await asyncio.gather(
        *(
            contact_services.log_contact(uow=world.container.uow(), actor=manager, data=contact())
            for _ in range(6)
        )
    )
    uow = world.container.uow()
    async with uow:
        audit_services.record_audit(
            uow, manager, "test.first", entity_type="writer", entity_id=None
        )
        after_another = await contact_services.log_contact_in(uow, manager, contact())
        await uow.commit()

    result = await verify(world.container)
    assert (result.ok, result.checked) == (True, len(await stored_chain(world.container)))
    async with world.container.session_factory() as session:
        events = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.case_id)
                .where(AuditEvent.action.in_(["contact.log", "test.first"]))
                .order_by(AuditEvent.seq)
            )
        ).all()
    contact_events = [
        (entity, case_id) for action, entity, case_id in events if action == "contact.log"
    ]
    assert sorted(contact_events) == sorted((c.id, case.id) for c in [*logged, after_another])
    assert [action for action, _, _ in events][-2:] == ["test.first", "contact.log"]
    assert events[-1].entity_id == after_another.id


async def test_a_rolled_back_unit_of_work_neither_appends_nor_moves_the_head(
    world: World,
) -> None:
    chain = await stored_chain(world.container)
    uow = world.container.uow()
    async with uow:
        audit_services.record_audit(
            uow, Actor.system(), "test.rolled_back", entity_type="writer", entity_id=None
        )
    async with world.container.session_factory() as session:
        head = await session.get(AuditChainHead, audit_services.HEAD_ROW_ID)
    assert head is not None
    assert (head.last_seq, head.last_hash) == (len(chain), chain[-1][3])
    assert await stored_chain(world.container) == chain


# --- the migration chains what it finds -----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'chain.sqlite3'}"
        return
    await require_postgres()
    url = await create_postgres_database("da_chain")
    try:
        yield url
    finally:
        await drop_postgres_database(url)


async def test_upgrading_chains_the_events_already_stored_in_id_order(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        await upgrade(engine, "0005")
        old_events = table(
            "audit_events",
            column("occurred_at", UTCDateTime()),
            column("face", String()),
            column("action", String()),
            column("entity_type", String()),
            column("entity_id", Integer()),
            column("details", JSON()),
        )
        async with engine.begin() as connection:
            await connection.execute(
                old_events.insert(),
                [
                    {
                        "occurred_at": START - timedelta(days=30 - n, microseconds=n),
                        "face": "cli",
                        "action": "site.create",
                        "entity_type": "site",
                        "entity_id": n,
                        "details": {"n": n, "ok": True, "name": "Ünïcode"},
                    }
                    for n in range(7)
                ],
            )
        await upgrade(engine)
    finally:
        await engine.dispose()
    container = bootstrap(Settings(database_url=fresh_url), clock=FixedClock(START))
    try:
        result = await verify(container)
        assert (result.ok, result.checked, result.head_seq) == (True, 7, 7)
        # And the chain goes on from there.
        await site_services.create_site(
            uow=container.uow(), actor=Actor.system(), data=SiteCreate(code="NEW", name="New")
        )
        after = await verify(container)
        assert (after.ok, after.checked) == (True, 8)
    finally:
        await container.dispose()


# --- searching ------------------------------------------------------------------------------


async def test_an_admin_searches_their_own_sites_events_by_case_user_and_period(
    world: World, clock: FixedClock
) -> None:
    her_case = await world.allocated_case("HER")
    await world.allocated_case("WOR")
    admin = world.actor(Role.ADMIN, "HER")
    manager = world.actor(Role.SERVICE_MANAGER, "HER")

    by_case = await audit_services.search_audit(
        uow=world.container.uow(), actor=admin, case_id=her_case.id
    )
    everything = await audit_services.search_audit(
        uow=world.container.uow(), actor=admin, limit=500
    )
    by_user = await audit_services.search_audit(
        uow=world.container.uow(), actor=admin, user_id=manager.user_id
    )
    tomorrow = clock.now().date() + timedelta(days=1)
    nothing_yet = await audit_services.search_audit(
        uow=world.container.uow(), actor=admin, date_from=tomorrow, date_to=tomorrow
    )

    assert [(e.action, e.case_reference) for e in by_case.items] == [
        ("case.allocate", her_case.reference),
        ("case.create", her_case.reference),
    ]
    assert {e.site_code for e in everything.items} == {"HER"}
    assert {e.action for e in by_user.items} == {"case.create", "case.allocate"}
    assert nothing_yet.items == []
    searches = [e for e in everything.items if e.action == "audit.search"]
    assert [(s.details["case_id"], s.actor_user_id) for s in searches] == [
        (her_case.id, admin.user_id)
    ]


async def test_the_search_pages_newest_first_through_the_trail_as_it_was_at_the_first_page(
    world: World,
) -> None:
    admin = world.actor(Role.ADMIN, "HER")
    first = await audit_services.search_audit(uow=world.container.uow(), actor=admin, limit=3)
    second = await audit_services.search_audit(
        uow=world.container.uow(), actor=admin, limit=3, offset=3, up_to_seq=first.up_to_seq
    )
    whole = await audit_services.search_audit(
        uow=world.container.uow(), actor=admin, limit=6, up_to_seq=first.up_to_seq
    )

    assert first.has_more is True
    assert [e.seq for e in first.items + second.items] == [e.seq for e in whole.items]
    assert [e.seq for e in whole.items] == sorted((e.seq for e in whole.items), reverse=True)


async def test_only_admins_may_search_the_trail(world: World) -> None:
    with pytest.raises(NotPermitted):
        await audit_services.search_audit(
            uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER)
        )


# --- the command line -----------------------------------------------------------------------


def run_cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "AUDIT_CHECKPOINT_DIR": str(database.parent / "checkpoints"),  # this database's own
        "COLUMNS": "200",
    }
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def test_audit_verify_exits_non_zero_and_names_the_altered_event(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    assert run_cli("db", "upgrade", database=database).returncode == 0
    container = bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{database}"))
    try:
        for code in ("AAA", "BBB", "CCC"):
            await site_services.create_site(
                uow=container.uow(), actor=Actor.system(), data=SiteCreate(code=code, name=code)
            )
    finally:
        await container.dispose()

    unconfirmed = run_cli("audit", "verify", database=database)
    assert unconfirmed.returncode == 3, unconfirmed.stderr
    assert "No checkpoint of the audit trail has been written yet" in unconfirmed.stderr

    written = run_cli("audit", "checkpoint", database=database)
    assert written.returncode == 0, written.stderr
    assert "Checkpoint written: event 4," in written.stdout  # the first verify is event 4
    intact = run_cli("audit", "verify", database=database)
    assert intact.returncode == 0, intact.stderr
    assert "The audit trail is intact: 4 events checked, up to checkpoint 4." in intact.stdout

    # The verifies were themselves recorded (events 4, 5); now someone edits event 2.
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET entity_id = 99 WHERE seq = 2")
    broken = run_cli("audit", "verify", database=database)

    assert broken.returncode == 1
    assert "event 2" in broken.stderr
    assert "was altered" in broken.stderr


def checkpoints_of(container: Container) -> CheckpointStore:
    return CheckpointStore.from_settings(container.settings)


async def checkpoint(container: Container) -> int:
    written = await write_audit_checkpoint(
        uow=container.uow(), actor=Actor.system(), store=checkpoints_of(container)
    )
    assert written is not None
    return written.seq


async def verify_with_checkpoints(container: Container) -> ChainVerification:
    return await audit_services.verify_audit_chain(
        uow=container.uow(),
        actor=Actor.system(),
        batch_size=4,
        checkpoints=checkpoints_of(container),
    )


async def cut_short(container: Container, chain: list[tuple[int, int, str, str]], n: int) -> None:
    """What someone with write access to the database can do: delete the newest ``n`` events
    and move the head back to the last one left, so the chain is whole as far as it goes."""
    ids = ", ".join(str(event_id) for event_id, _, _, _ in chain[-n:])
    await sql(container, f"DELETE FROM audit_events WHERE id IN ({ids})")
    _, seq, _, last_hash = chain[-n - 1]
    await sql(
        container,
        "UPDATE audit_chain_head SET last_seq = :seq, last_hash = :hash",
        seq=seq,
        hash=last_hash,
    )


# --- checkpoints outside the database -------------------------------------------------------


async def test_cutting_the_trail_short_and_moving_the_head_back_is_found_below_a_checkpoint(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)
    assert await checkpoint(world.container) == len(chain)
    await cut_short(world.container, chain, 2)

    result = await verify_with_checkpoints(world.container)

    assert result.ok is False
    assert result.first_break == ChainBreak(
        kind=ChainBreakKind.DELETED,
        reason=ChainBreakReason.CHECKPOINT_AHEAD,
        seq=len(chain) - 1,
        event_id=None,
        checkpoint_line=1,
    )


async def test_a_trail_cut_short_and_written_again_does_not_match_its_checkpoint(
    world: World,
) -> None:
    chain = await chain_with_some_work(world)
    await checkpoint(world.container)
    await cut_short(world.container, chain, 2)
    await world.allocated_case("WOR")  # new events take the seqs the deleted ones had

    result = await verify_with_checkpoints(world.container)

    stored = {seq: event_id for event_id, seq, _, _ in await stored_chain(world.container)}
    assert result.first_break == ChainBreak(
        kind=ChainBreakKind.ALTERED,
        reason=ChainBreakReason.CHECKPOINT_HASH_MISMATCH,
        seq=len(chain),
        event_id=stored[len(chain)],
        checkpoint_line=1,
    )


async def test_a_checkpoint_line_edited_without_the_key_is_named_as_forged(world: World) -> None:
    chain = await chain_with_some_work(world)
    await checkpoint(world.container)
    await checkpoint(world.container)
    path = checkpoints_of(world.container).path
    first, second = path.read_text().splitlines()
    edited = json.loads(second) | {"seq": len(chain) - 3, "hash": chain[-4][3]}
    path.write_text(first + "\n" + json.dumps(edited) + "\n")

    result = await verify_with_checkpoints(world.container)

    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.checkpoint_line) == (
        ChainBreakReason.CHECKPOINT_FORGED,
        2,
    )


async def test_checkpoints_are_appended_to_a_file_only_its_owner_may_read(world: World) -> None:
    chain = await chain_with_some_work(world)

    await checkpoint(world.container)
    await world.allocated_case()
    second = await checkpoint(world.container)

    path = checkpoints_of(world.container).path
    assert path.stat().st_mode & 0o777 == 0o600
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [
        len(chain),
        second,
    ]
    result = await verify_with_checkpoints(world.container)
    assert (result.ok, result.checkpoint, result.checkpoint_seq) == (
        True,
        CheckpointState.CHECKED,
        second,
    )


async def test_with_no_checkpoint_yet_the_trail_is_reported_as_unconfirmed(world: World) -> None:
    await chain_with_some_work(world)

    result = await verify_with_checkpoints(world.container)

    assert (result.ok, result.checkpoint, result.checkpoint_seq) == (
        True,
        CheckpointState.NONE_YET,
        None,
    )


async def test_the_worker_writes_checkpoints_on_its_schedule(world: World) -> None:
    chain = await chain_with_some_work(world)
    stop = asyncio.Event()
    path = checkpoints_of(world.container).path

    async def first_checkpoint() -> None:
        while not path.exists():  # noqa: ASYNC110 (a file, not an event, says it is done)
            await asyncio.sleep(0.05)

    serving = asyncio.create_task(
        serve_outbox(world.container, stop, schedulers=True, verbose=False)
    )
    try:
        await asyncio.wait_for(first_checkpoint(), timeout=60)
    finally:
        stop.set()
        await serving
    [line] = path.read_text().splitlines()
    assert json.loads(line)["seq"] >= len(chain)
    assert (await verify_with_checkpoints(world.container)).checkpoint is CheckpointState.CHECKED


# --- a row put past the head ----------------------------------------------------------------


async def forge_past_the_head(world: World, clock: FixedClock) -> int:
    """A self-consistent event put after the last one, outside the chain; its seq."""
    chain = await stored_chain(world.container)
    forged = dict(
        seq=len(chain) + 1,
        prev_hash=chain[-1][3],
        occurred_at=clock.now(),
        actor_user_id=None,
        face="cli",
        action="case.update",
        entity_type="case",
        entity_id=1,
        site_id=None,
        case_id=1,
        details={},
    )
    async with world.container.session_factory() as session:
        session.add(AuditEvent(**forged, hash=audit_services.event_hash(**forged)))
        await session.commit()
    return len(chain) + 1


async def test_after_a_row_put_past_the_head_an_audited_write_fails_safe_and_saves_nothing(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    seq = await forge_past_the_head(world, clock)
    manager = world.actor(Role.CASE_MANAGER)

    with pytest.raises(AuditTrailBlocked):
        await site_services.create_site(
            uow=world.container.uow(), actor=Actor.system(), data=SiteCreate(code="NEW", name="N")
        )
    with pytest.raises(AuditTrailBlocked):  # the contact's event fails its commit
        await contact_services.log_contact(
            uow=world.container.uow(),
            actor=manager,
            data=ContactCreate(
                categories=frozenset({WorkCategory.SUPPORT}),
                case_id=case.id,
                contact_type=ContactType.PHONE,
                duration_minutes=5,
            ),
        )

    async with world.container.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 0
        assert await session.scalar(select(func.count()).where(Site.code == "NEW")) == 0
    result = await verify(world.container)
    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.seq) == (
        ChainBreakReason.BEYOND_HEAD,
        seq,
    )


# --- every refusal on record, whichever face asked ------------------------------------------


async def refusals_recorded(container: Container) -> list[tuple[int | None, str, int | None, str]]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == REFUSED).order_by(AuditEvent.seq)
        )
        return [(e.actor_user_id, e.entity_type, e.entity_id, e.details["action"]) for e in rows]


async def test_a_forged_booking_from_the_appointments_page_leaves_one_refusal_and_no_booking(
    world: World, clock: FixedClock
) -> None:
    # The appointments page books through core as its handler does; the case id in the event
    # is another site's case, which the case manager may not touch.
    theirs = await world.allocated_case("WOR")
    manager = world.actor(Role.CASE_MANAGER).model_copy(update={"face": Face.WEB})
    starts = clock.now() + timedelta(days=2)

    with pytest.raises(NotPermitted):
        await appointment_services.book_appointment(
            uow=world.container.uow(),
            actor=manager,
            data=AppointmentCreate(
                case_id=theirs.id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                place_kind=PlaceKind.OFFICE,
            ),
        )

    assert await refusals_recorded(world.container) == [
        (manager.user_id, "case", theirs.id, str(Action.APPOINTMENT_MANAGE))
    ]
    async with world.container.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
        [event] = await session.scalars(select(AuditEvent).where(AuditEvent.action == REFUSED))
    assert (event.site_id, event.case_id, event.face) == (theirs.site_id, theirs.id, "web")
    assert (await verify(world.container)).ok


async def test_a_refused_command_line_report_leaves_one_refusal(
    world: World, database_url: str, tmp_path: Path
) -> None:
    manager = world.actor(Role.CASE_MANAGER)
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"}

    refused = await asyncio.to_thread(
        subprocess.run,
        [*CLI, "report", "--as", "case_manager.her@test.invalid", "--site", "all",
         "--from", "2026-01-01", "--to", "2026-01-31", "--output", str(tmp_path / "r.csv")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert refused.returncode == 1, refused.stderr
    assert await refusals_recorded(world.container) == [
        (manager.user_id, "action", None, str(Action.REPORT_VIEW))
    ]
    assert not (tmp_path / "r.csv").exists()


async def test_audit_verify_names_a_row_put_past_the_head_instead_of_crashing(
    tmp_path: Path,
) -> None:
    database = tmp_path / "cli.sqlite3"
    assert run_cli("db", "upgrade", database=database).returncode == 0
    container = bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{database}"))
    try:
        await site_services.create_site(
            uow=container.uow(), actor=Actor.system(), data=SiteCreate(code="AAA", name="A")
        )
        world = World(container)
        seq = await forge_past_the_head(world, FixedClock(START))
    finally:
        await container.dispose()

    broken = run_cli("audit", "verify", database=database)

    assert broken.returncode == 1, broken.stderr
    assert "Traceback" not in broken.stderr
    assert f"event {seq}" in broken.stderr
    assert "was inserted" in broken.stderr
    assert "This check could not be added to the audit trail." in broken.stderr
