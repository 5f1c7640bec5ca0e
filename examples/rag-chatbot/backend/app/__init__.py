"""Example RAG chatbot backend: FastAPI + Qdrant + PostgreSQL + Gemini."""
