"""Redis for the tests that need one (the shared send limiter): 127.0.0.1:6379 by default.

Like PostgreSQL in ``tests/conftest.py``: with ``CI=true`` an unreachable Redis fails the test
instead of skipping it. Each test uses keys under a prefix of its own and deletes them after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.conftest import IN_CI

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def require_redis() -> None:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.ping()
        return
    except (OSError, RedisError):
        message = f"Redis is not reachable at {REDIS_URL}"
    finally:
        await client.aclose()
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing Redis fails the run)", pytrace=False)
    pytest.skip(message + "; start it to run the shared limiter's Redis tests")


@asynccontextmanager
async def redis_key_prefix(name: str) -> AsyncIterator[str]:
    """A key prefix no other test uses; every key containing it is deleted afterwards."""
    await require_redis()
    prefix = f"da-test:{name}:{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in client.scan_iter(match=f"*{prefix}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
