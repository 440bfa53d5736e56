"""Training on several processes with PyTorch's own engine: torchrun + DistributedDataParallel.

``torchrun --nproc-per-node N -m ganzoo run ENTRY`` starts N copies of the command; each
finds its rank in the environment torchrun sets (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``/``MASTER_PORT``) and joins the process group: NCCL between GPUs (one GPU
per process, ``cuda:LOCAL_RANK``), gloo between CPU processes. Multi-node runs use
torchrun's rendezvous options (``--nnodes``, ``--rdzv-backend c10d --rdzv-endpoint
HOST:PORT``) unchanged.

What DDP wraps is the model's pair of loss computations (:class:`LossStep`), so the
gradients of whatever networks a model's step touches are averaged across processes,
whatever the model's structure (several networks, phases, frozen parts). The model object
itself stays unwrapped: checkpoints, previews and sampling read the same weights, with
the same keys, as a single-process run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from ganzoo.errors import ConfigError


@dataclass(frozen=True)
class Distributed:
    rank: int
    local_rank: int
    world: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = Distributed(0, 0, 1)
_TIMEOUT = timedelta(minutes=30)  # torch's own default for joining a process group


def from_environment() -> Distributed:
    """The process's place in a torchrun job (rank 0 of 1 when not started by torchrun)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    return Distributed(int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world)


def setup(device: torch.device) -> tuple[Distributed, torch.device]:
    """Join the process group when started by torchrun; the device this process trains on."""
    place = from_environment()
    if place.world == 1:
        return place, device
    if device.type == "cuda":
        device = torch.device("cuda", place.local_rank)
        torch.cuda.set_device(device)
    if device.type == "mps":
        raise ConfigError("distributed training needs CUDA devices or CPUs (gloo), not Apple MPS")
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, store=_attempt_store(place), rank=place.rank, world_size=place.world)
    return place, device


def _attempt_store(place: Distributed) -> dist.Store:
    """The rendezvous store, with a namespace of its own for each torchrun restart.

    torchrun keeps one TCPStore alive across ``--max-restarts`` attempts (it shares its
    rendezvous store with the workers), and torch's env:// rendezvous no longer prefixes
    keys by attempt: restarted workers could read the addresses that the killed ones
    published and fail in "Gloo connectFullMesh ... Connection refused" or hang
    (pytorch/pytorch#135712). Keys here live under the restart count, which every worker
    of a single-node job shares. (Multi-node elastic jobs: see docs/scaling.md.)
    """
    address, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    shared = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    store = dist.TCPStore(address, port, place.world, is_master=not shared and place.rank == 0, timeout=_TIMEOUT)
    return dist.PrefixStore(f"ganzoo/attempt_{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}", store)


class LossStep(nn.Module):
    """The model's discriminator and generator losses as one ``forward`` (what DDP wraps)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, part: str, batch: dict, loss: object):
        return self.model.discriminator_loss(batch, loss) if part == "d" else self.model.generator_loss(batch, loss)


def wrap(model: nn.Module, device: torch.device, place: Distributed, sync_batchnorm: bool = False) -> nn.Module:
    """``LossStep(model)``, inside DistributedDataParallel when there are several processes.

    Parameters a step does not reach (the generator in the discriminator's step, networks
    a phase freezes) are expected: ``find_unused_parameters``. Batch-norm statistics are
    rank 0's, broadcast at each step (DDP's default), or synchronised across processes per
    batch with ``sync_batchnorm`` (CUDA only).
    """
    if sync_batchnorm:
        if place.world == 1:
            return LossStep(model)
        if device.type != "cuda":
            raise ConfigError("train.sync_batchnorm needs CUDA devices (PyTorch's SyncBatchNorm does not run on the CPU)")
        nn.SyncBatchNorm.convert_sync_batchnorm(model)
    step = LossStep(model)
    if place.world == 1:
        return step
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(step, device_ids=ids, find_unused_parameters=True)


def anyone(flag: bool, device: torch.device) -> bool:
    """Whether ``flag`` is true in any process (a signal may reach only some of them)."""
    t = torch.tensor(int(flag), device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def agree(value: object, rank: int) -> object:
    """Rank 0's ``value`` in every process (e.g. the run directory rank 0 created)."""
    if not dist.is_initialized():
        return value
    box = [value if rank == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
