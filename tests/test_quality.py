"""Sample-quality metrics, feature extractors, ``ganzoo evaluate`` for generators, run reports."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import Tensor

import ganzoo
from ganzoo.evaluation.features import inception_weights, load_domain_features, train_domain_features
from ganzoo.evaluation.samples import frechet_distance, inception_score, kernel_distance, precision_recall
from conftest import TINY_ENTRY, MeanPoolPlugin, make_tiny_plugin

# ---------------------------------------------------------------- the metrics on cases computed by hand


def gaussian(n: int, dim: int, mean: float = 0.0, std: float = 1.0, seed: int = 0) -> Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * std + mean


def test_fid_of_identical_sets_is_zero():
    x = gaussian(500, 8)
    assert frechet_distance(x, x.clone()) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_shifted_gaussians_is_the_squared_shift():
    # N(0, I) against N(m, I): the Fréchet distance is |m|^2 (+ sampling noise)
    real, fake = gaussian(20000, 4, seed=1), gaussian(20000, 4, seed=2) + torch.tensor([2.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    assert frechet_distance(real, fake) == pytest.approx(4.0, abs=0.1)


def test_fid_of_scaled_gaussians_follows_the_trace_term():
    # N(0, I) against N(0, s^2 I) in d dimensions: d (1 - s)^2
    real, fake = gaussian(20000, 4, seed=1), gaussian(20000, 4, std=3.0, seed=2)
    assert frechet_distance(real, fake) == pytest.approx(4 * (1 - 3.0) ** 2, rel=0.03)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_shift():
    real, same = gaussian(2000, 8, seed=1), gaussian(2000, 8, seed=2)
    near, _ = kernel_distance(real, same, subset=500, subsets=20)
    far, _ = kernel_distance(real, same + 1.0, subset=500, subsets=20)
    farther, _ = kernel_distance(real, same + 2.0, subset=500, subsets=20)
    assert abs(near) < 0.01 and 0.1 < far < farther


def test_precision_and_recall_tell_quality_from_coverage():
    real = gaussian(1000, 2, seed=1)
    assert precision_recall(real, real.clone()) == (1.0, 1.0)
    far = precision_recall(real, gaussian(1000, 2, mean=50.0, seed=2))
    assert far == (0.0, 0.0)
    collapsed = gaussian(1000, 2, std=0.05, seed=3)  # every sample near one real mode
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.2


def test_inception_score_counts_confident_and_varied_classes():
    k = 10
    varied = torch.nn.functional.one_hot(torch.arange(1000) % k, k).double() * 50  # confident, all classes equally
    assert inception_score(varied, splits=1)[0] == pytest.approx(k, rel=1e-3)
    one_class = torch.nn.functional.one_hot(torch.zeros(1000, dtype=torch.long), k).double() * 50
    assert inception_score(one_class, splits=5)[0] == pytest.approx(1.0, rel=1e-3)
    uncertain = torch.zeros(1000, k, dtype=torch.float64)  # every image: every class equally likely
    assert inception_score(uncertain, splits=1)[0] == pytest.approx(1.0, rel=1e-3)


# ---------------------------------------------------------------- feature extractors


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def registry(write_zoo):
    zoo = write_zoo({"tiny": {**TINY_ENTRY, "dataset_options": {"n": 80}}})
    return ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("meanpool", MeanPoolPlugin())])


@pytest.fixture
def tiny_run(registry, tmp_path):
    return ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "run", device="cpu").run_dir


def test_a_plugin_feature_extractor_scores_a_generator(registry, tiny_run, cache):
    assert registry.plugins["meanpool"].registers["feature extractors"] == ["meanpool"]
    record = ganzoo.evaluate(tiny_run, samples=40, features="meanpool", registry=registry, device="cpu")
    assert record["kind"] == "samples" and record["features"]["features"] == "meanpool"
    assert record["real_images"] == 40 and record["fake_images"] == 40 and record["split"] == "train"
    assert {"fid", "kid", "precision", "recall"} <= set(record["scores"]) and "inception_score" not in record["scores"]
    assert record["baseline"]["what"].startswith("40 other real images (of the train split)")
    assert record["scores"]["fid"] > record["baseline"]["scores"]["fid"]  # six steps of training are far from the data
    stored = json.loads((tiny_run / "metrics.json").read_text())["samples-meanpool"]
    assert stored["scores"] == pytest.approx(record["scores"])


def test_real_features_and_baseline_are_computed_once_and_cached(registry, tiny_run, cache):
    def evaluate(seed=0):
        return ganzoo.evaluate(tiny_run, samples=40, features="meanpool", seed=seed, registry=registry, device="cpu", write=False)

    first = evaluate()
    assert first["protocol"]["real_features"].startswith("computed")
    [path] = (cache / "features").glob("real-*.pt")
    second = evaluate()
    assert second["protocol"]["real_features"] == f"cached ({path})"
    assert second["scores"] == pytest.approx(first["scores"]) and second["baseline"] == first["baseline"]
    path.write_bytes(b"damaged")  # an unreadable cache is rebuilt, not trusted
    third = evaluate()
    assert third["protocol"]["real_features"].startswith("computed") and third["scores"] == pytest.approx(first["scores"])
    assert evaluate(seed=1)["protocol"]["real_features"].startswith("computed")  # other real images: another entry
    assert len(list((cache / "features").glob("real-*.pt"))) == 2


def test_figures_do_not_depend_on_the_callers_random_state(registry, tiny_run, cache):
    def evaluate(caller_seed):
        torch.manual_seed(caller_seed)
        for path in (cache / "features").glob("real-*.pt"):  # the baseline is computed again, under this state
            path.unlink()
        return ganzoo.evaluate(tiny_run, samples=40, features="meanpool", registry=registry, device="cpu", write=False)

    first, second = evaluate(1), evaluate(2)
    assert second["scores"] == first["scores"] and second["baseline"] == first["baseline"]  # KID's subsets included


def test_train_eval_samples_scores_the_generator_at_the_end(registry, cache, tmp_path):
    run = ganzoo.train("tiny", overrides=["train.eval_samples=40"], registry=registry, run_dir=tmp_path / "e", device="cpu")
    record = json.loads((run.run_dir / "metrics.json").read_text())["samples-domain"]
    assert record["fake_images"] == 40 and record["step"] == 6 and "fid" in record["scores"]
    assert "samples-domain" in (run.run_dir / "report.html").read_text()


def test_unknown_feature_extractor_suggests_the_closest(registry, tiny_run):
    with pytest.raises(ganzoo.ConfigError, match="did you mean 'meanpool'"):
        ganzoo.evaluate(tiny_run, features="meanpol", registry=registry, device="cpu")


def test_domain_features_are_trained_once_and_cached_per_dataset(registry, tiny_run, cache):
    entry = registry.entry("tiny")
    path = train_domain_features(entry, registry, epochs=1)
    assert path.parent == cache / "features" and path.name.startswith("blobs-")
    stamp = path.stat().st_mtime_ns
    assert train_domain_features(entry, registry, epochs=1) == path and path.stat().st_mtime_ns == stamp
    other = registry.entry("tiny", ["dataset_options.n=60"])
    assert train_domain_features(other, registry, epochs=1) != path  # other options, other network
    record = ganzoo.evaluate(tiny_run, samples=40, registry=registry, device="cpu")  # auto: small grey labelled data
    assert record["features"]["features"] == "domain" and "inception_score" in record["scores"]
    assert len(record["features"]["weights_sha256"]) == 64


def test_a_corrupt_domain_network_is_a_clear_error(registry, cache):
    path = train_domain_features(registry.entry("tiny"), registry, epochs=1)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ganzoo.DataError, match="ganzoo features ENTRY --force"):
        load_domain_features(path)


def test_inception_weights_offline_is_one_actionable_line(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ganzoo.DataError) as caught:
        inception_weights(None)
    message = str(caught.value)
    assert "\n" not in message and "--weights PATH" in message and "--features domain" in message
    assert not list((tmp_path / "hub").rglob("*.pth"))  # no partial file left behind
    with pytest.raises(ganzoo.DataError, match="no such file"):
        inception_weights(tmp_path / "missing.pth")


# ---------------------------------------------------------------- reports


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_every_run_gets_a_self_contained_report(registry, tiny_run):
    html = (tiny_run / "report.html").read_text()
    parser = Images()
    parser.feed(html)
    grids = sorted((tiny_run / "samples").glob("*.png"))
    assert len(parser.sources) == len(grids) + 1  # the loss curve and every grid, embedded
    for src in parser.sources:
        assert src.startswith("data:image/png;base64,")
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    info = json.loads((tiny_run / "run.json").read_text())
    assert info["status"] == "finished" and info["device"] == "cpu" and info["steps"] == 6
    assert "tiny" in html and "batch_size: 8" in html and "finished" in html


def test_evaluating_adds_the_figures_to_the_report(registry, tiny_run):
    ganzoo.evaluate(tiny_run, samples=40, features="meanpool", registry=registry, device="cpu")
    html = (tiny_run / "report.html").read_text()
    assert "samples-meanpool" in html and "precision" in html and "2x2 mean pooling" in html


# ---------------------------------------------------------------- the command line


@pytest.fixture
def ganzoo_cli(cli):
    """The command line with the data, ganzoo cache and torch hub of ``cwd``."""
    return lambda *args, cwd: cli(*args, cwd=cwd, env={"GANZOO_DATA": str(cwd / "data"), "GANZOO_CACHE": str(cwd / "cache"),
                                                       "COLUMNS": "200", "TORCH_HOME": str(cwd / "torch")})


SMALL_DCGAN = ["--set", "model_options.g_channels=4", "--set", "model_options.d_channels=4", "--set", "train.steps=2",
               "--set", "train.batch_size=8", "--set", "dataset_options.limit=300"]


def test_evaluate_report_and_compare_through_the_command_line(tmp_path, ganzoo_cli):
    """Two tiny runs; evaluate one (the domain network is trained on first use), report, compare."""
    from ganzoo.training import resolve_precision
    for name in ("a", "b"):
        done = ganzoo_cli("run", "dcgan-mnist-5k", *SMALL_DCGAN, "--run-dir", name, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert f"precision {resolve_precision('auto', torch.device('cpu'))} (auto)" in done.stderr  # what auto chose here
    done = ganzoo_cli("evaluate", "a", "--samples", "100", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "features domain" in done.stdout and "100 vs 100 (train)" in done.stdout and "fid" in done.stdout
    assert "training the domain feature network of 'mnist-5k'" in done.stderr  # stderr: stdout may be a --json document
    scripted = ganzoo_cli("evaluate", "a", "--samples", "100", "--json", cwd=tmp_path)
    record = json.loads(scripted.stdout)  # one JSON document, nothing else
    assert record["kind"] == "samples" and {"fid", "kid", "precision", "recall"} <= record["scores"].keys()
    assert record["features"]["features"] == "domain" and record["baseline"]["scores"]["fid"] >= 0
    assert list((tmp_path / "cache" / "features").glob("mnist-5k-*.pt"))
    (tmp_path / "a" / "report.html").unlink()
    done = ganzoo_cli("report", "a", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "a" / "report.html").exists()
    done = ganzoo_cli("compare", "a", "b", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "samples-domain/fid" in done.stdout and "images_per_s" in done.stdout
    compared = json.loads(ganzoo_cli("compare", "a", "b", "--json", cwd=tmp_path).stdout)
    assert len(compared["runs"]) == 2 and compared["runs"][0]["steps"] == 2
    assert "samples-domain/fid" in compared["figures"] and compared["runs"][1]["samples-domain/fid"] is None  # b not evaluated
    assert compared["runs"][0]["samples-domain/fid"] == record["scores"]["fid"]
    reported = json.loads(ganzoo_cli("report", "a", "--json", cwd=tmp_path).stdout)
    assert Path(reported["report"]).name == "report.html"
    # the error paths: one line each, non-zero exit
    done = ganzoo_cli("evaluate", "a", "--features", "inception-v3", "--weights", "nowhere.pth", cwd=tmp_path)
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and "--weights nowhere.pth: no such file" in done.stderr
    done = ganzoo_cli("evaluate", "a", "--samples", "3", cwd=tmp_path)
    assert done.returncode != 0 and "--samples must be at least 10" in done.stderr
    done = ganzoo_cli("report", "nowhere", cwd=tmp_path)
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and "not a run directory" in done.stderr


def test_list_shows_reference_figures(tmp_path, write_zoo, ganzoo_cli):
    entry = {"model": "dcgan", "dataset": "mnist-5k", "loss": "bce", "train": {"steps": 1},
             "reference": {"measured": "2026-11-23", "fid": 12.5}}
    zoo = write_zoo({"my-dcgan": entry})
    done = ganzoo_cli("list", "my-*", "--reference", "--zoo", str(zoo), cwd=tmp_path)
    assert done.returncode == 0 and "fid 12.5" in done.stdout and "measured 2026-11-23" in done.stdout
    bad = write_zoo({"my-dcgan": {**entry, "reference": {"fid": [1, 2]}}}, name="bad.yaml")
    with pytest.raises(ganzoo.ConfigError, match="'reference' must map figure names to numbers"):
        ganzoo.load_registry([bad]).entry("my-dcgan")
