"""The command line: output, one-line errors, exit codes (in this process, through ``main``,
as the console script runs it; a fresh interpreter where the test needs one)."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import TINY_ENTRY, CliResult, ganzoo_process, site_with_plugins

SMALL = ["--set", "model_options.g_channels=8", "--set", "model_options.d_channels=8", "--set", "dataset_options.limit=128",
         "--set", "train.batch_size=16", "--set", "train.log_every=1", "--set", "train.sample_every=0",
         "--set", "train.checkpoint_every=0", "--set", "train.grid_size=10"]


@pytest.fixture
def ganzoo(cli, monkeypatch):
    """``ganzoo(*args, cwd=DIR)``: the command line with DIR/data as its data folder and no $GANZOO_RUNS."""
    monkeypatch.delenv("GANZOO_RUNS", raising=False)
    return lambda *args, cwd: cli(*args, cwd=cwd, env={"GANZOO_DATA": str(cwd / "data"), "COLUMNS": "200"})


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)  # a user error; 2 is kept for usage errors
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_list_shows_entries_with_model_dataset_plugin(tmp_path, ganzoo):
    result = ganzoo("list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["dcgan-mnist-5k"])
    assert row.split()[1:4] == ["dcgan", "mnist-5k", "dcgan"]
    assert "cdcgan-mnist-5k" in result.stdout and "dcgan-fashion-mnist" in result.stdout
    filtered = ganzoo("list", "cdcgan-mnist*", cwd=tmp_path)
    names = [line.split()[0] for line in filtered.stdout.splitlines()[1:] if line.strip()]
    assert names == ["cdcgan-mnist", "cdcgan-mnist-5k"]


def test_json_outputs_parse_and_piped_tables_keep_full_names(tmp_path, ganzoo):
    listed = json.loads(ganzoo("list", "--json", cwd=tmp_path).stdout)
    entry = next(e for e in listed if e["name"] == "dcgan-mnist-5k")
    assert {k: entry[k] for k in ("model", "dataset", "loss", "plugin")} == {"model": "dcgan", "dataset": "mnist-5k", "loss": "bce",
                                                                           "plugin": "dcgan"}
    assert entry["reference"]["fid"] > 0 and entry["error"] is None and entry["description"]
    plugins = json.loads(ganzoo("plugins", "--json", cwd=tmp_path).stdout)
    dcgan = next(p for p in plugins if p["name"] == "dcgan")
    assert dcgan["distribution"] == "ganzoo" and "dcgan" in dcgan["registers"]["models"] and dcgan["errors"] == []
    info = json.loads(ganzoo("info", "dcgan-emoji", "--set", "train.steps=7", "--json", cwd=tmp_path).stdout)
    assert info["name"] == "dcgan-emoji" and info["train"]["steps"] == 7 and info["dataset_options"]["image_size"] == 32
    piped = ganzoo("list", cwd=tmp_path).stdout  # stdout is a pipe here: no name or description is cut
    for e in listed:
        assert any(line.split()[:1] == [e["name"]] and e["description"] in line for line in piped.splitlines()), e["name"]


def test_list_with_user_zoo_reports_broken_entries(tmp_path, ganzoo):
    zoo = tmp_path / "my.yaml"
    zoo.write_text(yaml.safe_dump({"entries": {"mine": {**TINY_ENTRY, "model": "nosuchmodel"}}}))
    result = ganzoo("list", "--zoo", str(zoo), cwd=tmp_path)
    assert result.returncode == 0
    assert "unavailable mine" in result.stdout and "unknown model 'nosuchmodel'" in result.stdout


def test_plugins_shows_what_each_registers(tmp_path, ganzoo):
    result = ganzoo("plugins", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("callbacks", "datasets", "dcgan", "losses"):
        assert any(line.split()[:1] == [name] for line in result.stdout.splitlines()), result.stdout
    assert "cdcgan" in result.stdout and "hinge" in result.stdout and "mnist-5k" in result.stdout


def test_info_prints_the_resolved_entry_with_overrides(tmp_path, ganzoo):
    result = ganzoo("info", "dcgan-mnist-5k", "--set", "train.steps=7", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout.split("\n", 1)[1])
    assert data["model"] == "dcgan" and data["train"]["steps"] == 7 and "label_smoothing" in data["loss_options"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["info", "dcgan-mnist5k"], ["unknown zoo entry", "did you mean 'dcgan-mnist-5k'"]),
        (["run", "dcgan-mnist-5k", "--set", "train.stepz=3"], ["unknown option 'stepz'", "did you mean 'steps'"]),
        (["run", "dcgan-mnist-5k", "--set", "train.steps=many"], ["'steps' must be int"]),
        (["run", "dcgan-mnist-5k", "--set", "loss_options.r1_gamma=-1"], ["loss_options.r1_gamma must be at least 0"]),
        (["run", "dcgan-mnist-5k", "--set", "loss_options.r1_every=0"], ["loss_options.r1_every must be at least 1"]),
        (["run", "dcgan-mnist-5k", "--set", "model=dcgn"], ["unknown model 'dcgn'", "did you mean 'dcgan'"]),
        (["run", "dcgan-mnist-5k", "--device", "cuda:0"], ["CUDA is not available"]),
        (["run", "dcgan-mnist-5k", "--resume"], ["no checkpoint of 'dcgan-mnist-5k'"]),
        (["sample", "nowhere/last.pt"], ["no checkpoint at nowhere/last.pt"]),
        (["run", "dcgan-mnist", "--set", "dataset_options.download=false"], ["MNIST is not in", "put train-images-idx3-ubyte.gz"]),
        (["run", "dcgan-fashion-mnist"], ["FashionMNIST is not in", "download failed"]),
    ],
)
def test_user_errors_are_one_line_and_non_zero(tmp_path, args, fragments, ganzoo):
    assert_one_line_error(ganzoo(*args, cwd=tmp_path), *fragments)


def test_corrupt_checkpoint_is_one_line(tmp_path, ganzoo):
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"\x00" * 100)
    assert_one_line_error(ganzoo("sample", str(bad), cwd=tmp_path), "is not a readable ganzoo checkpoint")


def test_run_resume_and_sample(tmp_path, ganzoo):
    run = ganzoo("run", "cdcgan-mnist-5k", *SMALL, "--set", "train.steps=3", "--run-dir", "r", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "finished at step 3/3" in run.stderr
    assert (tmp_path / "r" / "samples.png").is_file() and (tmp_path / "r" / "checkpoints" / "last.pt").is_file()

    again = ganzoo("run", "cdcgan-mnist-5k", *SMALL, "--run-dir", "r", cwd=tmp_path)
    assert_one_line_error(again, "already holds a checkpoint")

    resumed = ganzoo("run", "cdcgan-mnist-5k", "--resume", "r", "--set", "train.steps=5", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "steps 3->5" in resumed.stderr and "finished at step 5/5" in resumed.stderr

    grid = ganzoo("sample", "r", "--n", "20", "--out", "grid.png", cwd=tmp_path)
    assert grid.returncode == 0, grid.stderr
    from PIL import Image

    with Image.open(tmp_path / "grid.png") as image:
        assert image.size == (2 + 10 * 30, 2 + 2 * 30)  # one class per column, 28 px + 2 px padding

    folder = ganzoo("sample", "r", "--n", "4", "--label", "7", "--out", "sevens", cwd=tmp_path)
    assert folder.returncode == 0, folder.stderr
    assert sorted(p.name for p in (tmp_path / "sevens").iterdir()) == [f"{i:05d}.png" for i in range(4)]

    assert_one_line_error(ganzoo("sample", "r", "--label", "12", cwd=tmp_path), "--label must be between 0 and 9")


def test_sample_label_on_unconditional_model_is_refused(tmp_path, ganzoo):
    run = ganzoo("run", "dcgan-mnist-5k", *SMALL, "--set", "train.steps=1", "--runs-dir", "runs", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "runs" / "dcgan-mnist-5k").iterdir())) == 1
    assert_one_line_error(ganzoo("sample", "dcgan-mnist-5k", "--label", "3", "--runs-dir", "runs", cwd=tmp_path), "unconditional")
    ok = ganzoo("sample", "dcgan-mnist-5k", "--n", "9", "--out", "g.png", "--runs-dir", "runs", cwd=tmp_path)
    assert ok.returncode == 0 and (tmp_path / "g.png").is_file()


def test_broken_installed_plugin_is_reported_and_the_rest_works(tmp_path):
    # a real installed distribution (dist-info on sys.path) whose entry point cannot be imported
    env = site_with_plugins(tmp_path / "site", "ganzoo-broken", {"broken": None})
    run = lambda *a: ganzoo_process(*a, cwd=tmp_path, env=env, timeout=120)  # noqa: E731

    plugins = run("plugins")
    assert plugins.returncode == 0
    row = next(line for line in plugins.stdout.splitlines() if line.split()[:1] == ["broken"])
    assert "ganzoo-broken" in row and "failed to import" in row
    assert "warning: ganzoo plugin 'broken' skipped" in plugins.stderr

    listing = run("list")
    assert listing.returncode == 0 and "dcgan-mnist-5k" in listing.stdout
    assert "ModuleNotFoundError" in listing.stderr


def test_exit_codes_tell_a_user_error_from_a_usage_error(tmp_path, ganzoo):
    assert_one_line_error(ganzoo("run", "dcgan-mnist-5", cwd=tmp_path), "unknown zoo entry 'dcgan-mnist-5'", "dcgan-mnist-5k")
    assert_one_line_error(ganzoo("run", "dcgan-mnist-5k", "--logger", "tensorbord", "--set", "dataset_options.limit=64",
                                 cwd=tmp_path), "unknown logger 'tensorbord'", "tensorboard")
    assert not (tmp_path / "runs").exists()  # refused before the run directory was made
    usage = ganzoo("run", "dcgan-mnist-5k", "--no-such-option", cwd=tmp_path)
    assert usage.returncode == 2 and "usage: ganzoo" in usage.stderr and "unrecognized arguments" in usage.stderr
    assert ganzoo("frobnicate", cwd=tmp_path).returncode == 2
