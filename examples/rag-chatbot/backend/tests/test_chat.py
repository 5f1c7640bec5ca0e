"""`POST /api/chat`, against local fake Gemini, Qdrant and PostgreSQL servers."""

from __future__ import annotations

import json
import re

import pytest

GEMINI_KEY = "AIzaFAKE-chat-key-987654321"
EMBED_PATH = "/v1beta/models/text-embedding-004:embedContent"
GENERATE_PATH = "/v1beta/models/gemini-2.0-flash:generateContent"
SEARCH_PATH = "/collections/documents/points/search"
VECTOR = [0.25, -0.5, 0.125]


@pytest.fixture
def upstream(env, fake_http):
    """Fake Gemini and Qdrant answering a normal chat turn; returns (gemini, qdrant)."""
    gemini, qdrant = fake_http(), fake_http()
    gemini.route("POST", EMBED_PATH, 200, {"embedding": {"values": VECTOR}})
    gemini.route(
        "POST",
        GENERATE_PATH,
        200,
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"text": "Spaces sleep after 48 hours "}, {"text": "idle."}],
                    },
                    "finishReason": "STOP",
                }
            ]
        },
    )
    qdrant.route(
        "POST",
        SEARCH_PATH,
        200,
        {
            "result": [
                {
                    "id": 7,
                    "score": 0.91,
                    "payload": {"text": "Free Spaces sleep after 48 hours.", "source": "faq.md"},
                },
                {
                    "id": "b2c4",
                    "score": 0.5,
                    "payload": {
                        "page_content": "Upgrade hardware to avoid sleeping.",
                        "metadata": {"page": 3},
                    },
                },
                {"id": 9, "score": 0.1, "payload": {"title": "no text here"}},
            ],
            "status": "ok",
        },
    )
    env.setenv("GEMINI_API_BASE", gemini.url)
    env.setenv("GEMINI_API_KEY", GEMINI_KEY)
    env.setenv("QDRANT_URL", qdrant.url)
    return gemini, qdrant


def ask(client, message: str = "When do Spaces sleep?", **extra):
    return client.post("/api/chat", json={"message": message, **extra})


def test_chat_without_settings_is_503_naming_them(make_client):
    response = ask(make_client())
    assert response.status_code == 503
    assert response.json() == {"detail": "chat is not configured: set GEMINI_API_KEY, QDRANT_URL"}


def test_chat_names_only_the_missing_setting(env, make_client):
    env.setenv("GEMINI_API_KEY", GEMINI_KEY)
    response = ask(make_client())
    assert response.status_code == 503
    assert response.json() == {"detail": "chat is not configured: set QDRANT_URL"}


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": 3}, {"message": "hi", "session_id": 5}])
def test_chat_rejects_malformed_requests(make_client, body):
    assert make_client().post("/api/chat", json=body).status_code == 422


def test_chat_answers_from_retrieved_passages_and_stores_the_exchange(
    env, make_client, upstream, fake_postgres
):
    gemini, qdrant = upstream
    env.setenv("QDRANT_API_KEY", "qdrant-chat-key")
    env.setenv("DATABASE_URL", fake_postgres.url)
    fake_postgres.history_rows = [("What is a Space?", "A hosted app.")]

    response = ask(make_client(), session_id="session-1")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] == "Spaces sleep after 48 hours idle."
    assert body["session_id"] == "session-1"
    assert body["sources"] == [
        {
            "id": "7",
            "score": 0.91,
            "text": "Free Spaces sleep after 48 hours.",
            "metadata": {"source": "faq.md"},
        },
        {"id": "b2c4", "score": 0.5, "text": "Upgrade hardware to avoid sleeping.", "metadata": {"page": 3}},
    ]

    embed, generate = gemini.requests
    assert (embed.method, embed.path, embed.query["key"]) == ("POST", EMBED_PATH, [GEMINI_KEY])
    assert embed.body["content"] == {"parts": [{"text": "When do Spaces sleep?"}]}
    assert embed.body["model"] == "models/text-embedding-004"

    (search,) = qdrant.requests
    assert search.body == {"vector": VECTOR, "limit": 5, "with_payload": True}
    assert search.headers["api-key"] == "qdrant-chat-key"

    prompt = generate.body["contents"][0]["parts"][0]["text"]
    assert "[1] Free Spaces sleep after 48 hours." in prompt
    assert "[2] Upgrade hardware to avoid sleeping." in prompt
    assert "User: What is a Space?\nAssistant: A hosted app." in prompt
    assert prompt.rstrip().endswith("Question: When do Spaces sleep?\nAnswer:")

    sql = [q.sql for q in fake_postgres.queries]
    assert any(s.strip().startswith("CREATE TABLE IF NOT EXISTS chat_history") for s in sql)
    (insert,) = [q for q in fake_postgres.queries if q.sql.startswith("INSERT INTO chat_history")]
    session, question, answer, sources = insert.params
    assert (session, question, answer) == (
        "session-1",
        "When do Spaces sleep?",
        "Spaces sleep after 48 hours idle.",
    )
    assert [s["id"] for s in json.loads(sources)] == ["7", "b2c4"]
    (history,) = [q for q in fake_postgres.queries if q.sql.startswith("SELECT question, answer")]
    assert history.params[0] == "session-1"


def test_chat_without_database_answers_and_makes_a_session(env, make_client, upstream):
    env.setenv("EMBEDDING_MODEL", "models/text-embedding-004")
    env.setenv("SEARCH_LIMIT", "2")
    response = ask(make_client())
    assert response.status_code == 200, response.text
    assert re.fullmatch(r"[0-9a-f]{32}", response.json()["session_id"])
    _, qdrant = upstream
    assert qdrant.requests[0].body["limit"] == 2


def test_chat_with_a_broken_database_fails_before_spending_gemini_quota(
    env, make_client, upstream, closed_port
):
    gemini, _ = upstream
    env.setenv("DATABASE_URL", f"postgresql://app:pg-s3cret@127.0.0.1:{closed_port}/app")

    response = ask(make_client())

    assert response.status_code == 502
    assert response.json()["detail"].startswith("postgres failed: connection failed")
    assert "pg-s3cret" not in response.text
    assert gemini.requests == []


def test_chat_reports_a_missing_collection(env, make_client, upstream):
    _, qdrant = upstream
    qdrant.route(
        "POST", SEARCH_PATH, 404, {"status": {"error": "Not found: Collection `documents` doesn't exist!"}}
    )
    response = ask(make_client())
    assert response.status_code == 502
    assert response.json() == {
        "detail": "qdrant failed: qdrant has no collection `documents` (set QDRANT_COLLECTION)"
    }


def test_chat_reports_a_gemini_quota_error_without_the_key(env, make_client, upstream):
    gemini, _ = upstream
    gemini.route("POST", GENERATE_PATH, 429, {"error": {"code": 429, "message": "Resource exhausted"}})
    response = ask(make_client())
    assert response.status_code == 502
    assert response.json()["detail"] == (
        "gemini failed: gemini answered 429 Too Many Requests: quota or rate limit exceeded"
    )
    assert GEMINI_KEY not in response.text


def test_chat_reports_a_rejected_gemini_key(env, make_client, upstream):
    gemini, qdrant = upstream
    gemini.route(
        "POST",
        EMBED_PATH,
        400,
        {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}},
    )
    response = ask(make_client())
    assert response.status_code == 502
    assert response.json()["detail"].startswith("gemini failed: gemini rejected the API key (HTTP 400)")
    assert qdrant.requests == []


def test_chat_passes_on_gemini_error_text_with_the_key_blanked(env, make_client, upstream):
    gemini, _ = upstream
    gemini.route(
        "POST",
        GENERATE_PATH,
        500,
        {"error": {"code": 500, "message": f"internal error for request ?key={GEMINI_KEY}"}},
    )
    response = ask(make_client())
    assert response.status_code == 502
    assert response.json()["detail"] == (
        "gemini failed: gemini answered 500 Internal Server Error: internal error for request ?key=***"
    )
