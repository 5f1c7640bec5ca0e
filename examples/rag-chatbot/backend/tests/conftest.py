"""Shared fixtures: a clean environment, an app client, and local fake servers.

The fakes stand in for the servers (Qdrant, Gemini, PostgreSQL), never for the client code: the
backend talks to them over real sockets on 127.0.0.1 with its real HTTP and database drivers.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

SETTINGS = (
    "ALLOWED_ORIGINS",
    "APP_NAME",
    "DATABASE_URL",
    "EMBEDDING_MODEL",
    "GEMINI_API_BASE",
    "GEMINI_API_KEY",
    "GEMINI_MODEL",
    "HEALTH_CHECK_TIMEOUT",
    "QDRANT_API_KEY",
    "QDRANT_COLLECTION",
    "QDRANT_URL",
    "SEARCH_LIMIT",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment with every backend setting removed; set what a test needs."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def make_client(env: pytest.MonkeyPatch) -> Iterator[Callable[[], TestClient]]:
    """Build the app from the environment as it is when called (CORS is read at build time)."""
    clients: list[TestClient] = []

    def build() -> TestClient:
        from app.main import create_app

        client = TestClient(create_app())
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- fake HTTP server --------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request the fake HTTP server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    """What the fake HTTP server answers on one route."""

    status: int = 200
    body: Any = field(default_factory=dict)
    delay: float = 0.0


class FakeHttpServer:
    """A threading `http.server` on 127.0.0.1 answering canned JSON per `METHOD /path`."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[Recorded] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                fake.requests.append(
                    Recorded(
                        method=self.command,
                        path=url.path,
                        query=parse_qs(url.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                reply = fake.routes.get(f"{self.command} {url.path}") or Reply(404, {"error": "no route"})
                if reply.delay:
                    time.sleep(reply.delay)
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def route(self, method: str, path: str, status: int = 200, body: Any = None, delay: float = 0.0) -> None:
        """Answer `METHOD path` with `status` and the JSON `body`."""
        self.routes[f"{method} {path}"] = Reply(status, {} if body is None else body, delay)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_http() -> Iterator[Callable[[], FakeHttpServer]]:
    """Factory of fake HTTP servers, all stopped after the test."""
    servers: list[FakeHttpServer] = []

    def start() -> FakeHttpServer:
        server = FakeHttpServer()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


# --- fake PostgreSQL server --------------------------------------------------------------------

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
INT4_OID = 23
TEXT_OID = 25


def _msg(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(payload) + 4) + payload


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"


@dataclass
class PgQuery:
    """One statement the fake PostgreSQL server executed, with its text-decoded parameters."""

    sql: str
    params: list[str | None]


class FakePostgres:
    """Just enough of the PostgreSQL wire protocol (v3) for psycopg: trust auth, simple and
    extended queries. It refuses TLS like a server without SSL; `history_rows` are answered to
    `SELECT ... FROM chat_history`, every other statement succeeds without rows."""

    def __init__(self) -> None:
        self.queries: list[PgQuery] = []
        self.history_rows: list[tuple[str, str]] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"postgresql://demo:demo-password@127.0.0.1:{self.port}/demo"
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self._startup(conn)
                self._loop(conn)
            except (ConnectionError, OSError):
                return

    def _startup(self, conn: socket.socket) -> None:
        while True:
            (length,) = struct.unpack("!i", self._read(conn, 4))
            body = self._read(conn, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.sendall(b"N")
                continue
            break
        out = _msg(b"R", struct.pack("!i", 0))
        for key, value in (
            ("server_version", "16.4"),
            ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("integer_datetimes", "on"),
            ("standard_conforming_strings", "on"),
            ("TimeZone", "UTC"),
        ):
            out += _msg(b"S", _cstr(key) + _cstr(value))
        out += _msg(b"K", struct.pack("!ii", 4242, 1234))
        out += _msg(b"Z", b"I")
        conn.sendall(out)

    def _result(self, sql: str) -> tuple[list[tuple[str, int]], list[tuple[str, ...]], str]:
        lowered = " ".join(sql.lower().split())
        if lowered == "select 1":
            return [("?column?", INT4_OID)], [("1",)], "SELECT 1"
        if lowered.startswith("select") and "from chat_history" in lowered:
            rows = list(reversed(self.history_rows))  # the query asks newest first
            return [("question", TEXT_OID), ("answer", TEXT_OID)], rows, f"SELECT {len(rows)}"
        if lowered.startswith("insert"):
            return [], [], "INSERT 0 1"
        return [], [], lowered.split(" ")[0].upper() + (" TABLE" if "table" in lowered else "")

    @staticmethod
    def _row_description(columns: list[tuple[str, int]]) -> bytes:
        payload = struct.pack("!h", len(columns))
        for name, oid in columns:
            payload += _cstr(name) + struct.pack("!ihihih", 0, 0, oid, 4 if oid == INT4_OID else -1, -1, 0)
        return _msg(b"T", payload)

    @staticmethod
    def _data_rows(rows: list[tuple[str, ...]]) -> bytes:
        out = b""
        for row in rows:
            payload = struct.pack("!h", len(row))
            for value in row:
                data = value.encode()
                payload += struct.pack("!i", len(data)) + data
            out += _msg(b"D", payload)
        return out

    def _loop(self, conn: socket.socket) -> None:
        sql = ""
        params: list[str | None] = []
        pending = b""
        while True:
            kind = self._read(conn, 1)
            (length,) = struct.unpack("!i", self._read(conn, 4))
            body = self._read(conn, length - 4)
            if kind == b"X":
                return
            if kind == b"Q":
                text = body.rstrip(b"\0").decode()
                self.queries.append(PgQuery(text, []))
                columns, rows, tag = self._result(text)
                out = self._row_description(columns) + self._data_rows(rows) if columns else b""
                conn.sendall(out + _msg(b"C", _cstr(tag)) + _msg(b"Z", b"I"))
            elif kind == b"P":
                _name, rest = body.split(b"\0", 1)
                sql = rest.split(b"\0", 1)[0].decode()
                pending += _msg(b"1")
            elif kind == b"B":
                params = self._bind_params(body)
                self.queries.append(PgQuery(sql, params))
                pending += _msg(b"2")
            elif kind == b"D":
                columns, _, _ = self._result(sql)
                pending += self._row_description(columns) if columns else _msg(b"n")
            elif kind == b"E":
                _, rows, tag = self._result(sql)
                pending += self._data_rows(rows) + _msg(b"C", _cstr(tag))
            elif kind == b"S":
                conn.sendall(pending + _msg(b"Z", b"I"))
                pending = b""
            elif kind == b"H":
                conn.sendall(pending)
                pending = b""

    @staticmethod
    def _bind_params(body: bytes) -> list[str | None]:
        _portal, rest = body.split(b"\0", 1)
        _stmt, rest = rest.split(b"\0", 1)
        (nformats,) = struct.unpack("!h", rest[:2])
        formats = struct.unpack(f"!{nformats}h", rest[2 : 2 + 2 * nformats])
        pos = 2 + 2 * nformats
        (nparams,) = struct.unpack("!h", rest[pos : pos + 2])
        pos += 2
        values: list[str | None] = []
        for i in range(nparams):
            (size,) = struct.unpack("!i", rest[pos : pos + 4])
            pos += 4
            if size < 0:
                values.append(None)
                continue
            raw = rest[pos : pos + size]
            pos += size
            fmt = formats[i] if nformats > 1 else (formats[0] if nformats else 0)
            if fmt == 1 and size in (2, 4, 8):
                values.append(str(int.from_bytes(raw, "big", signed=True)))
            else:
                values.append(raw.decode("utf-8", "replace"))
        return values

    def close(self) -> None:
        self.closed = True
        self.sock.close()


@pytest.fixture
def fake_postgres() -> Iterator[FakePostgres]:
    """A fake PostgreSQL server on 127.0.0.1."""
    server = FakePostgres()
    yield server
    server.close()


@pytest.fixture
def no_ssl_postgres() -> Iterator[str]:
    """A TCP server that refuses TLS like a PostgreSQL server without SSL, then hangs up."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(8)
                    conn.sendall(b"N")
                    conn.recv(1024)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    sock.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never says a word (`host:port`)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
