"""Plugin discovery, registration, broken plugins and name clashes."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import re
import warnings
from pathlib import Path

import pytest

import ganzoo
from ganzoo import ModelSpec, PluginError, hookimpl, hookspecs
from ganzoo.plugins import PluginWarning, get_plugin_manager, load_registry

from conftest import TinyConfig, TinyGAN, make_tiny_plugin

ROOT = Path(__file__).resolve().parents[1]


def test_builtins_come_through_entry_points():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="ganzoo")}
    assert {"losses", "callbacks", "datasets", "dcgan", "pix2pix"} <= set(eps)
    registry = load_registry()
    assert {"dcgan", "cdcgan"} <= set(registry.models)
    assert {"mnist-5k", "mnist", "fashion-mnist"} <= set(registry.datasets)
    assert {"bce", "lsgan", "hinge"} <= set(registry.losses)
    assert registry.owner("model", "dcgan") == "dcgan"
    assert registry.plugins["dcgan"].distribution == "ganzoo"
    assert "dcgan-mnist-5k" in registry.plugins["dcgan"].registers["entries"]
    assert registry.owner("model", "pix2pix") == "pix2pix" and "translate" not in registry.commands  # translate is the core's
    assert "pix2pix-digit-edges" in registry.plugins["pix2pix"].registers["entries"]  # from the plugin's own zoo file


def test_no_ambiguous_top_level_modules():
    # the repository's core/ and plugins/ folders hold packages; they are not packages themselves
    # (the working directory is left out: `python -m pytest` run in a checkout puts it on sys.path)
    import importlib.machinery
    import os
    import sys

    installed = [p for p in sys.path if p and Path(p).resolve() != Path(os.getcwd()).resolve()]
    assert importlib.machinery.PathFinder.find_spec("core", installed) is None
    assert importlib.machinery.PathFinder.find_spec("plugins", installed) is None
    assert importlib.util.find_spec("ganzoo_dcgan") is not None


def _fake_entry_point(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group="ganzoo")


def test_broken_plugin_is_reported_and_skipped(monkeypatch):
    real = importlib.metadata.entry_points(group="ganzoo")
    broken = _fake_entry_point("broken", "ganzoo_no_such_module_xyz")
    monkeypatch.setattr("ganzoo.plugins._entry_points", lambda: sorted([*real, broken], key=lambda ep: ep.name))
    with pytest.warns(PluginWarning, match="broken"):
        registry = load_registry()
    assert "failed to import" in registry.plugins["broken"].errors[0]
    assert "ModuleNotFoundError" in registry.plugins["broken"].errors[0]
    assert "dcgan" in registry.models  # every other plugin keeps working
    assert registry.entry("dcgan-mnist-5k").model == "dcgan"


def test_plugin_raising_in_a_hook_is_reported_and_skipped():
    class Raising:
        @hookimpl
        def ganzoo_register_models(self):
            raise RuntimeError("boom")

    with pytest.warns(PluginWarning, match="boom"):
        registry = load_registry(extra_plugins=[("raising", Raising()), ("tiny", make_tiny_plugin())])
    assert "ganzoo_register_models raised RuntimeError: boom" in registry.plugins["raising"].errors[0]
    assert "tiny" in registry.models and "dcgan" in registry.models


def test_plugin_returning_wrong_type_is_reported():
    class Wrong:
        @hookimpl
        def ganzoo_register_models(self):
            return [{"name": "dict-model"}]

    with pytest.warns(PluginWarning, match="expected ModelSpec"):
        registry = load_registry(extra_plugins=[("wrong", Wrong())])
    assert "dict-model" not in registry.models


def test_plugin_with_invalid_hookimpl_is_reported():
    class Invalid:
        @hookimpl
        def ganzoo_step_end(self, run, not_an_argument):
            pass

    with pytest.warns(PluginWarning, match="not_an_argument"):
        registry = load_registry(extra_plugins=[("invalid", Invalid())])
    assert registry.plugins["invalid"].errors
    assert "dcgan" in registry.models


def test_name_clash_names_both_plugins():
    class Clash:
        @hookimpl
        def ganzoo_register_models(self):
            return [ModelSpec("dcgan", TinyGAN, TinyConfig)]

    with pytest.warns(PluginWarning, match=r"plugin 'clash' skipped: model 'dcgan' is registered by plugin 'dcgan' already"):
        registry = load_registry(extra_plugins=[("clash", Clash())])
    assert registry.owner("model", "dcgan") == "dcgan" and registry.models["dcgan"].build is not TinyGAN  # the first stays
    assert registry.plugins["clash"].errors and registry.pm.get_plugin("clash") is None  # the later one is skipped whole
    assert registry.entry("dcgan-mnist-5k").model == "dcgan"


def test_plugin_manager_is_built_per_call():
    pm1, _ = get_plugin_manager()
    pm2, _ = get_plugin_manager()
    assert pm1 is not pm2
    assert pm1.get_plugin("dcgan") is not None


def test_every_hookspec_is_documented():
    text = (ROOT / "docs" / "plugins.md").read_text()
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("ganzoo_")]
    assert len(specs) >= 10
    missing = [name for name in specs if not re.search(rf"`{name}\b", text)]
    assert not missing, f"hookspecs missing from docs/plugins.md: {missing}"


def test_hookimpl_is_exported_from_package_root():
    assert ganzoo.hookimpl is hookspecs.hookimpl
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_registry()  # the installed plugins load without a warning


def _command(name: str) -> ganzoo.CommandSpec:
    return ganzoo.CommandSpec(name, "test command", lambda parser: parser.add_argument("--x", type=int), lambda args: args.x)


def test_plugin_commands_join_the_command_line():
    from ganzoo.cli import build_parser

    args = build_parser({"hello": _command("hello")}).parse_args(["hello", "--x", "7"])
    assert args.plugin_command.run(args) == 7 and args.zoo == []


def test_plugin_command_clashing_with_a_builtin_is_refused():
    from ganzoo.cli import build_parser

    with pytest.raises(PluginError, match="plugin command 'list' clashes with ganzoo's own"):
        build_parser({"list": _command("list")})


def test_same_command_from_two_plugins_names_both():
    class One:
        @hookimpl
        def ganzoo_commands(self):
            return [_command("dup")]

    class Two(One):
        pass

    with pytest.warns(PluginWarning, match="plugin 'two' skipped: command 'dup' is registered by plugin 'one' already"):
        registry = load_registry(extra_plugins=[("one", One()), ("two", Two())])
    assert registry.owner("command", "dup") == "one"


def test_a_plugin_command_named_like_a_builtin_skips_that_plugin_not_the_cli():
    class Clash:
        @hookimpl
        def ganzoo_commands(self):
            return [_command("list")]

        @hookimpl
        def ganzoo_register_models(self):
            return [ModelSpec("clash-model", TinyGAN, TinyConfig)]

    with pytest.warns(PluginWarning, match="plugin 'clash' skipped: command 'list' is registered by ganzoo itself"):
        registry = load_registry(extra_plugins=[("clash", Clash())], reserved_commands=["list"])
    assert "list" not in registry.commands and "clash-model" not in registry.models
