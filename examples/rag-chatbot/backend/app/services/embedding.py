"""Question embeddings with the Gemini embedding API (httpx)."""

from __future__ import annotations

from app.core.config import Settings
from app.services.llm import GeminiError, call, model_path


async def embed(settings: Settings, text: str) -> list[float]:
    """Embed `text` with `EMBEDDING_MODEL` (task type: retrieval query)."""
    model = model_path(settings.embedding_model)
    body = {
        "model": model,
        "content": {"parts": [{"text": text}]},
        "taskType": "RETRIEVAL_QUERY",
    }
    data = await call(settings, "POST", f"{model}:embedContent", 30.0, body)
    try:
        values = data["embedding"]["values"]
    except (KeyError, TypeError) as exc:
        raise GeminiError("gemini answered embedContent without `embedding.values`") from exc
    if not isinstance(values, list) or not values:
        raise GeminiError("gemini returned an empty embedding")
    return [float(v) for v in values]
