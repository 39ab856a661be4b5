"""PostgreSQL and Redis for the scale-out tests: used when running, started when they can be, else skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("SCALEOUT_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/7")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no "
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def _postgres_up() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def _start(command: str, program: str) -> None:
    if shutil.which(program):
        subprocess.run(command, shell=True, check=False, capture_output=True, timeout=60)  # noqa: S602 (fixed command)
        time.sleep(2)


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_and_redis() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database URL and a Redis URL (database 7, flushed)."""
    if not _postgres_up():
        _start(START_POSTGRES, "pg_ctlcluster")
    if not _redis_up():
        _start(START_REDIS, "redis-server")
    if not _postgres_up():
        _unavailable(
            "PostgreSQL is not running on 127.0.0.1:5432: install and start postgresql (trust auth for postgres)"
        )
    if not _redis_up():
        _unavailable("Redis is not running on 127.0.0.1:6379: install and start redis-server")
    import psycopg
    import redis

    name = f"audio_chat_scaleout_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", REDIS_URL
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
