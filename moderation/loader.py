"""Load moderation plug-ins by dotted path (Synapse-style modules).

A plug-in is a class whose constructor takes ``(config, api)`` and registers its callbacks on
``api`` (a :class:`~moderation.callbacks.ModerationCallbacks`); see
``moderation/plugins/example.py``. If the class has a static/class method
``parse_config(raw)``, its return value is passed as ``config`` instead of the raw mapping, and
an exception from it becomes :class:`~moderation.errors.PluginConfigError`.

Paths are ``package.module:Class`` (preferred; ``Class`` may be ``Outer.Inner``) or
``package.module.Class``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from moderation.callbacks import ModerationCallbacks
from moderation.errors import PluginConfigError, PluginImportError, PluginInitError

__all__ = ["load_plugins", "resolve"]


def resolve(path: str) -> Any:
    """Import ``path`` and return the object it names; :class:`PluginImportError` if it can't."""
    path = path.strip()
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
    else:
        module_name, _, attr_path = path.rpartition(".")
    if not module_name or not attr_path or ":" in attr_path:
        raise PluginImportError(
            "expected 'package.module:Class' or 'package.module.Class'", path=path
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise PluginImportError(f"no module named {module_name!r}", path=path) from exc
        raise PluginImportError(
            f"importing {module_name!r} failed: {exc}", path=path
        ) from exc  # the module exists but one of its own imports is missing
    except Exception as exc:
        raise PluginImportError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}", path=path
        ) from exc
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise PluginImportError(
                f"module {module_name!r} has no attribute {attr_path!r}", path=path
            ) from exc
    return obj


def load_plugins(
    dotted_paths: Sequence[str],
    callbacks: ModerationCallbacks,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[object]:
    """Instantiate each plug-in in order as ``cls(plugin_config, callbacks)``.

    ``config`` maps a dotted path (exactly as listed) to that plug-in's own configuration;
    a plug-in without an entry gets ``{}``. Returns the instances (keep them alive: bound
    methods registered as callbacks hold them anyway). The first failure raises a
    :class:`~moderation.errors.PluginError` subclass naming the path; plug-ins loaded before it
    stay registered, so treat the error as fatal at start-up.
    """
    instances: list[object] = []
    for path in dotted_paths:
        cls = resolve(path)
        if not callable(cls):
            raise PluginImportError(f"{cls!r} is not a class or callable", path=path)
        raw: Mapping[str, Any] = (config or {}).get(path, {})
        plugin_config: Any = raw
        parse = getattr(cls, "parse_config", None)
        if callable(parse):
            try:
                plugin_config = parse(raw)
            except Exception as exc:
                raise PluginConfigError(f"{type(exc).__name__}: {exc}", path=path) from exc
        try:
            instances.append(cls(plugin_config, callbacks))
        except Exception as exc:
            raise PluginInitError(f"{type(exc).__name__}: {exc}", path=path) from exc
    return instances
