"""Training and sampling throughput of zoo entries, and ganzoo against the textbook loop.

For each entry, in a fresh process (so that the peak memory is the entry's own):

- **train**: images per second through one full step (discriminator + generator) of the
  one training loop, after warm-up, median of ``--repeats`` timings of ``--steps`` steps
  each. Phased models are timed in their last (main) phase.
- **sample**: images per second of the generator in eval mode, same median.
- **peak memory**: the process's peak RSS (CPU) or ``torch.cuda.max_memory_allocated``.
- **FLOPs**: of one step, counted by ``torch.utils.flop_counter``; achieved TFLOP/s, and on
  a GPU with a known peak, the model FLOPs utilisation (MFU).

For entries whose model is the textbook shape (one generator and one discriminator,
generating from noise; a capability, not a name) the same process also times the
**textbook loop** on the same model,
data and batch size: a ``DataLoader`` over a map-style dataset converting each image
(PIL -> ``ToTensor`` -> ``Normalize``, as torchvision's MNIST does), ``sigmoid`` +
``nn.BCELoss``, ``torch.optim.Adam`` with default settings, ``.item()`` of both losses
every step, one generator forward reused by both updates. The ratio ganzoo / textbook is
the figure to track: absolute numbers depend on the machine.

    python benchmarks/speed.py                               # the offline entries
    python benchmarks/speed.py dcgan-mnist-5k dcgan-mnist-5k@train.precision=bf16,train.compile=true
    python benchmarks/speed.py --write-docs                  # also replace the table in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import ganzoo
from common import header

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ENTRIES = ["dcgan-mnist-5k", "dcgan-mnist-5k@train.precision=fp32", "cdcgan-mnist-5k", "pix2pix-digit-edges",
                   "srgan-photos", "stackgan-digits"]
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"
PEAK_TFLOPS = {  # dense, per precision: vendor figures
    "H100": {"fp32": 67.0, "bf16": 989.0, "fp16": 989.0},  # SXM
    "H200": {"fp32": 67.0, "bf16": 989.0, "fp16": 989.0},
    "A100": {"fp32": 19.5, "bf16": 312.0, "fp16": 312.0},
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_rate(fn, items: int, repeats: int, device: torch.device) -> float:
    """Items per second of ``fn()``, median over ``repeats`` (after one warm-up call)."""
    fn()
    rates = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        rates.append(items / (time.perf_counter() - t0))
    return statistics.median(rates)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class TextbookMNIST(torch.utils.data.Dataset):
    """What ``torchvision.datasets.MNIST(transform=...)`` does per item: PIL image -> tensor."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        from torchvision import transforms

        self.images, self.labels = images, labels
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i, 0].numpy(), mode="L")), int(self.labels[i])


def textbook_shaped(model, data) -> bool:
    """The textbook loop fits a model of one generator and one discriminator that generates
    from noise (optionally by class) on in-memory grey images."""
    caps = model.capabilities
    return (caps.generates and caps.condition in ("", "class") and set(model.networks) == {"generator", "discriminator"}
            and hasattr(data, "tensors") and "label" in data.tensors and data.info.channels == 1)


def textbook_rate(entry, registry, steps: int, repeats: int, device: torch.device) -> float:
    """Images per second of the textbook DCGAN loop on the entry's model and data."""
    from ganzoo.build import build_model, load_data

    data = load_data(registry, entry)
    model = build_model(registry, entry, data.info).to(device)
    g, d = model.generator, model.discriminator
    conditional = bool(model.num_classes)
    bs = entry.train.batch_size
    loader = torch.utils.data.DataLoader(TextbookMNIST(data.tensors["image"], data.tensors["label"]), batch_size=bs,
                                         shuffle=True, drop_last=True)
    opt_d = torch.optim.Adam(d.parameters(), lr=entry.train.lr_d, betas=entry.train.betas)
    opt_g = torch.optim.Adam(g.parameters(), lr=entry.train.lr_g, betas=entry.train.betas)
    criterion = nn.BCELoss()
    batches = iter(loader)

    def run(n: int) -> None:
        nonlocal batches
        for _ in range(n):
            try:
                real, labels = next(batches)
            except StopIteration:
                batches = iter(loader)
                real, labels = next(batches)
            real, labels = real.to(device), labels.to(device)
            y = labels if conditional else None
            ones, zeros = torch.ones(bs, device=device), torch.zeros(bs, device=device)
            fake_labels = torch.randint(0, 10, (bs,), device=device) if conditional else None
            fake = g(torch.randn(bs, model.latent_dim, device=device), fake_labels)
            opt_d.zero_grad()
            loss_d = criterion(torch.sigmoid(d(real, y)), ones) + criterion(torch.sigmoid(d(fake.detach(), fake_labels)), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = criterion(torch.sigmoid(d(fake, fake_labels)), ones)
            loss_g.backward()
            opt_g.step()
            print(f"\r{loss_d.item():.3f} {loss_g.item():.3f}", end="", file=sys.stderr)  # the per-step .item()

    return median_rate(lambda: run(steps), steps * bs, repeats, device)


def measure(name: str, overrides: list[str], steps: int, repeats: int, device_name: str) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    from ganzoo.training import Trainer

    registry = ganzoo.load_registry()
    entry = registry.entry(name, overrides)
    trainer = Trainer(registry, device=device_name)
    device = trainer.device
    with tempfile.TemporaryDirectory() as tmp:
        run = trainer.setup(entry, Path(tmp) / "run")
        if len(run.schedule) > 1:  # time the main (last) phase
            run.step = run.schedule[-2][1]
        trainer.run_steps(run, 3)  # warm-up (and the phase switch)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        bs = entry.train.batch_size
        train_rate = median_rate(lambda: trainer.run_steps(run, steps), steps * bs, repeats, device)
        with FlopCounterMode(display=False) as counter:
            trainer.run_steps(run, 1)
        flops = counter.get_total_flops()
        memory = peak_memory_mb(device)
        model = run.model
        model.eval()
        sample_n = 64
        if model.capabilities.translates:
            from ganzoo.data import spread_items

            inputs = model.preview_inputs(spread_items(run.data, sample_n, device), sample_n, torch.Generator().manual_seed(0))

            def draw() -> None:
                with torch.no_grad():
                    model.preview(inputs)
        else:
            condition = model.evaluation_condition(run.batches.next()[0])

            def draw() -> None:
                with torch.no_grad():
                    model.sample(len(condition) if condition is not None else sample_n, condition)

            sample_n = len(condition) if condition is not None else sample_n
        sample_rate = median_rate(draw, sample_n, repeats, device)
    result = {"entry": name, "overrides": overrides, "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "precision": run.precision, "batch_size": bs, "train_images_per_s": round(train_rate, 1),
              "sample_images_per_s": round(sample_rate, 1), "peak_memory_mb": round(memory), "step_gflop": round(flops / 1e9, 3),
              "achieved_tflops": round(flops * train_rate / bs / 1e12, 4)}
    peak = next((v for k, v in PEAK_TFLOPS.items() if k in result["device"]), None)
    if peak is not None:
        result["mfu"] = round(result["achieved_tflops"] / peak[run.precision], 4)
    if textbook_shaped(model, run.data):
        reference = textbook_rate(entry, registry, steps, repeats, device)
        result["textbook_images_per_s"] = round(reference, 1)
        result["speedup_vs_textbook"] = round(train_rate / reference, 2)
    return result


def table(results: list[dict], head: dict) -> str:
    lines = [f"{head['date']}, {results[0]['device'] if results else '?'} ({head['threads']} threads), torch {head['torch']}; "
             f"`python benchmarks/speed.py {' '.join(sys.argv[1:])}`".replace(" --write-docs", ""), "",
             "| entry | precision | batch | train img/s | textbook img/s | ganzoo / textbook | sample img/s | peak memory | GFLOP/step | TFLOP/s | MFU |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        name = r["entry"] + (f" ({', '.join(r['overrides'])})" if r["overrides"] else "")
        lines.append(f"| {name} | {r['precision']} | {r['batch_size']} | {r['train_images_per_s']} | "
                     f"{r.get('textbook_images_per_s', '–')} | {str(r['speedup_vs_textbook']) + '×' if 'speedup_vs_textbook' in r else '–'} | "
                     f"{r['sample_images_per_s']} | {r['peak_memory_mb']} MB | {r['step_gflop']} | {r['achieved_tflops']} | "
                     f"{r.get('mfu', '–')} |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc += f"\n## Speed (issue 8)\n\n{block}\n"
    path.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*", default=DEFAULT_ENTRIES, help="ENTRY or ENTRY@KEY=VALUE,... (a variant)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--steps", type=int, default=20, help="steps per timing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write-docs", action="store_true", help="replace the speed table in docs/benchmarks.md")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one entry in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.overrides, args.steps, args.repeats, args.device)))
        return
    results = []
    for spec in args.entries:  # ENTRY or ENTRY@KEY=VALUE,KEY=VALUE (a variant with its own overrides)
        name, _, extra = spec.partition("@")
        overrides = [*args.overrides, *[o for o in extra.split(",") if o]]
        command = [sys.executable, __file__, "--one", name, "--steps", str(args.steps), "--repeats", str(args.repeats),
                   "--device", args.device, *[f"--set={o}" for o in overrides]]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{spec}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    head = header()
    text = table(results, head)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({**head, "results": results}, indent=2))
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
