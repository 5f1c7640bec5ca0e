"""PostgreSQL (psycopg 3): health check and the `chat_history` table."""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

import psycopg

from app.core.config import Settings, scrub, short

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS chat_history (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources JSONB NOT NULL DEFAULT '[]'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
CREATE_INDEX = "CREATE INDEX IF NOT EXISTS chat_history_session_idx ON chat_history (session_id, id)"

_SCHEME = re.compile(r"^(postgres(?:ql)?)(\+[a-z0-9_]+)?://", re.IGNORECASE)


class PostgresError(Exception):
    """PostgreSQL could not be used; the message is safe to show."""


def conninfo(database_url: str) -> str:
    """libpq connection string for `database_url`.

    SQLAlchemy-style URLs (`postgresql+asyncpg://...`) are common in backends; libpq does not know
    the `+driver` part, so it is dropped (and the scheme lower-cased, as libpq wants it).
    """
    return _SCHEME.sub(lambda m: f"{m.group(1).lower()}://", database_url)


def _password(database_url: str) -> str | None:
    try:
        return urlsplit(database_url).password
    except ValueError:
        return None


def describe(exc: BaseException, settings: Settings, timeout: float) -> str:
    """The driver's own message (it names the real cause, e.g. `sslmode`), without secrets."""
    if isinstance(exc, TimeoutError) and not str(exc):
        return f"postgres did not answer within {timeout:g} s"
    url = settings.database_url or ""
    text = str(exc).strip() or type(exc).__name__
    return short(scrub(text, url, conninfo(url), _password(url)))


def looks_usable(database_url: str) -> bool:
    """A `postgres(ql)://` URL (any `+driver`) or a libpq `key=value` string.

    Anything else is refused before the driver sees it: libpq quotes pieces of a malformed
    string back in its error, and a pasted secret must not end up in a health answer.
    """
    url = conninfo(database_url)
    if re.match(r"^postgres(ql)?://", url, re.IGNORECASE):
        return True
    return bool(re.match(r"^\s*[a-z_]+\s*=", url))


async def _connect(settings: Settings, timeout: float) -> psycopg.AsyncConnection:
    if not settings.database_url:
        raise PostgresError("DATABASE_URL is not set")
    if not looks_usable(settings.database_url):
        raise PostgresError(
            "DATABASE_URL is not a postgresql:// URL (expected postgresql://USER:PASSWORD@HOST:5432/DB)"
        )
    # libpq's own timeout counts whole seconds (2 at least); the asyncio deadline is the real bound.
    connect_timeout = max(2, math.ceil(timeout))
    return await asyncio.wait_for(
        psycopg.AsyncConnection.connect(
            conninfo(settings.database_url), connect_timeout=connect_timeout, autocommit=True
        ),
        timeout=timeout,
    )


async def check(settings: Settings) -> dict[str, Any]:
    """Health check: connect and run `SELECT 1`."""
    if not settings.database_url:
        return {"status": "not_configured"}
    timeout = settings.health_check_timeout
    try:
        conn = await _connect(settings, timeout)
        async with conn:
            cur = await asyncio.wait_for(conn.execute("SELECT 1"), timeout=timeout)
            row = await cur.fetchone()
        if not row or row[0] != 1:
            return {"status": "error", "error": "postgres answered SELECT 1 with an unexpected row"}
    except PostgresError as exc:
        return {"status": "error", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is raised
        return {"status": "error", "error": describe(exc, settings, timeout)}
    return {"status": "ok"}


async def load_history(settings: Settings, session_id: str, limit: int = 5) -> list[tuple[str, str]]:
    """The last `limit` (question, answer) pairs of a session, oldest first."""
    timeout = 10.0
    try:
        conn = await _connect(settings, timeout)
        async with conn:
            await conn.execute(CREATE_TABLE)
            await conn.execute(CREATE_INDEX)
            cur = await conn.execute(
                "SELECT question, answer FROM chat_history WHERE session_id = %s ORDER BY id DESC LIMIT %s",
                (session_id, limit),
            )
            rows = await cur.fetchall()
    except PostgresError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise PostgresError(describe(exc, settings, timeout)) from exc
    return [(q, a) for q, a in reversed(rows)]


async def save_exchange(
    settings: Settings, session_id: str, question: str, answer: str, sources: list[dict[str, Any]]
) -> None:
    """Store one question and its answer in `chat_history` (the table is created if missing)."""
    timeout = 10.0
    try:
        conn = await _connect(settings, timeout)
        async with conn:
            await conn.execute(CREATE_TABLE)
            await conn.execute(
                "INSERT INTO chat_history (session_id, question, answer, sources)"
                " VALUES (%s, %s, %s, %s::jsonb)",
                (session_id, question, answer, json.dumps(sources)),
            )
    except PostgresError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise PostgresError(describe(exc, settings, timeout)) from exc
