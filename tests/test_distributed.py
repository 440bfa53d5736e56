"""torchrun with 2 CPU processes (gloo): the same weights on both ranks, rank 0 alone writes, resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import needs

WORKER = Path(__file__).with_name("ddp_worker.py")


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def test_two_processes_train_one_model_and_resume(tmp_path):
    done = torchrun(str(WORKER), str(tmp_path), "10", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    r0, r1 = weights(tmp_path / "rank0.pt"), weights(tmp_path / "rank1.pt")
    assert r0["world"] == 2 and r0["step"] == r1["step"] == 10
    for name, p in r0["params"].items():
        assert torch.equal(p, r1["params"][name]), name  # DDP averaged the gradients: identical weights
    # each rank took its own half of every global batch of 2 x 16: 256 images are 8 global batches an epoch
    assert r0["batch"] == {"epoch": 1, "index": 2}
    run = tmp_path / "run"
    assert (run / "checkpoints" / "last.pt").exists() and (run / "report.html").exists()
    assert len((run / "history.jsonl").read_text().splitlines()) == 1  # rank 0's log alone (log_every 50: the last step)

    before = weights(tmp_path / "rank0.pt")["params"]
    done = torchrun(str(WORKER), str(tmp_path), "16", "resume", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    r0, r1 = weights(tmp_path / "rank0.pt"), weights(tmp_path / "rank1.pt")
    assert r0["step"] == r1["step"] == 16
    for name, p in r0["params"].items():
        assert torch.equal(p, r1["params"][name]), name
    assert any(not torch.equal(p, before[name]) for name, p in r0["params"].items())  # it trained on from step 10


def test_torchrun_runs_the_command_line_and_rank_0_alone_logs(tmp_path):
    needs("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    done = torchrun("-m", "ganzoo", "run", "dcgan-mnist-5k", "--set", "model_options.g_channels=4", "--set",
                    "model_options.d_channels=4", "--set", "train.steps=3", "--set", "train.batch_size=8", "--set",
                    "dataset_options.limit=64", "--set", "train.log_every=1", "--logger", "tensorboard", "--run-dir", "r",
                    "--device", "cpu", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "r" / "checkpoints" / "last.pt").exists()
    assert len(list((tmp_path / "r").glob("events.out.tfevents.*"))) == 1  # one writer: rank 0's
    events = EventAccumulator(str(tmp_path / "r"))
    events.Reload()
    assert [e.step for e in events.Scalars("g_loss")] == [1, 2, 3]


def test_sync_batchnorm_on_the_cpu_is_a_clear_error(tmp_path):
    done = torchrun("-m", "ganzoo", "run", "dcgan-mnist-5k", "--set", "train.sync_batchnorm=true", "--set", "train.steps=1",
                    "--run-dir", "r", "--device", "cpu", cwd=tmp_path)
    assert done.returncode != 0 and "train.sync_batchnorm needs CUDA devices" in done.stderr


@pytest.mark.parametrize("world", [2, 3])
def test_each_rank_takes_its_own_share_of_every_global_batch(world):
    from ganzoo.data import DeviceBatches, ImageData

    data = ImageData({"image": torch.arange(24, dtype=torch.uint8).view(24, 1, 1, 1).expand(24, 1, 2, 2).contiguous()})
    shares = [DeviceBatches(data, 4, torch.device("cpu"), seed=0, rank=r, world=world) for r in range(world)]
    single = DeviceBatches(data, 4 * world, torch.device("cpu"), seed=0)
    for _ in range(single.batches_per_epoch):
        whole = single.next()[0]["image"]
        parts = torch.cat([s.next()[0]["image"] for s in shares])
        assert torch.equal(parts, whole)
