"""`GET /api/health`: every backing service checked for real, concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from app.core.config import get_settings
from app.db import postgres, qdrant
from app.models.schemas import HealthResponse
from app.services import llm

router = APIRouter(tags=["health"])


async def _bounded(check: Any, settings: Any, name: str) -> dict[str, Any]:
    """Run one check with a hard deadline so that one hung service cannot hold the others."""
    deadline = settings.health_check_timeout + 2
    try:
        return await asyncio.wait_for(check(settings), timeout=deadline)
    except TimeoutError:
        return {"status": "error", "error": f"{name} did not answer within {deadline:g} s"}
    except Exception as exc:  # noqa: BLE001 - a check must never turn health into a 500
        return {"status": "error", "error": f"{name} check failed: {type(exc).__name__}"}


@router.get("/health", response_model=HealthResponse, response_model_exclude_none=True)
async def health() -> dict[str, Any]:
    """Overall `healthy` only when Qdrant, PostgreSQL and Gemini all answer `ok`."""
    settings = get_settings()
    qdrant_status, postgres_status, gemini_status = await asyncio.gather(
        _bounded(qdrant.check, settings, "qdrant"),
        _bounded(postgres.check, settings, "postgres"),
        _bounded(llm.check, settings, "gemini"),
    )
    services = {"qdrant": qdrant_status, "postgres": postgres_status, "gemini": gemini_status}
    healthy = all(s["status"] == "ok" for s in services.values())
    return {
        "status": "healthy" if healthy else "degraded",
        "services": {"fastapi": "ok", **services},
    }
