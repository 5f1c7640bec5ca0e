"""A seed-shaped backend for the image build benchmark: the packages of the seed, one route."""

import os

from fastapi import FastAPI

app = FastAPI(title="seed-shaped backend")


@app.get("/api/health")
def health() -> dict:
    return {"status": "healthy", "services": {"fastapi": "ok"}, "configured": bool(os.getenv("QDRANT_URL"))}
