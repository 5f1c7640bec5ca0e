"""Retrieval-augmented answers: embed the question, search Qdrant, ask Gemini, keep the history."""

from __future__ import annotations

import uuid
from typing import Any

from app.core.config import Settings
from app.db import postgres, qdrant
from app.models.schemas import ChatResponse, Source
from app.services import embedding, llm

PAYLOAD_TEXT_KEYS = ("text", "content", "page_content", "chunk")
SYSTEM_PROMPT = (
    "You are a helpful assistant. Answer the question using the context passages below. "
    "If the context does not contain the answer, say so plainly instead of guessing."
)


class NotConfigured(Exception):
    """Settings the chat needs are missing (HTTP 503)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"chat is not configured: set {', '.join(missing)}")
        self.missing = missing


class UpstreamFailed(Exception):
    """A backing service failed (HTTP 502); the message names it and is safe to show."""


def to_source(point: dict[str, Any]) -> Source | None:
    """A `Source` from a Qdrant point, or None when its payload holds no text."""
    payload = point.get("payload") or {}
    if not isinstance(payload, dict):
        return None
    text = next((payload[k] for k in PAYLOAD_TEXT_KEYS if isinstance(payload.get(k), str)), None)
    if not text:
        return None
    metadata = payload.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {k: v for k, v in payload.items() if k not in PAYLOAD_TEXT_KEYS}
    return Source(
        id=str(point.get("id", "")),
        score=float(point.get("score") or 0.0),
        text=text,
        metadata=metadata,
    )


def build_prompt(question: str, sources: list[Source], history: list[tuple[str, str]]) -> str:
    """The single prompt sent to Gemini."""
    lines = [SYSTEM_PROMPT, "", "Context:"]
    if sources:
        lines += [f"[{i}] {s.text}" for i, s in enumerate(sources, start=1)]
    else:
        lines.append("(no passages found)")
    if history:
        lines += ["", "Conversation so far:"]
        for q, a in history:
            lines += [f"User: {q}", f"Assistant: {a}"]
    lines += ["", f"Question: {question}", "Answer:"]
    return "\n".join(lines)


async def answer(settings: Settings, message: str, session_id: str | None) -> ChatResponse:
    """Answer `message` within the conversation `session_id` (a new one when None)."""
    missing = settings.missing_for_chat()
    if missing:
        raise NotConfigured(missing)
    session = session_id or uuid.uuid4().hex
    try:
        # History first: a broken database fails before any Gemini quota is spent.
        history = await postgres.load_history(settings, session) if settings.database_url else []
        vector = await embedding.embed(settings, message)
        points = await qdrant.search(settings, vector, settings.search_limit)
        sources = [s for s in (to_source(p) for p in points) if s is not None]
        text = await llm.generate(settings, build_prompt(message, sources, history))
        if settings.database_url:
            await postgres.save_exchange(settings, session, message, text, [s.model_dump() for s in sources])
    except postgres.PostgresError as exc:
        raise UpstreamFailed(f"postgres failed: {exc}") from exc
    except qdrant.QdrantError as exc:
        raise UpstreamFailed(f"qdrant failed: {exc}") from exc
    except llm.GeminiError as exc:
        raise UpstreamFailed(f"gemini failed: {exc}") from exc
    return ChatResponse(answer=text, sources=sources, session_id=session)
