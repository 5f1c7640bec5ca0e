"""`GET /api/health`, `GET /` and CORS, against local fake servers."""

from __future__ import annotations

import time

import pytest

from app.core.config import get_settings, parse_origins
from app.db import postgres, qdrant

GEMINI_KEY = "AIzaFAKE-key-0123456789"
QDRANT_KEY = "qdrant-secret-key-42"


def services(client) -> dict:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "services"}
    assert set(body["services"]) == {"fastapi", "qdrant", "postgres", "gemini"}
    assert body["services"]["fastapi"] == "ok"
    return body


def test_nothing_configured_is_degraded_with_every_service_not_configured(make_client):
    body = services(make_client())
    assert body == {
        "status": "degraded",
        "services": {
            "fastapi": "ok",
            "qdrant": {"status": "not_configured"},
            "postgres": {"status": "not_configured"},
            "gemini": {"status": "not_configured"},
        },
    }


def test_root_points_at_docs_and_health(make_client):
    body = make_client().get("/").json()
    assert body["docs"] == "/docs" and body["health"] == "/api/health"
    assert isinstance(body["name"], str) and body["name"]


def test_all_services_ok_is_healthy(env, make_client, fake_http, fake_postgres):
    q, g = fake_http(), fake_http()
    q.route("GET", "/collections", 200, {"result": {"collections": []}, "status": "ok"})
    g.route("GET", "/v1beta/models", 200, {"models": [{"name": "models/gemini-2.0-flash"}]})
    env.setenv("QDRANT_URL", q.url + "/")
    env.setenv("QDRANT_API_KEY", QDRANT_KEY)
    env.setenv("GEMINI_API_BASE", g.url)
    env.setenv("GEMINI_API_KEY", GEMINI_KEY)
    env.setenv("DATABASE_URL", fake_postgres.url)

    body = services(make_client())

    assert body["status"] == "healthy", body
    assert {name: s["status"] for name, s in body["services"].items() if name != "fastapi"} == {
        "qdrant": "ok",
        "postgres": "ok",
        "gemini": "ok",
    }
    assert [r.headers.get("api-key") for r in q.requests] == [QDRANT_KEY]
    assert [r.query.get("key") for r in g.requests] == [[GEMINI_KEY]]
    assert [query.sql for query in fake_postgres.queries] == ["SELECT 1"]


def test_qdrant_404_is_diagnosed_as_a_suspended_cluster(env, make_client, fake_http):
    q = fake_http()
    q.route("GET", "/collections", 404, {})
    env.setenv("QDRANT_URL", q.url)

    body = services(make_client())

    assert body["status"] == "degraded"
    status = body["services"]["qdrant"]
    assert status["status"] == "error"
    assert "404" in status["error"] and "suspended" in status["error"]
    assert status["error"] == (
        "qdrant answered 404 Not Found: the cluster may be suspended; resume it in the Qdrant Cloud console"
    )
    assert body["services"]["postgres"] == {"status": "not_configured"}


def test_qdrant_rejected_key_is_reported_without_the_key(env, make_client, fake_http):
    q = fake_http()
    q.route("GET", "/collections", 403, {"status": {"error": f"bad key {QDRANT_KEY}"}})
    env.setenv("QDRANT_URL", q.url)
    env.setenv("QDRANT_API_KEY", QDRANT_KEY)

    status = services(make_client())["services"]["qdrant"]

    assert status["status"] == "error"
    assert "403" in status["error"] and "QDRANT_API_KEY" in status["error"]
    assert QDRANT_KEY not in status["error"]


def test_qdrant_unreachable_is_an_error(env, make_client, closed_port):
    env.setenv("QDRANT_URL", f"http://127.0.0.1:{closed_port}")
    status = services(make_client())["services"]["qdrant"]
    assert status["status"] == "error"
    assert status["error"].startswith("could not reach qdrant")


def test_slow_services_time_out_concurrently(env, make_client, fake_http):
    q, g = fake_http(), fake_http()
    q.route("GET", "/collections", 200, {}, delay=2.0)
    g.route("GET", "/v1beta/models", 200, {}, delay=2.0)
    env.setenv("HEALTH_CHECK_TIMEOUT", "0.5")
    env.setenv("QDRANT_URL", q.url)
    env.setenv("GEMINI_API_BASE", g.url)
    env.setenv("GEMINI_API_KEY", GEMINI_KEY)
    client = make_client()

    started = time.monotonic()
    body = services(client)
    elapsed = time.monotonic() - started

    assert body["services"]["qdrant"] == {"status": "error", "error": "qdrant did not answer within 0.5 s"}
    assert body["services"]["gemini"] == {"status": "error", "error": "gemini did not answer within 0.5 s"}
    # Run one after the other the two checks would need at least 1 s.
    assert elapsed < 0.95, elapsed


@pytest.mark.parametrize("code", [400, 401, 403])
def test_gemini_bad_key_is_reported_without_the_key(env, make_client, fake_http, code):
    g = fake_http()
    g.route(
        "GET",
        "/v1beta/models",
        code,
        {
            "error": {
                "code": code,
                "message": f"API key not valid: {GEMINI_KEY}",
                "status": "INVALID_ARGUMENT",
            }
        },
    )
    env.setenv("GEMINI_API_BASE", g.url)
    env.setenv("GEMINI_API_KEY", GEMINI_KEY)

    body = services(make_client())

    status = body["services"]["gemini"]
    assert status["status"] == "error"
    assert status["error"].startswith(f"gemini rejected the API key (HTTP {code})")
    assert GEMINI_KEY not in status["error"]
    assert g.requests[0].query["key"] == [GEMINI_KEY]
    assert body["status"] == "degraded"


def test_gemini_unreachable_does_not_leak_the_key(env, make_client, closed_port):
    env.setenv("GEMINI_API_BASE", f"http://127.0.0.1:{closed_port}")
    env.setenv("GEMINI_API_KEY", GEMINI_KEY)
    status = services(make_client())["services"]["gemini"]
    assert status["status"] == "error"
    assert status["error"].startswith("could not reach gemini")
    assert GEMINI_KEY not in status["error"]


def test_postgres_refused_connection_is_an_error_without_the_password(env, make_client, closed_port):
    env.setenv("DATABASE_URL", f"postgresql://app:pg-s3cret@127.0.0.1:{closed_port}/app")
    status = services(make_client())["services"]["postgres"]
    assert status["status"] == "error"
    assert "127.0.0.1" in status["error"]
    assert "pg-s3cret" not in status["error"]


def test_postgres_malformed_url_is_an_error(env, make_client):
    env.setenv("DATABASE_URL", "definitely not a database url")
    status = services(make_client())["services"]["postgres"]
    assert status == {
        "status": "error",
        "error": "DATABASE_URL is not a postgresql:// URL (expected postgresql://USER:PASSWORD@HOST:5432/DB)",
    }


def test_postgres_ssl_error_keeps_the_driver_text(env, make_client, no_ssl_postgres):
    env.setenv("DATABASE_URL", f"postgresql://app:pw@{no_ssl_postgres}/app?sslmode=require")
    status = services(make_client())["services"]["postgres"]
    assert status["status"] == "error"
    assert "SSL" in status["error"], status


def test_postgres_that_never_answers_times_out(env, make_client, silent_server):
    env.setenv("HEALTH_CHECK_TIMEOUT", "1")
    env.setenv("DATABASE_URL", f"postgresql://app:pw@{silent_server}/app")
    started = time.monotonic()
    status = services(make_client())["services"]["postgres"]
    assert status == {"status": "error", "error": "postgres did not answer within 1 s"}
    assert time.monotonic() - started < 1.9


def test_sqlalchemy_style_urls_are_accepted():
    assert postgres.conninfo("postgresql+asyncpg://u:p@h/db") == "postgresql://u:p@h/db"
    assert (
        postgres.conninfo("postgres+psycopg://u:p@h/db?sslmode=require")
        == "postgres://u:p@h/db?sslmode=require"
    )
    assert postgres.conninfo("postgresql://u:p@h/db") == "postgresql://u:p@h/db"
    assert postgres.conninfo("PostgreSQL+asyncpg://u:p@h/db") == "postgresql://u:p@h/db"
    assert postgres.conninfo("host=h dbname=db") == "host=h dbname=db"


@pytest.mark.asyncio
async def test_qdrant_check_can_be_awaited_directly(env, fake_http):
    q = fake_http()
    q.route("GET", "/collections", 500, {})
    env.setenv("QDRANT_URL", q.url)
    assert await qdrant.check(get_settings()) == {
        "status": "error",
        "error": "qdrant answered 500 Internal Server Error",
    }


# --- CORS ---------------------------------------------------------------------------------------


def preflight(client, origin: str):
    return client.options(
        "/api/chat",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_cors_preflight_allows_a_configured_origin(env, make_client):
    env.setenv("ALLOWED_ORIGINS", " https://chat.example.com , ,http://localhost:5173 ")
    client = make_client()

    response = preflight(client, "https://chat.example.com")

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://chat.example.com"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert preflight(client, "http://localhost:5173").headers["access-control-allow-origin"] == (
        "http://localhost:5173"
    )


def test_cors_preflight_blocks_another_origin(env, make_client):
    env.setenv("ALLOWED_ORIGINS", "https://chat.example.com")
    client = make_client()

    response = preflight(client, "https://evil.example.net")

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    simple = client.get("/api/health", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_defaults_to_local_dev_servers(make_client):
    client = make_client()
    assert preflight(client, "http://localhost:3000").status_code == 200
    assert preflight(client, "http://localhost:5173").status_code == 200
    assert "access-control-allow-origin" not in preflight(client, "http://localhost:8080").headers


def test_parse_origins_trims_and_drops_empty_entries():
    assert parse_origins(" a , ,b,, ") == ["a", "b"]
    assert parse_origins("") == []
