"""Settings read from the environment.

Every value is read when `get_settings()` is called, so a test (or a Space restart with new
secrets) sees the current environment. Empty values count as "not set".
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_ALLOWED_ORIGINS = "http://localhost:3000,http://localhost:5173"
DEFAULT_GEMINI_API_BASE = "https://generativelanguage.googleapis.com"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value if value else default


def _float_env(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def parse_origins(raw: str) -> list[str]:
    """Split a comma separated origin list, trimming whitespace and dropping empty entries."""
    return [part.strip() for part in raw.split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
    """The backend's configuration, one field per environment variable."""

    app_name: str
    allowed_origins: list[str]
    gemini_api_key: str | None
    gemini_api_base: str
    gemini_model: str
    embedding_model: str
    qdrant_url: str | None
    qdrant_api_key: str | None
    qdrant_collection: str
    database_url: str | None
    health_check_timeout: float
    search_limit: int

    def missing_for_chat(self) -> list[str]:
        """Names of the settings that `/api/chat` cannot work without."""
        missing = []
        if not self.gemini_api_key:
            missing.append("GEMINI_API_KEY")
        if not self.qdrant_url:
            missing.append("QDRANT_URL")
        return missing


def get_settings() -> Settings:
    """Read the settings from the current environment."""
    origins_raw = os.environ.get("ALLOWED_ORIGINS")
    if origins_raw is None:
        origins_raw = DEFAULT_ALLOWED_ORIGINS
    try:
        search_limit = int(_env("SEARCH_LIMIT", "5") or "5")
    except ValueError:
        search_limit = 5
    return Settings(
        app_name=_env("APP_NAME", "RAG Chatbot API") or "RAG Chatbot API",
        allowed_origins=parse_origins(origins_raw),
        gemini_api_key=_env("GEMINI_API_KEY"),
        gemini_api_base=(_env("GEMINI_API_BASE", DEFAULT_GEMINI_API_BASE) or "").rstrip("/"),
        gemini_model=_env("GEMINI_MODEL", "gemini-2.0-flash") or "gemini-2.0-flash",
        embedding_model=_env("EMBEDDING_MODEL", "text-embedding-004") or "text-embedding-004",
        qdrant_url=(_env("QDRANT_URL") or "").rstrip("/") or None,
        qdrant_api_key=_env("QDRANT_API_KEY"),
        qdrant_collection=_env("QDRANT_COLLECTION", "documents") or "documents",
        database_url=_env("DATABASE_URL"),
        health_check_timeout=_float_env("HEALTH_CHECK_TIMEOUT", 3.0),
        search_limit=max(1, min(search_limit, 50)),
    )


def scrub(text: str, *secrets: str | None) -> str:
    """Replace every occurrence of each secret in `text` with `***`.

    Secrets shorter than 4 characters are left alone: replacing them would mangle ordinary
    words, and the drivers do not echo secrets anyway (this is a second line of defence).
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def short(text: str, limit: int = 300) -> str:
    """Collapse whitespace and cut `text` to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
