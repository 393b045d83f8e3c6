"""Agent sessions of Claude Code, Codex CLI and Gemini CLI: parsers and a searchable index.

``SessionIndex`` is the entry point; ``FORMATS`` gives each CLI's roots, parser and resume rules.
"""

from .base import AgentFormat, FileState, Incomplete, ParseResult
from .index import (
    FORMATS,
    SearchHit,
    SearchQueryError,
    SessionIndex,
    SyncStats,
    default_index_path,
    fts_query,
)
from .model import AGENT_NAMES, Message, Session, Tokens, valid_session_id

__all__ = [
    "AGENT_NAMES",
    "FORMATS",
    "AgentFormat",
    "FileState",
    "Incomplete",
    "Message",
    "ParseResult",
    "SearchHit",
    "SearchQueryError",
    "Session",
    "SessionIndex",
    "SyncStats",
    "Tokens",
    "default_index_path",
    "fts_query",
    "valid_session_id",
]
