"""Moderation domain core: verdicts, hook registry, term filter, rate limits, audit chain.

Pure domain code: imports neither ``rooms`` nor ``server`` nor any network library. The
server builds context objects at the edge, awaits the runners on one
:class:`ModerationCallbacks` and applies the returned :data:`Verdict`.
"""

from __future__ import annotations

from moderation.audit import (
    GENESIS_HASH,
    AuditEntry,
    VerifyResult,
    canonical_bytes,
    chain_append,
    entry_hash,
    verify_chain,
)
from moderation.callbacks import ModerationCallbacks
from moderation.context import (
    ActionContext,
    ChatContext,
    DisplayNameContext,
    FlagContext,
    JoinContext,
    ReportContext,
    UploadContext,
)
from moderation.errors import (
    AuditError,
    AuditSerializationError,
    CallbackFailedError,
    ModerationConfigError,
    ModerationError,
    PluginConfigError,
    PluginError,
    PluginImportError,
    PluginInitError,
    RegistrationError,
    TermFileError,
)
from moderation.hooks import (
    CHECK_CHAT,
    CHECK_DISPLAY_NAME,
    CHECK_JOIN,
    CHECK_UPLOAD,
    GATES,
    HOOKS,
    NOTIFICATIONS,
    OBSERVER,
    ON_ACTION,
    ON_FLAG,
    ON_REPORT,
    RECORD,
    CallbackStats,
)
from moderation.loader import load_plugins
from moderation.normalize import Normalized, canonical, normalize, normalize_views
from moderation.ratelimit import FloodConfig, FloodGuard, TokenBucketLimiter
from moderation.termfile import Term, parse_terms, read_terms
from moderation.terms import Match, TermFilter
from moderation.verdicts import (
    ALLOW,
    Block,
    Flag,
    Redact,
    Severity,
    Verdict,
    strongest,
    user_message,
    verdict_kind,
)

__all__ = [
    "ALLOW",
    "CHECK_CHAT",
    "CHECK_DISPLAY_NAME",
    "CHECK_JOIN",
    "CHECK_UPLOAD",
    "OBSERVER",
    "ON_ACTION",
    "ON_FLAG",
    "ON_REPORT",
    "RECORD",
    "GATES",
    "GENESIS_HASH",
    "HOOKS",
    "NOTIFICATIONS",
    "ActionContext",
    "AuditEntry",
    "AuditError",
    "AuditSerializationError",
    "Block",
    "CallbackFailedError",
    "CallbackStats",
    "ChatContext",
    "DisplayNameContext",
    "Flag",
    "FlagContext",
    "FloodConfig",
    "FloodGuard",
    "JoinContext",
    "Match",
    "ModerationCallbacks",
    "ModerationConfigError",
    "ModerationError",
    "Normalized",
    "PluginConfigError",
    "PluginError",
    "PluginImportError",
    "PluginInitError",
    "Redact",
    "RegistrationError",
    "ReportContext",
    "Severity",
    "Term",
    "TermFileError",
    "TermFilter",
    "TokenBucketLimiter",
    "UploadContext",
    "Verdict",
    "VerifyResult",
    "canonical",
    "canonical_bytes",
    "chain_append",
    "entry_hash",
    "load_plugins",
    "normalize",
    "normalize_views",
    "parse_terms",
    "read_terms",
    "strongest",
    "user_message",
    "verdict_kind",
    "verify_chain",
]
