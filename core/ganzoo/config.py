"""zoo.yaml, ``--zoo`` files and ``--set`` overrides -> one validated :class:`ZooEntry`.

A zoo file is ``entries:`` mapping names to flat entries::

    entries:
      dcgan-mnist-5k:
        description: DCGAN on the bundled 5,000 MNIST digits
        model: dcgan
        dataset: mnist-5k
        loss: bce
        model_options: {latent_dim: 64}
        dataset_options: {}
        loss_options: {}
        train: {batch_size: 64, steps: 3000}

Every option block is checked against the dataclass its spec declares: an unknown key
or a wrong type is an error that names the key and the file. YAML is read by a bounded
``yaml.SafeLoader``: no Python tags, no key defined twice, no alias bombs.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ganzoo.errors import ConfigError, unknown_name
from ganzoo.specs import TrainConfig, ZooEntry, short

if TYPE_CHECKING:
    from ganzoo.plugins import Registry

ENTRY_KEYS = ("description", "model", "dataset", "loss", "model_options", "dataset_options", "loss_options", "train", "reference",
              "pretrained")
REQUIRED_KEYS = ("model", "dataset", "loss", "train")
OPTION_BLOCKS = ("model_options", "dataset_options", "loss_options", "train")


@dataclass(frozen=True)
class ZooSource:
    """The raw entries of one zoo file, and where they came from."""

    origin: str
    entries: dict[str, dict[str, Any]]
    plugin: str = ""


MAX_ZOO_BYTES = 1 << 20  # a zoo file is a few kilobytes; anything this big is a mistake or an attack
MAX_YAML_NODES = 100_000  # nodes after alias expansion (a "billion laughs" file expands to 10^9)
ENTRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a run directory is named after it: no separators, no '..'


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no Python tags) that also refuses a key defined twice in one
    mapping and documents that expand (through aliases) to more than ``MAX_YAML_NODES`` nodes."""

    def compose_document(self):  # type: ignore[no-untyped-def]
        node = super().compose_document()
        count, stack = 0, [node]
        while stack:
            current = stack.pop()
            count += 1
            if count > MAX_YAML_NODES:
                raise ConfigError(f"the YAML expands to more than {MAX_YAML_NODES:,} values (aliases repeated within aliases?)")
            if isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, yaml.MappingNode):
                stack.extend(v for pair in current.value for v in pair)
        return node

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise ConfigError(f"line {key_node.start_mark.line + 1}: '{short(key)}' is defined twice in one mapping "
                                      f"(first on line {seen[key] + 1})")
                seen[key] = key_node.start_mark.line
            except TypeError:  # an unhashable key: SafeLoader's own error says so below
                pass
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """``text`` parsed as YAML, safely and within bounds (see :class:`_BoundedLoader`)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass


def read_zoo_file(path: Path, plugin: str = "") -> ZooSource:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_ZOO_BYTES:
            raise ConfigError(f"{path}: a zoo file may hold at most {MAX_ZOO_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read zoo file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not UTF-8 text (byte {e.start}): save it as UTF-8") from None
    try:
        data = load_yaml(text)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({short(getattr(e, 'problem', None) or e, 120)})") from None
    data = {} if data is None else data
    if not isinstance(data, dict) or set(data) - {"entries"}:
        raise ConfigError(f"{path}: a zoo file is a mapping with one key, 'entries'")
    entries = data.get("entries") or {}
    if not isinstance(entries, dict):
        raise ConfigError(f"{path}: 'entries' must map entry names to entries")
    for name, raw in entries.items():
        check_entry_name(name, str(path))
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: entry '{name}' must be a mapping of {', '.join(ENTRY_KEYS)}")
    label = f"{path} (plugin {plugin})" if plugin else str(path)
    return ZooSource(label, {str(k): v for k, v in entries.items()}, plugin)


def check_entry_name(name: Any, where: str) -> None:
    """Entry names become run directories: letters, digits, '.', '_', '-', at most 100."""
    if not isinstance(name, str) or not ENTRY_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(f"{where}: entry name '{short(name)}' is not allowed: use up to 100 letters, digits, '.', '_' "
                          "and '-', starting with a letter or digit (no path separators)")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.steps=3"`` -> (["train", "steps"], 3); the value is read as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects KEY=VALUE (e.g. train.steps=100), got '{text}'")
    try:
        parsed = load_yaml(value) if value.strip() else ""
    except (yaml.YAMLError, ConfigError):
        parsed = value
    return key.strip().split("."), parsed


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of ``raw`` with each ``KEY=VALUE`` override set (validated later, like the file)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for text in overrides:
        path, value = parse_override(text)
        if path[0] not in ENTRY_KEYS:
            raise ConfigError(f"--set {text}: " + unknown_name("entry key", path[0], ENTRY_KEYS))
        if len(path) == 1:
            out[path[0]] = value
        elif len(path) == 2 and path[0] in OPTION_BLOCKS:
            block = out.setdefault(path[0], {})
            if not isinstance(block, dict):
                raise ConfigError(f"--set {text}: '{path[0]}' is not a mapping")
            block[path[1]] = value
        else:
            raise ConfigError(f"--set {text}: keys are KEY or BLOCK.KEY with BLOCK one of {', '.join(OPTION_BLOCKS)}")
    return out


def build_entry(name: str, raw: dict[str, Any], origin: str, registry: Registry) -> ZooEntry:
    """Validate one raw entry against the registry: names exist, options fit their specs."""
    check_entry_name(name, origin)
    where = f"{origin}: entry '{name}'"
    unknown = [k for k in raw if k not in ENTRY_KEYS]
    if unknown:
        raise ConfigError(f"{where}: " + unknown_name("key", unknown[0], ENTRY_KEYS))
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise ConfigError(f"{where}: missing required key '{missing[0]}'")
    for key in ("model", "dataset", "loss"):
        if not isinstance(raw[key], str):
            raise ConfigError(f"{where}: '{key}' must be a name (a string)")
    model = _spec(registry, "model", raw["model"], where)
    dataset = _spec(registry, "dataset", raw["dataset"], where)
    loss = _spec(registry, "loss", raw["loss"], where)
    options = {}
    for block, cls in (("model_options", model.config), ("dataset_options", dataset.config), ("loss_options", loss.config)):
        options[block] = dataclasses.asdict(build_config(cls, raw.get(block) or {}, f"{where} {block}"))
    train = build_config(TrainConfig, raw["train"], f"{where} train")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: 'description' must be a string")
    reference = raw.get("reference") or {}
    if not isinstance(reference, dict) or not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in reference.values()):
        raise ConfigError(f"{where}: 'reference' must map figure names to numbers (and 'measured' to a note)")
    pretrained = raw.get("pretrained") or {}
    if pretrained and (not isinstance(pretrained, dict) or set(pretrained) != {"weights", "sha256"}
                       or not str(pretrained["weights"]).startswith("hf://") or not re.fullmatch(r"[0-9a-f]{64}", str(pretrained["sha256"]))):
        raise ConfigError(f"{where}: 'pretrained' must be {{weights: hf://owner/name@revision, sha256: <64 hex digits of "
                          "model.safetensors>}")
    return ZooEntry(name, raw["model"], raw["dataset"], raw["loss"], description, train=train, source=origin,
                    reference=dict(reference), pretrained=dict(pretrained), **options)


def _spec(registry: Registry, kind: str, name: str, where: str) -> Any:
    try:
        return registry.spec(kind, name)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def build_config(cls: type, data: Any, where: str) -> Any:
    """An instance of the dataclass ``cls`` from a mapping, checking keys and types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of options, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{where}: " + unknown_name("option", str(key), fields))
        values[key] = _coerce(value, hints[key], f"{where}: '{key}'")
    try:
        return cls(**values)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{where}: {e}") from None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                pass
        raise ConfigError(f"{where} must be {_type_name(tp)}, got {short(value)}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {short(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], where) for v in value)
        if len(value) != len(args):
            raise ConfigError(f"{where} must have {len(args)} items, got {len(value)}")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args))
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {short(value)}")
        return [_coerce(v, args[0], where) for v in value] if args else list(value)
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, got {short(value)}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 2e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where} must be {_type_name(tp)}, got {short(value)}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
