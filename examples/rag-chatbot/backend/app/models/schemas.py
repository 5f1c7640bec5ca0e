"""Request and response bodies of the API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    """`POST /api/chat` body."""

    message: str = Field(..., min_length=1, max_length=4000, description="The user's question.")
    session_id: str | None = Field(
        default=None, max_length=128, description="Conversation id; a new one is made when absent."
    )


class Source(BaseModel):
    """One retrieved passage the answer is grounded on."""

    id: str
    score: float
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class ChatResponse(BaseModel):
    """`POST /api/chat` answer."""

    answer: str
    sources: list[Source]
    session_id: str


class ServiceStatus(BaseModel):
    """State of one backing service."""

    status: Literal["ok", "error", "not_configured"]
    error: str | None = None


class HealthServices(BaseModel):
    """State of every service the backend uses."""

    fastapi: Literal["ok"] = "ok"
    qdrant: ServiceStatus
    postgres: ServiceStatus
    gemini: ServiceStatus


class HealthResponse(BaseModel):
    """`GET /api/health` answer."""

    status: Literal["healthy", "degraded"]
    services: HealthServices


class ErrorResponse(BaseModel):
    """Body of 502/503 answers."""

    detail: str
