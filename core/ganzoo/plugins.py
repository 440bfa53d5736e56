"""Plugin discovery and the registry of models, datasets, losses and zoo entries.

Plugins come from the ``ganzoo`` entry-point group, built-in ones exactly like
third-party ones. Each entry point is loaded on its own (pluggy's
``load_setuptools_entrypoints`` stops at the first one that fails to import), and each
plugin's registration hooks are called on their own, so one broken plugin is reported
and skipped while every other keeps working.
"""

from __future__ import annotations

import importlib.metadata
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

import ganzoo.hookspecs as hookspecs
from ganzoo._version import __version__
from ganzoo.config import ZooSource, apply_overrides, build_entry, read_zoo_file
from ganzoo.errors import ConfigError, GanzooError, PluginError, unknown_name
from ganzoo.specs import CommandSpec, DatasetSpec, FeatureExtractorSpec, LoggerSpec, LossSpec, ModelSpec, ZooEntry, short

ENTRY_POINT_GROUP = "ganzoo"
API_VERSION = 1  # the plugin API (ganzoo.plugin + the hookspecs); a plugin declares the one it was written for as GANZOO_API
DISABLE_ENV = "GANZOO_DISABLE_PLUGINS"  # comma-separated plugin names not to load


PLURAL = {"model": "models", "dataset": "datasets", "loss": "losses", "command": "commands", "feature extractor": "feature extractors",
          "logger": "loggers"}


class PluginWarning(UserWarning):
    """A plugin failed to load or to register; it was skipped."""


@dataclass
class PluginInfo:
    """What ``ganzoo plugins`` shows about one plugin."""

    name: str
    distribution: str = ""
    version: str = ""
    location: str = ""
    registers: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    api: int | None = None  # the hook API version the plugin declares (GANZOO_API), if any
    disabled: bool = False


def disabled_plugins(extra: Iterable[str] = ()) -> set[str]:
    """Plugin names not to load: ``extra`` (``--disable-plugin``) and ``$GANZOO_DISABLE_PLUGINS``."""
    from_env = [n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()]
    return {*extra, *from_env}


def get_plugin_manager(
    extra_plugins: Sequence[tuple[str, Any]] = (), *, entry_points: bool = True, disabled: Iterable[str] = ()
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """A plugin manager with every installed plugin loaded, and what was found about each.

    ``extra_plugins`` are ``(name, module_or_object)`` pairs registered after the entry
    points (tests use this for in-process plugins). Plugins named in ``disabled`` or in
    ``$GANZOO_DISABLE_PLUGINS`` are listed but not imported.
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    skip = disabled_plugins(disabled)
    if entry_points:
        for ep in _entry_points():
            dist = ep.dist
            info = PluginInfo(ep.name, dist.name if dist else "", dist.version if dist else "", ep.value)
            infos[ep.name] = info
            if ep.name in skip:
                info.disabled = True
                continue
            try:
                plugin = ep.load()
            except (Exception, SystemExit) as e:  # a broken plugin must not take the others down, even by sys.exit
                if isinstance(e, SystemExit):
                    e = RuntimeError(f"called sys.exit({short(e.code)}) while being imported")
                _report(info, f"failed to import {ep.value}: {type(e).__name__}: {short(e, 200)}")
                continue
            info.api = getattr(plugin, "GANZOO_API", None)
            if info.api is not None and info.api != API_VERSION:
                _report(info, f"written for ganzoo plugin API {info.api}, but this ganzoo {__version__} provides API "
                              f"{API_VERSION}: install a version of '{info.distribution or ep.name}' made for it")
                continue
            _register(pm, info, plugin)
    for name, plugin in extra_plugins:
        info = PluginInfo(name, location=getattr(plugin, "__name__", type(plugin).__name__))
        infos[name] = info
        _register(pm, info, plugin)
    return pm, infos


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(ep.name, ep)  # the same distribution can be visible twice on sys.path
    return sorted(seen.values(), key=lambda ep: ep.name)


def _register(pm: pluggy.PluginManager, info: PluginInfo, plugin: Any) -> None:
    try:
        pm.register(plugin, name=info.name)
    except (pluggy.PluginValidationError, ValueError) as e:
        _report(info, f"invalid plugin: {short(e, 200)}")
        return
    hooks = [h.name for h in pm.get_hookcallers(plugin) or [] if not h.name.startswith("ganzoo_register") and h.name != "ganzoo_commands"]
    if hooks:
        info.registers["hooks"] = sorted(hooks)
    module = getattr(plugin, "__file__", None)
    if module:
        info.location = str(Path(module).parent if Path(module).name == "__init__.py" else module)


def _report(info: PluginInfo, message: str) -> None:
    info.errors.append(message)
    warnings.warn(f"ganzoo plugin '{info.name}' skipped: {message}", PluginWarning, stacklevel=3)


@dataclass
class EntryStatus:
    """A zoo entry with the plugin that provides its model, or why it cannot run."""

    entry: ZooEntry | None
    name: str
    source: str
    raw: dict[str, Any]
    plugin: str = ""
    error: str = ""


class Registry:
    """Everything the installed plugins register, validated and keyed by name."""

    def __init__(self, pm: pluggy.PluginManager, plugins: dict[str, PluginInfo], reserved_commands: Iterable[str] = ()) -> None:
        self.pm = pm
        self.reserved_commands = set(reserved_commands)  # the command line's own commands
        self.plugins = plugins
        self.models: dict[str, ModelSpec] = {}
        self.datasets: dict[str, DatasetSpec] = {}
        self.losses: dict[str, LossSpec] = {}
        self.commands: dict[str, CommandSpec] = {}
        self.features: dict[str, FeatureExtractorSpec] = {}
        self.loggers: dict[str, LoggerSpec] = {}
        self._owner: dict[tuple[str, str], str] = {}
        self.entries: dict[str, EntryStatus] = {}

    # ------------------------------------------------------------ specs

    KINDS = (("model", "ganzoo_register_models", ModelSpec, "models"), ("dataset", "ganzoo_register_datasets", DatasetSpec, "datasets"),
             ("loss", "ganzoo_register_losses", LossSpec, "losses"), ("command", "ganzoo_commands", CommandSpec, "commands"),
             ("feature extractor", "ganzoo_register_feature_extractors", FeatureExtractorSpec, "features"),
             ("logger", "ganzoo_register_loggers", LoggerSpec, "loggers"))

    def collect(self) -> None:
        """Every plugin's specs, plugin by plugin: ganzoo's own first, then the others in
        load order. A plugin whose hook fails loses that hook's specs; a plugin that
        registers a name an earlier plugin took is skipped whole (its hooks unregistered),
        with both plugins named."""
        offered: dict[str, list[tuple[str, Any]]] = {}
        for kind, hook, spec_type, _ in self.KINDS:
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                try:
                    specs = list(impl.function() or [])
                    for spec in specs:
                        if not isinstance(spec, spec_type):
                            raise PluginError(f"{hook} returned {type(spec).__name__}, expected {spec_type.__name__}")
                        if not spec.name or not isinstance(spec.name, str):
                            raise PluginError(f"{hook} returned a {kind} without a name")
                except (Exception, SystemExit) as e:
                    _report(self.plugins[impl.plugin_name], f"{hook} raised {type(e).__name__}: {short(e, 200)}")
                    continue
                offered.setdefault(impl.plugin_name, []).extend((kind, spec) for spec in specs)
        builtin_first = sorted(self.plugins, key=lambda name: self.plugins[name].distribution != "ganzoo")  # stable sort
        for plugin in [name for name in builtin_first if name in offered]:
            specs = offered[plugin]
            names = [(kind, spec.name) for kind, spec in specs]
            clash = next((n for n in names if n in self._owner or (n[0] == "command" and n[1] in self.reserved_commands)), None)
            twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
            if clash is not None:
                first = f"plugin '{self._owner[clash]}'" if clash in self._owner else "ganzoo itself"
                self.skip_plugin(plugin, f"{clash[0]} '{clash[1]}' is registered by {first} already "
                                         "(uninstall one of the two, or --disable-plugin one)")
                continue
            if twice is not None:
                self.skip_plugin(plugin, f"it registers {twice[0]} '{twice[1]}' twice")
                continue
            for kind, spec in specs:
                self._owner[(kind, spec.name)] = plugin
                self._table(kind)[spec.name] = spec
                self.plugins[plugin].registers.setdefault(PLURAL[kind], []).append(spec.name)

    def _table(self, kind: str) -> dict[str, Any]:
        return getattr(self, next(attr for k, _, _, attr in self.KINDS if k == kind))

    def skip_plugin(self, plugin: str, why: str) -> None:
        """Report ``plugin`` as skipped (``ganzoo plugins`` shows why) and unregister its hooks."""
        _report(self.plugins[plugin], why)
        registered = self.pm.get_plugin(plugin)
        if registered is not None:
            self.pm.unregister(registered)

    def owner(self, kind: str, name: str) -> str:
        return self._owner.get((kind, name), "")

    # ------------------------------------------------------------ zoo entries

    def add_zoo_sources(self, sources: Iterable[ZooSource]) -> None:
        """Validate and add every entry of ``sources``; a name defined twice is an error."""
        for source in sources:
            for name, raw in source.entries.items():
                if name in self.entries:
                    raise ConfigError(f"zoo entry '{name}' is defined twice: in {self.entries[name].source} and in {source.origin}")
                status = EntryStatus(None, name, source.origin, raw)
                try:
                    status.entry = build_entry(name, raw, source.origin, self)
                    status.plugin = self.owner("model", status.entry.model)
                except GanzooError as e:
                    status.error = str(e)
                self.entries[name] = status
                owner = source.plugin or status.plugin
                if owner in self.plugins:
                    self.plugins[owner].registers.setdefault("entries", []).append(name)

    def add_zoo_files(self, paths: Iterable[str | Path]) -> None:
        """Add the entries of users' zoo files (``--zoo``)."""
        self.add_zoo_sources([read_zoo_file(Path(p)) for p in paths])

    def plugin_zoo_sources(self) -> list[ZooSource]:
        sources = []
        for impl in self.pm.hook.ganzoo_zoo_files.get_hookimpls():
            try:
                paths = [Path(p) for p in impl.function() or []]
                sources.extend(read_zoo_file(p, plugin=impl.plugin_name) for p in paths)
            except Exception as e:
                _report(self.plugins[impl.plugin_name], f"ganzoo_zoo_files failed: {type(e).__name__}: {e}")
        return sources

    def entry(self, name: str, overrides: Sequence[str] = ()) -> ZooEntry:
        """The validated entry ``name`` with ``--set`` style overrides applied.

        Raises a one-line :class:`ConfigError` saying what is wrong, or which name is close.
        """
        status = self.entries.get(name)
        if status is None:
            raise ConfigError(unknown_name("zoo entry", name, self.entries))
        if not overrides:
            if status.entry is None:
                raise ConfigError(status.error)
            return status.entry
        return build_entry(name, apply_overrides(status.raw, list(overrides)), status.source, self)

    def spec(self, kind: str, name: str) -> Any:
        table = {"model": self.models, "dataset": self.datasets, "loss": self.losses, "feature extractor": self.features,
                 "logger": self.loggers}[kind]
        if name not in table:
            raise ConfigError(unknown_name(kind, name, table))
        return table[name]


def load_registry(
    zoo_files: Sequence[str | Path] = (),
    *,
    extra_plugins: Sequence[tuple[str, Any]] = (),
    entry_points: bool = True,
    disabled: Iterable[str] = (),
    reserved_commands: Iterable[str] = (),
) -> Registry:
    """Load every plugin, collect their specs, and validate the zoo.

    The zoo is the files plugins contribute (``ganzoo_zoo_files``), then ``zoo_files``
    (``--zoo``) in order. A plugin command named like one of ``reserved_commands`` (the
    command line's own) is a clash: that plugin is skipped.
    """
    pm, infos = get_plugin_manager(extra_plugins, entry_points=entry_points, disabled=disabled)
    registry = Registry(pm, infos, reserved_commands)
    registry.collect()
    registry.add_zoo_sources(registry.plugin_zoo_sources())
    registry.add_zoo_files(zoo_files)
    return registry
