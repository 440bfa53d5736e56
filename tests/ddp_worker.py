"""Run under torchrun by test_distributed.py: train, then save this rank's weights."""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

import ganzoo

out, steps, resume = Path(sys.argv[1]), sys.argv[2], len(sys.argv) > 3
small = ["model_options.g_channels=8", "model_options.d_channels=8", "train.batch_size=16", "dataset_options.limit=256",
         f"train.steps={steps}", "train.checkpoint_every=5", "train.precision=fp32", "train.lr_decay_steps=0"]
if resume:
    run = ganzoo.train("dcgan-mnist-5k", overrides=[f"train.steps={steps}"], resume=out / "run", device="cpu")
else:
    run = ganzoo.train("dcgan-mnist-5k", overrides=small, run_dir=out / "run", device="cpu")
rank = dist.get_rank()
torch.save({"params": {k: v for k, v in run.model.named_parameters()}, "step": run.step,
            "world": dist.get_world_size(), "batch": run.batches.state_dict()}, out / f"rank{rank}.pt")
dist.destroy_process_group()
