"""FastAPI application: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import chat, health
from app.core.config import get_settings


def create_app() -> FastAPI:
    """Build the app from the current environment (CORS origins are read here, once)."""
    settings = get_settings()
    application = FastAPI(
        title=settings.app_name,
        description="Example RAG chatbot backend: FastAPI + Qdrant + PostgreSQL + Gemini.",
        version="0.1.0",
    )
    application.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        # Credentials only with an explicit origin list: never reflect any origin with cookies.
        allow_credentials="*" not in settings.allowed_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
    )
    application.include_router(health.router, prefix="/api")
    application.include_router(chat.router, prefix="/api")

    @application.get("/", tags=["meta"])
    async def root() -> dict[str, str]:
        """Where to look next."""
        return {"name": settings.app_name, "docs": "/docs", "health": "/api/health"}

    return application


app = create_app()
