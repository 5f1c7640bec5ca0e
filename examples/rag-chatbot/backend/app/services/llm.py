"""Gemini over its REST API (httpx): health check and answer generation."""

from __future__ import annotations

from typing import Any

import httpx

from app.core.config import Settings, scrub, short


class GeminiError(Exception):
    """Gemini could not be used; the message is safe to show (it never holds the API key)."""


def _api_message(response: httpx.Response) -> str:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    return message if isinstance(message, str) else ""


def describe_status(response: httpx.Response, settings: Settings, key_check: bool = False) -> str:
    """A short explanation of a non-2xx Gemini answer, without the key.

    Google answers a bad key with 400 (`API_KEY_INVALID`) or 403; on the model listing any 400
    means the key, elsewhere a 400 may also be a bad request, told apart by the error text.
    """
    code = response.status_code
    message = _api_message(response)
    key_problem = code in (401, 403) or (
        code == 400 and (key_check or "API_KEY" in response.text or "API key" in message)
    )
    if key_problem:
        return f"gemini rejected the API key (HTTP {code}); check GEMINI_API_KEY"
    if code == 429:
        return "gemini answered 429 Too Many Requests: quota or rate limit exceeded"
    if code == 404:
        return "gemini answered 404 Not Found: check GEMINI_MODEL and EMBEDDING_MODEL"
    text = f"gemini answered {code} {response.reason_phrase or ''}".strip()
    if message:
        text = f"{text}: {message}"
    return short(scrub(text, settings.gemini_api_key))


def model_path(model: str) -> str:
    """`models/<name>` for a model given with or without the `models/` prefix."""
    return model if model.startswith("models/") else f"models/{model}"


def describe_exception(exc: Exception, settings: Settings, timeout: float) -> str:
    """A short explanation of a transport failure, without the key (httpx errors may hold the URL)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"gemini did not answer within {timeout:g} s"
    detail = str(exc) or type(exc).__name__
    return short(scrub(f"could not reach gemini: {detail}", settings.gemini_api_key))


async def call(
    settings: Settings,
    method: str,
    path: str,
    timeout: float,
    body: Any = None,
    key_check: bool = False,
) -> Any:
    """`{GEMINI_API_BASE}/v1beta/{path}?key=...`, returning the parsed JSON body."""
    if not settings.gemini_api_key:
        raise GeminiError("GEMINI_API_KEY is not set")
    url = f"{settings.gemini_api_base}/v1beta/{path}"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.request(method, url, params={"key": settings.gemini_api_key}, json=body)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise GeminiError(describe_exception(exc, settings, timeout)) from exc
    if not response.is_success:
        raise GeminiError(describe_status(response, settings, key_check))
    try:
        return response.json()
    except ValueError as exc:
        raise GeminiError(f"gemini answered {path.split(':')[-1]} with a body that is not JSON") from exc


async def check(settings: Settings) -> dict[str, Any]:
    """Health check: list the models the key may use."""
    if not settings.gemini_api_key:
        return {"status": "not_configured"}
    try:
        await call(settings, "GET", "models", settings.health_check_timeout, key_check=True)
    except GeminiError as exc:
        return {"status": "error", "error": str(exc)}
    return {"status": "ok"}


async def generate(settings: Settings, prompt: str) -> str:
    """Generate an answer for `prompt` with `GEMINI_MODEL`."""
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    data = await call(settings, "POST", f"{model_path(settings.gemini_model)}:generateContent", 60.0, body)
    try:
        candidate = data["candidates"][0]
        parts = candidate.get("content", {}).get("parts", [])
        text = "".join(part.get("text", "") for part in parts).strip()
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise GeminiError("gemini answered generateContent without a candidate") from exc
    if not text:
        reason = candidate.get("finishReason", "no text") if isinstance(candidate, dict) else "no text"
        raise GeminiError(f"gemini returned an empty answer ({reason})")
    return text
