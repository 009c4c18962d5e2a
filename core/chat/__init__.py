"""Chat recall: answers from the user's memories with citations (see docs/architecture.md).

Public API::

    ChatService, AskJob, ChatEvent       run questions (blocking or streamed on a worker)
    Answer, Citation, AskOptions, ChatSettings
    ConversationStore, Turn, ConversationSummary
    route_question, Route, AggregateKind
"""

from __future__ import annotations

from core.chat.answer import Answer, AskOptions, ChatEngine, ChatSettings, Citation
from core.chat.conversations import ConversationStore, ConversationSummary, Turn
from core.chat.router import AggregateKind, Route, route_question
from core.chat.service import AskJob, ChatEvent, ChatService, IndexRecallSource

__all__ = [
    "AggregateKind",
    "Answer",
    "AskJob",
    "AskOptions",
    "ChatEngine",
    "ChatEvent",
    "ChatService",
    "ChatSettings",
    "Citation",
    "ConversationStore",
    "ConversationSummary",
    "IndexRecallSource",
    "Route",
    "Turn",
    "route_question",
]
