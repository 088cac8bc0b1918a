"""The moderation package's exception tree.

Every error raised on purpose by ``moderation`` derives from :class:`ModerationError`, so the
server can map the whole family once (configuration errors stop start-up; nothing here is ever
sent to a client as-is). ``moderation`` may not import ``server``, so the project-wide
``MetahallError`` root is not used here; when one exists in a package ``moderation`` may import,
re-parent :class:`ModerationError` on it.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "AuditSerializationError",
    "CallbackFailedError",
    "ModerationConfigError",
    "ModerationError",
    "PluginConfigError",
    "PluginError",
    "PluginImportError",
    "PluginInitError",
    "RegistrationError",
    "TermFileError",
]


class ModerationError(Exception):
    """Base class of every error the moderation package raises on purpose."""


# --- configuration and start-up ------------------------------------------------------------


class ModerationConfigError(ModerationError, ValueError):
    """A moderation setting has an invalid value (e.g. a negative rate)."""


class RegistrationError(ModerationError, TypeError):
    """``register_callbacks`` got something that is not a callable."""


class TermFileError(ModerationError):
    """A term list could not be read or has a malformed line."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source = source
        """The file path (or ``<lines>``) the term list came from."""
        self.line = line
        """1-based line number of the bad line, or None when the whole file failed."""


class PluginError(ModerationError):
    """A moderation plug-in could not be loaded; ``path`` is the dotted path as configured."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"cannot load moderation plug-in {path!r}: {message}")
        self.path = path
        """The dotted path (``module:Class`` or ``module.Class``) from the settings."""


class PluginImportError(PluginError):
    """The dotted path is malformed, its module cannot be imported, or the name is missing."""


class PluginConfigError(PluginError):
    """The plug-in's ``parse_config`` rejected its configuration."""


class PluginInitError(PluginError):
    """The plug-in's constructor raised."""


# --- running callbacks ---------------------------------------------------------------------


class CallbackFailedError(ModerationError):
    """A registered callback raised, timed out or returned something that is not a verdict.

    The runner never lets this escape: it logs it (with the original exception as
    ``__cause__``) and applies the hook's failure policy.
    """

    def __init__(self, hook: str, callback: str, problem: str) -> None:
        super().__init__(f"moderation callback {callback} ({hook}) failed: {problem}")
        self.hook = hook
        """Hook name, e.g. ``check_chat``."""
        self.callback = callback
        """The callback's ``__qualname__``."""


# --- audit log -----------------------------------------------------------------------------


class AuditError(ModerationError):
    """Base class of audit-log errors."""


class AuditSerializationError(AuditError, ValueError):
    """An audit entry's fields cannot be serialised canonically (non-JSON value, NaN...)."""
