"""Trained models to share: export, model cards, loading by Hub reference, pinned weights, ONNX."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import ganzoo
from ganzoo.errors import CheckpointError, ConfigError
from ganzoo.evaluation.records import update_metrics
from ganzoo.weights import sha256

REGISTRY = ganzoo.load_registry()
SMALL = ["model_options.latent_dim=8", "model_options.g_channels=8", "model_options.d_channels=8", "dataset_options.limit=64",
         "train.batch_size=8", "train.steps=2", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4",
         "train.eval_batches=1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for name, extra in (("dcgan-mnist-5k", ["model_options.g_extra_layers=0"]), ("cdcgan-mnist-5k", []),
                        ("pix2pix-digit-edges", None)):
        overrides = SMALL + extra if extra is not None else [
            "model_options.g_channels=4", "model_options.d_channels=4", "dataset_options.limit=64", "train.batch_size=4",
            "train.steps=2", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4", "train.eval_batches=1"]
        made[name] = ganzoo.train(name, overrides=overrides, registry=REGISTRY, run_dir=root / name, device="cpu").run_dir
    return made


def hub_cache(root: Path, repo: str, folder: Path, revision: str = "0" * 40) -> Path:
    """``folder``'s files in huggingface_hub's cache layout (what a download leaves), as revision ``revision``."""
    owner, name = repo.split("/")
    base = root / f"models--{owner}--{name}"
    shutil.copytree(folder, base / "snapshots" / revision)
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(revision)
    return base


@pytest.fixture
def offline_hub(tmp_path, monkeypatch) -> Path:
    """huggingface_hub pointed at an empty cache of our own, with its offline mode on."""
    import huggingface_hub.constants as constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


# ---------------------------------------------------------------- the exported folder and its card


def test_export_holds_inference_weights_a_config_and_a_card_that_parses(runs, tmp_path):
    run = runs["dcgan-mnist-5k"]
    update_metrics(run, "samples-domain", {"step": 2, "split": "train", "fake_images": 100, "real_images": 100,
                                           "features": {"features": "domain"}, "scores": {"fid": 123.25, "precision": 0.5},
                                           "baseline": {"scores": {"fid": 9.5}}})
    folder = ganzoo.export(run, tmp_path / "out", registry=REGISTRY, license="apache-2.0")
    assert {p.name for p in folder.iterdir()} == {"model.safetensors", "config.json", "README.md", "samples.png"}
    config = json.loads((folder / "config.json").read_text())
    assert config["entry"]["name"] == "dcgan-mnist-5k" and config["networks"] == ["generator"]
    assert config["provenance"]["model"]["distribution"] == "ganzoo" and config["ganzoo_version"] == ganzoo.__version__
    assert config["weights_sha256"] == sha256(folder / "model.safetensors")
    card = (folder / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["library_name"] == "ganzoo" and meta["license"] == "apache-2.0" and meta["datasets"] == ["mnist-5k"]
    assert meta["pipeline_tag"] == "unconditional-image-generation" and "dcgan" in meta["tags"]
    assert "# dcgan-mnist-5k" in body and "fid 123.2" in body and "real-vs-real baseline fid 9.5" in body
    assert "CC BY-SA 3.0" in body and "LeCun" in body  # the data's licence and citation
    assert "![samples](samples.png)" in body
    with_d = ganzoo.export(run, tmp_path / "with-d", registry=REGISTRY, discriminator=True)
    assert json.loads((with_d / "config.json").read_text())["networks"] == ["generator", "discriminator"]
    with pytest.raises(ConfigError, match="not an empty folder"):
        ganzoo.export(run, folder, registry=REGISTRY)


def test_exports_refuse_what_does_not_fit_a_missing_plugin_and_pickles(runs, tmp_path):
    folder = ganzoo.export(runs["dcgan-mnist-5k"], tmp_path / "ok", registry=REGISTRY)
    wider = Path(shutil.copytree(folder, tmp_path / "wider"))
    config = json.loads((wider / "config.json").read_text())
    config["entry"]["model_options"]["g_channels"] = 16
    (wider / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"do not fit model 'dcgan' .*of another shape \(e\.g\. generator\.") as info:
        ganzoo.load_checkpoint(wider, registry=REGISTRY)
    assert "\n" not in str(info.value)
    foreign = Path(shutil.copytree(folder, tmp_path / "foreign"))
    config = json.loads((foreign / "config.json").read_text())
    config["entry"]["model"] = "stylegan9"
    config["provenance"]["model"] = {"name": "stylegan9", "plugin": "stylegan9", "distribution": "ganzoo-stylegan9", "version": "2.0"}
    (foreign / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="pip install ganzoo-stylegan9"):
        ganzoo.load_checkpoint(foreign, registry=REGISTRY)
    pickled = Path(shutil.copytree(folder, tmp_path / "pickled"))
    (pickled / "model.safetensors").unlink()
    torch.save({"generator.x": torch.zeros(1)}, pickled / "model.pt")
    with pytest.raises(CheckpointError, match="found model.pt: pickles are never loaded"):
        ganzoo.load_checkpoint(pickled, registry=REGISTRY)
    (pickled / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not readable JSON"):
        ganzoo.load_checkpoint(pickled, registry=REGISTRY)


# ---------------------------------------------------------------- the Hub: references, pinned weights, push


def test_a_hub_reference_loads_from_the_cache_offline_and_a_missing_one_is_one_line(runs, tmp_path, offline_hub, cli):
    folder = ganzoo.export(runs["cdcgan-mnist-5k"], tmp_path / "export", registry=REGISTRY)
    hub_cache(offline_hub, "someone/cdcgan-digits", folder, revision="a" * 40)
    loaded = ganzoo.load_checkpoint("hf://someone/cdcgan-digits", registry=REGISTRY)
    pinned = ganzoo.load_pretrained(f"hf://someone/cdcgan-digits@{'a' * 40}", registry=REGISTRY)
    direct = ganzoo.load_checkpoint(runs["cdcgan-mnist-5k"], registry=REGISTRY)
    for other in (loaded, pinned):
        assert torch.equal(ganzoo.sample(other, n=6, label=3, seed=1), ganzoo.sample(direct, n=6, label=3, seed=1))
    with pytest.raises(CheckpointError, match=r"hf://someone/absent is not in the Hugging Face cache .*offline") as info:
        ganzoo.load_checkpoint("hf://someone/absent", registry=REGISTRY)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="not a Hub reference"):
        ganzoo.load_checkpoint("hf://just-a-name", registry=REGISTRY)
    done = cli("sample", "hf://someone/cdcgan-digits", "--n", "4", "--out", str(tmp_path / "grid.png"), cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "grid.png").is_file(), done.stderr


def test_an_entry_with_published_weights_samples_without_training_and_refuses_a_checksum_mismatch(runs, tmp_path, offline_hub,
                                                                                                    write_zoo, cli):
    folder = ganzoo.export(runs["dcgan-mnist-5k"], tmp_path / "export", registry=REGISTRY)
    hub_cache(offline_hub, "ganzoo/dcgan-mnist-5k", folder)
    entry = {k: v for k, v in REGISTRY.entry("dcgan-mnist-5k").to_dict().items() if k not in ("name", "reference", "pretrained")}
    entry["model_options"] = json.loads((folder / "config.json").read_text())["entry"]["model_options"]
    good = {**entry, "pretrained": {"weights": "hf://ganzoo/dcgan-mnist-5k", "sha256": sha256(folder / "model.safetensors")}}
    bad = {**entry, "pretrained": {"weights": "hf://ganzoo/dcgan-mnist-5k", "sha256": "0" * 64}}
    zoo = write_zoo({"digits-pretrained": good, "digits-tampered": bad})
    shown = cli("list", "digits-*", "--zoo", str(zoo), cwd=tmp_path)
    assert shown.returncode == 0 and "●" in shown.stdout and "--pretrained" in shown.stdout, shown.stderr
    done = cli("sample", "digits-pretrained", "--pretrained", "--n", "4", "--out", str(tmp_path / "p.png"), "--zoo", str(zoo),
               cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "p.png").is_file(), done.stderr
    refused = cli("sample", "digits-tampered", "--pretrained", "--out", str(tmp_path / "t.png"), "--zoo", str(zoo), cwd=tmp_path)
    assert refused.returncode != 0 and "SHA-256" in refused.stderr and refused.stderr.strip().count("\n") == 0, refused.stderr
    with pytest.raises(ConfigError, match="names no published weights"):
        ganzoo.load_pretrained("dcgan-mnist-5k", registry=REGISTRY)
    bad_pin = {**entry, "pretrained": {"weights": "https://example.com/w.safetensors", "sha256": "x"}}
    with pytest.raises(ConfigError, match="'pretrained' must be"):
        ganzoo.load_registry([write_zoo({"x": bad_pin}, "bad.yaml")]).entry("x")


def test_push_uploads_the_exported_folder_with_a_card_that_names_the_repository(runs, tmp_path, monkeypatch):
    from huggingface_hub import HfApi

    seen = {}

    def upload_folder(self, *, folder_path, repo_id, repo_type, revision, commit_message, allow_patterns):
        seen.update(files=sorted(p.name for p in Path(folder_path).iterdir()), repo=repo_id, message=commit_message,
                    card=(Path(folder_path) / "README.md").read_text())
        return "https://huggingface.co/someone/digits/commit/123"

    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kwargs: seen.update(created=(repo_id, kwargs["private"])))
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    url = ganzoo.push(runs["dcgan-mnist-5k"], "someone/digits", private=True, message="first weights", registry=REGISTRY)
    assert url.endswith("/commit/123") and seen["created"] == ("someone/digits", True) and seen["message"] == "first weights"
    assert seen["files"] == ["README.md", "config.json", "model.safetensors", "samples.png"]
    assert "hf://someone/digits" in seen["card"] and "OWNER/NAME" not in seen["card"]
    with pytest.raises(ConfigError, match="not a Hub reference"):
        ganzoo.push(runs["dcgan-mnist-5k"], "no-owner", registry=REGISTRY)


# ---------------------------------------------------------------- ONNX


@pytest.mark.parametrize("name", ["cdcgan-mnist-5k", "pix2pix-digit-edges"])
def test_onnx_exports_match_pytorch_within_the_stated_tolerance(runs, tmp_path, name, cli):
    onnxruntime = pytest.importorskip("onnxruntime")
    from ganzoo.exported import ONNX_TOLERANCE

    loaded = ganzoo.load_checkpoint(runs[name], registry=REGISTRY, device="cpu")
    done = cli("export", str(runs[name]), "--out", str(tmp_path / "out"), "--format", "onnx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    about = json.loads((tmp_path / "out" / "config.json").read_text())["onnx"]["model.onnx"]
    assert about["max_abs_difference"] <= ONNX_TOLERANCE
    assert "## ONNX" in (tmp_path / "out" / "README.md").read_text()
    session = onnxruntime.InferenceSession(str(tmp_path / "out" / "model.onnx"), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(0)
    if loaded.model.capabilities.generates:
        z, labels = torch.randn(7, loaded.model.latent_dim, generator=g), torch.arange(7) % 10
        expected = loaded.model.sample(7, labels, latent=z)
        got = session.run(None, {"latent": z.numpy(), "label": labels.numpy()})[0]
    else:
        x = torch.rand(3, *loaded.info.shape("input"), generator=g) * 2 - 1
        expected = ganzoo.translate(loaded, x)
        got = session.run(None, {"image": x.numpy()})[0]
    assert np.abs(got - expected.detach().numpy()).max() <= ONNX_TOLERANCE
