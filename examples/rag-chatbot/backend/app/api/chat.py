"""`POST /api/chat`: a retrieval-augmented answer."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from app.core.config import get_settings
from app.models.schemas import ChatRequest, ChatResponse, ErrorResponse
from app.services import rag_service

router = APIRouter(tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={502: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def chat(request: ChatRequest) -> ChatResponse:
    """Answer the message from the indexed documents; 503 when settings are missing."""
    try:
        return await rag_service.answer(get_settings(), request.message, request.session_id)
    except rag_service.NotConfigured as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    except rag_service.UpstreamFailed as exc:
        raise HTTPException(status_code=502, detail=str(exc)) from exc
