"""zoo.yaml parsing, --set overrides and their one-line errors."""

from __future__ import annotations

import pytest

import ganzoo
from ganzoo import ConfigError
from ganzoo.config import apply_overrides, parse_override

from conftest import TINY_ENTRY, make_tiny_plugin


def registry_with(write_zoo, entries):
    return ganzoo.load_registry([write_zoo(entries)], extra_plugins=[("tiny", make_tiny_plugin())])


def entry_error(write_zoo, raw):
    registry = registry_with(write_zoo, {"e": raw})
    with pytest.raises(ConfigError) as info:
        registry.entry("e")
    return str(info.value)


def test_valid_entry_resolves_with_defaults(tiny_registry):
    entry = tiny_registry.entry("tiny")
    assert entry.model == "tiny" and entry.train.batch_size == 8
    assert entry.model_options == {"latent_dim": 8, "width": 16}
    assert entry.loss_options == {"label_smoothing": 0.0, "r1_gamma": 0.0, "r1_every": 1}


def test_unknown_key_names_key_and_file(write_zoo):
    message = entry_error(write_zoo, {**TINY_ENTRY, "modle_options": {}})
    assert "zoo.yaml" in message and "'modle_options'" in message and "did you mean 'model_options'" in message


def test_unknown_option_names_key(write_zoo):
    message = entry_error(write_zoo, {**TINY_ENTRY, "model_options": {"latent_dims": 4}})
    assert "model_options" in message and "'latent_dims'" in message and "latent_dim" in message


def test_wrong_type_names_key(write_zoo):
    message = entry_error(write_zoo, {**TINY_ENTRY, "train": {**TINY_ENTRY["train"], "batch_size": "big"}})
    assert "'batch_size' must be int" in message and "zoo.yaml" in message


def test_unknown_model_suggests_closest(write_zoo):
    message = entry_error(write_zoo, {**TINY_ENTRY, "model": "dcgna"})
    assert "unknown model 'dcgna'" in message and "did you mean 'dcgan'" in message and "installed:" in message


def test_unknown_entry_suggests_closest(tiny_registry):
    with pytest.raises(ConfigError, match="did you mean 'dcgan-mnist-5k'"):
        tiny_registry.entry("dcgan-mnist5k")


def test_missing_required_key(write_zoo):
    raw = {k: v for k, v in TINY_ENTRY.items() if k != "loss"}
    assert "missing required key 'loss'" in entry_error(write_zoo, raw)


def test_invalid_train_value(write_zoo):
    message = entry_error(write_zoo, {**TINY_ENTRY, "train": {"batch_size": 8}})
    assert "set train.steps, train.epochs or train.phase_steps" in message


def test_yaml_float_without_dot_is_accepted(write_zoo):
    registry = registry_with(write_zoo, {"e": {**TINY_ENTRY, "train": {**TINY_ENTRY["train"], "lr_g": "2e-4"}}})
    assert registry.entry("e").train.lr_g == pytest.approx(2e-4)


def test_betas_must_be_a_pair(write_zoo):
    message = entry_error(write_zoo, {**TINY_ENTRY, "train": {**TINY_ENTRY["train"], "betas": [0.5]}})
    assert "'betas' must have 2 items" in message


def test_duplicate_entry_names_both_files(write_zoo):
    first = write_zoo({"dup": TINY_ENTRY}, "a.yaml")
    second = write_zoo({"dup": TINY_ENTRY}, "b.yaml")
    with pytest.raises(ConfigError, match=r"'dup' is defined twice: in .*a\.yaml and in .*b\.yaml"):
        ganzoo.load_registry([first, second], extra_plugins=[("tiny", make_tiny_plugin())])


def test_invalid_yaml_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  x: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml line \d+: invalid YAML"):
        ganzoo.load_registry([bad])


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("entries: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        ganzoo.load_registry([evil])


def test_missing_zoo_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read zoo file"):
        ganzoo.load_registry([tmp_path / "nope.yaml"])


def test_overrides_apply_and_validate(tiny_registry):
    entry = tiny_registry.entry("tiny", ["train.steps=3", "model_options.width=4", "loss=hinge"])
    assert entry.train.steps == 3 and entry.model_options["width"] == 4 and entry.loss == "hinge"
    assert tiny_registry.entry("tiny").train.steps == 6  # the registered entry is untouched
    with pytest.raises(ConfigError, match="'width' must be int"):
        tiny_registry.entry("tiny", ["model_options.width=wide"])
    with pytest.raises(ConfigError, match="did you mean 'train'"):
        tiny_registry.entry("tiny", ["trian.steps=3"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        tiny_registry.entry("tiny", ["train.steps"])


def test_parse_override_reads_yaml_values():
    assert parse_override("train.betas=[0.0, 0.9]") == (["train", "betas"], [0.0, 0.9])
    assert parse_override("description=hello world") == (["description"], "hello world")
    assert apply_overrides({"train": {"steps": 1}}, ["train.steps=2"]) == {"train": {"steps": 2}}


def test_builtin_zoo_is_valid():
    registry = ganzoo.load_registry()
    broken = {name: s.error for name, s in registry.entries.items() if s.error}
    assert not broken
    assert {"dcgan-mnist-5k", "cdcgan-mnist-5k", "dcgan-mnist", "cdcgan-mnist", "dcgan-fashion-mnist"} <= set(registry.entries)
