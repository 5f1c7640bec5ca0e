"""Qdrant over its REST API (httpx), without the qdrant-client dependency."""

from __future__ import annotations

from typing import Any

import httpx

from app.core.config import Settings, scrub, short

SUSPENDED_HINT = "the cluster may be suspended; resume it in the Qdrant Cloud console"


class QdrantError(Exception):
    """Qdrant could not be reached or answered with an error; the message is safe to show."""


def _headers(settings: Settings) -> dict[str, str]:
    return {"api-key": settings.qdrant_api_key} if settings.qdrant_api_key else {}


def describe_status(response: httpx.Response) -> str:
    """A short, secret-free explanation of a non-2xx Qdrant answer."""
    code = response.status_code
    reason = response.reason_phrase or ""
    if code == 404:
        return f"qdrant answered 404 {reason or 'Not Found'}: {SUSPENDED_HINT}"
    if code in (401, 403):
        return f"qdrant rejected the API key (HTTP {code}); check QDRANT_API_KEY"
    return f"qdrant answered {code} {reason}".strip()


def describe_exception(exc: Exception, settings: Settings, timeout: float) -> str:
    """A short, secret-free explanation of a transport failure."""
    if isinstance(exc, httpx.TimeoutException):
        return f"qdrant did not answer within {timeout:g} s"
    detail = str(exc) or type(exc).__name__
    return short(scrub(f"could not reach qdrant: {detail}", settings.qdrant_api_key))


async def check(settings: Settings) -> dict[str, Any]:
    """Health check: `GET {QDRANT_URL}/collections`."""
    if not settings.qdrant_url:
        return {"status": "not_configured"}
    timeout = settings.health_check_timeout
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(f"{settings.qdrant_url}/collections", headers=_headers(settings))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return {"status": "error", "error": describe_exception(exc, settings, timeout)}
    if response.is_success:
        return {"status": "ok"}
    return {"status": "error", "error": describe_status(response)}


async def search(settings: Settings, vector: list[float], limit: int) -> list[dict[str, Any]]:
    """Nearest points of the configured collection, payload included."""
    if not settings.qdrant_url:
        raise QdrantError("QDRANT_URL is not set")
    url = f"{settings.qdrant_url}/collections/{settings.qdrant_collection}/points/search"
    body = {"vector": vector, "limit": limit, "with_payload": True}
    timeout = 15.0
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, json=body, headers=_headers(settings))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise QdrantError(describe_exception(exc, settings, timeout)) from exc
    if response.status_code == 404 and "collection" in response.text.lower():
        raise QdrantError(f"qdrant has no collection `{settings.qdrant_collection}` (set QDRANT_COLLECTION)")
    if not response.is_success:
        raise QdrantError(describe_status(response))
    try:
        points = response.json()["result"]
    except (ValueError, KeyError, TypeError) as exc:
        raise QdrantError("qdrant answered the search with an unexpected body") from exc
    return points if isinstance(points, list) else []
