"""Loading plug-ins by dotted path, with clear errors for bad paths."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderation import (
    ChatContext,
    ModerationCallbacks,
    PluginConfigError,
    PluginError,
    PluginImportError,
    PluginInitError,
    load_plugins,
)
from moderation.plugins.example import ExampleConfig, ExamplePlugin

EXAMPLE = "moderation.plugins.example:ExamplePlugin"


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for throw-away plug-in modules."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("mh_test_")]:
        del sys.modules[name]


@pytest.mark.parametrize("path", [EXAMPLE, "moderation.plugins.example.ExamplePlugin"])
def test_load_by_colon_or_dot_path(path: str) -> None:
    callbacks = ModerationCallbacks()
    (plugin,) = load_plugins([path], callbacks)
    assert isinstance(plugin, ExamplePlugin)
    assert callbacks.registered()["check_chat"] == ("ExamplePlugin.check_chat",)


def test_config_is_passed_per_path_through_parse_config() -> None:
    callbacks = ModerationCallbacks()
    (plugin,) = load_plugins([EXAMPLE], callbacks, {EXAMPLE: {"max_caps_len": 5}})
    assert isinstance(plugin, ExamplePlugin)
    assert plugin.config == ExampleConfig(max_caps_len=5)


def test_plugins_stack_in_listed_order(plugin_dir: Path) -> None:
    (plugin_dir / "mh_test_order.py").write_text(
        textwrap.dedent("""
        from moderation import ALLOW
        class First:
            def __init__(self, config, api):
                api.register_callbacks(check_chat=self.check_chat)
            async def check_chat(self, ctx):
                return ALLOW
        class Second(First):
            pass
    """)
    )
    callbacks = ModerationCallbacks()
    load_plugins(["mh_test_order:First", EXAMPLE, "mh_test_order:Second"], callbacks)
    assert callbacks.registered()["check_chat"] == (
        "First.check_chat",
        "ExamplePlugin.check_chat",
        "First.check_chat",
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "expected 'package.module:Class'"),
        ("ExamplePlugin", "expected 'package.module:Class'"),
        ("moderation.plugins.example:", "expected 'package.module:Class'"),
        ("no_such_pkg.plugin:Thing", "no module named 'no_such_pkg.plugin'"),
        ("moderation.plugins.nope:Thing", "no module named 'moderation.plugins.nope'"),
        ("moderation.plugins.example:Missing", "has no attribute 'Missing'"),
        ("moderation.plugins.example:_PHONE", "is not a class or callable"),
    ],
)
def test_bad_path_gives_clear_error(path: str, message: str) -> None:
    with pytest.raises(PluginImportError) as info:
        load_plugins([path], ModerationCallbacks())
    assert message in str(info.value)
    assert f"cannot load moderation plug-in {path!r}" in str(info.value)
    assert info.value.path == path


def test_plugin_with_missing_dependency_names_the_dependency(plugin_dir: Path) -> None:
    (plugin_dir / "mh_test_dep.py").write_text("import mh_not_installed_anywhere\n")
    with pytest.raises(PluginImportError, match="importing 'mh_test_dep' failed.*mh_not_installed"):
        load_plugins(["mh_test_dep:Plugin"], ModerationCallbacks())


def test_plugin_module_raising_on_import(plugin_dir: Path) -> None:
    (plugin_dir / "mh_test_boom.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(PluginImportError, match="RuntimeError: boom"):
        load_plugins(["mh_test_boom:Plugin"], ModerationCallbacks())


def test_bad_config_is_a_plugin_config_error() -> None:
    with pytest.raises(PluginConfigError, match="unknown option"):
        load_plugins([EXAMPLE], ModerationCallbacks(), {EXAMPLE: {"max_caps": 3}})


def test_constructor_failure_is_a_plugin_init_error(plugin_dir: Path) -> None:
    (plugin_dir / "mh_test_init.py").write_text(
        textwrap.dedent("""
        class Plugin:
            def __init__(self, config, api):
                raise KeyError("api_key")
    """)
    )
    with pytest.raises(PluginInitError, match="KeyError") as info:
        load_plugins(["mh_test_init:Plugin"], ModerationCallbacks())
    assert isinstance(info.value, PluginError)


async def test_loaded_plugin_runs_through_the_registry() -> None:
    callbacks = ModerationCallbacks()
    load_plugins([EXAMPLE], callbacks)
    ctx = ChatContext(
        "u1", "Ann", frozenset(), "hall:main", "room", "WHY IS NOBODY AT COUNTER FIVE"
    )
    verdict = await callbacks.check_chat(ctx)
    assert verdict.code == "blocked"  # type: ignore[union-attr]
