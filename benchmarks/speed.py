"""Training and sampling throughput of zoo entries, and ganzoo against each model's reference loop.

For each entry, in a fresh process (so that the peak memory is the entry's own):

- **train**: images per second through one full step (discriminator + generator) of the
  one training loop, after warm-up, median of ``--repeats`` timings of ``--steps`` steps
  each. Phased models are timed in their last (main) phase.
- **sample**: images per second of the generator in eval mode, same median.
- **warm-up**: the first three steps' time beyond three steady steps (with
  ``train.compile``, the compilation: what it costs once per run).
- **peak memory**: the process's peak RSS (CPU) or ``torch.cuda.max_memory_allocated``.
- **FLOPs**: of one step, counted by ``torch.utils.flop_counter``; achieved TFLOP/s and its
  share of the device's matrix peak for the row's precision (fp32 and bf16 matmul peaks
  measured in the same run), and on a GPU with a known peak, the MFU.
- **reference**: the same process times the model's **reference loop** on the same
  networks, data and batch size: the step structure of the variant's well-known public
  implementation (PyTorch's DCGAN example, PyTorch-GAN's pix2pix.py and srgan.py, the
  official StackGAN-Pytorch trainer), in fp32 as they train, provided by the model's
  plugin (``ModelSpec.reference_loop``: this harness names no model). The two are timed in
  alternation, one timing of each per round, so that a slow spell of a shared machine
  weighs on both; the ratio ganzoo / reference is the median of the rounds' ratios, the
  figure to track: absolute numbers depend on the machine.

    python benchmarks/speed.py                               # the offline entries
    python benchmarks/speed.py dcgan-mnist-5k dcgan-mnist-5k@train.precision=bf16,train.compile=true
    python benchmarks/speed.py --write-docs                  # also replace the table in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import ganzoo
from common import header, machine_line, median_rate, rate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ENTRIES = ["dcgan-mnist-5k", "dcgan-mnist-5k@train.precision=fp32", "cdcgan-mnist-5k", "pix2pix-digit-edges",
                   "srgan-photos", "stackgan-digits"]
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"
PEAK_TFLOPS = {  # dense, per precision: vendor figures
    "H100": {"fp32": 67.0, "bf16": 989.0, "fp16": 989.0},  # SXM
    "H200": {"fp32": 67.0, "bf16": 989.0, "fp16": 989.0},
    "A100": {"fp32": 19.5, "bf16": 312.0, "fp16": 312.0},
}


def paired_rates(ours, theirs, items: int, repeats: int, device: torch.device) -> tuple[float, float, float]:
    """Medians of ``ours`` and ``theirs`` rates and of their ratio, timed in alternation (one of
    each per round, after a warm-up call of each), so that a slow spell of a shared machine
    weighs on both sides of a ratio alike."""
    ours()
    theirs()
    rounds = [(rate(ours, items, device), rate(theirs, items, device)) for _ in range(repeats)]
    return (statistics.median(a for a, _ in rounds), statistics.median(b for _, b in rounds),
            statistics.median(a / b for a, b in rounds))


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reference_loop(entry, registry, device: torch.device):
    """``train(steps)``: the model's reference loop (its plugin's ``ModelSpec.reference_loop``:
    the variant trained the way its well-known public implementation does) on the entry's
    networks, data and batch size, in fp32 as those scripts train; None without one."""
    from ganzoo.build import build_model, load_data

    spec = registry.spec("model", entry.model)
    if spec.reference_loop is None:
        return None
    data = load_data(registry, entry)
    model = build_model(registry, entry, data.info).to(device)
    model.setup_training()
    model.set_phase(model.phases[-1].name)  # the main phase, as ganzoo's loop is timed
    model.train()
    return spec.reference_loop(entry, model, data, device)


def matmul_peak(dtype: torch.dtype, device: torch.device, n: int = 2048) -> float:
    """TFLOP/s of a large square matmul in ``dtype``: the device's practical matrix peak."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    rate = median_rate(lambda: [a @ b for _ in range(8)], 8, 5, device)
    return rate * 2 * n**3 / 1e12


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
        t0 = time.perf_counter()
        trainer.run_steps(run, 3)  # warm-up (and the phase switch; with train.compile, the compilation)
        first_steps_s = time.perf_counter() - t0
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        bs = entry.train.batch_size
        try:
            with FlopCounterMode(display=False) as counter:
                trainer.run_steps(run, 1)
            flops = counter.get_total_flops()
        except RuntimeError as e:  # its module tracker breaks autograd.grad (R1, WGAN-GP): pytorch/pytorch#131753
            print(f"{name}: FLOPs not counted ({e})", file=sys.stderr)
            flops = None
        memory = peak_memory_mb(device)  # ganzoo's own, before the reference loop is built
        reference = reference_loop(entry, registry, device)

        def train() -> None:
            trainer.run_steps(run, steps)

        if reference is None:
            train_rate = median_rate(train, steps * bs, repeats, device)
        else:
            train_rate, reference_rate, ratio = paired_rates(train, lambda: reference(steps), steps * bs, repeats, device)
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
    precision = run.precision_of(run.schedule[-1][0].name)  # the timed phase's
    result = {"entry": name, "overrides": overrides, "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "precision": precision, "batch_size": bs, "train_images_per_s": round(train_rate, 1),
              "sample_images_per_s": round(sample_rate, 1), "peak_memory_mb": round(memory),
              "warmup_s": round(first_steps_s - 3 * bs / train_rate, 1)}  # the first 3 steps' time beyond 3 steady ones
    if reference is not None:
        result["reference_images_per_s"] = round(reference_rate, 1)
        result["speedup_vs_reference"] = round(ratio, 2)  # the median of the rounds' ratios
    if flops is not None:  # the FLOP-derived columns
        result["step_gflop"] = round(flops / 1e9, 3)
        result["achieved_tflops"] = round(flops * train_rate / bs / 1e12, 4)
        peak = next((v for k, v in PEAK_TFLOPS.items() if k in result["device"]), None)
        if peak is not None:
            result["mfu"] = round(result["achieved_tflops"] / peak[precision], 4)
        if reference is not None:
            result["reference_tflops"] = round(flops * reference_rate / bs / 1e12, 4)  # the same networks' work per image
    return result


def table(results: list[dict], head: dict, peaks: dict[str, float]) -> str:
    peak_text = ", ".join(f"{k} {v:.2f}" for k, v in peaks.items())
    lines = [f"{machine_line(head, results[0]['device'] if results else '?')}; "
             f"`python benchmarks/speed.py {' '.join(sys.argv[1:])}`".replace(" --write-docs", ""), "",
             f"Matrix peak measured in the same run (2048² matmul), TFLOP/s: {peak_text}. The reference is the model's "
             "public training script's step structure (fp32); \"share\" is TFLOP/s over the peak of the row's precision.", "",
             "| entry | precision | batch | train img/s | reference img/s | ganzoo / reference | sample img/s | peak memory | "
             "GFLOP/step | TFLOP/s | share of peak | reference TFLOP/s (share of fp32 peak) | MFU | warm-up s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        name = r["entry"] + (f" ({', '.join(r['overrides'])})" if r["overrides"] else "")
        share = f"{r['achieved_tflops'] / peaks[r['precision']]:.1%}" if r["precision"] in peaks and "achieved_tflops" in r else "–"
        ref = (f"{r['reference_tflops']} ({r['reference_tflops'] / peaks['fp32']:.1%})" if "reference_tflops" in r and "fp32" in peaks
               else "–")
        lines.append(f"| {name} | {r['precision']} | {r['batch_size']} | {r['train_images_per_s']} | "
                     f"{r.get('reference_images_per_s', '–')} | {str(r['speedup_vs_reference']) + '×' if 'speedup_vs_reference' in r else '–'} | "
                     f"{r['sample_images_per_s']} | {r['peak_memory_mb']} MB | {r.get('step_gflop', '–')} | {r.get('achieved_tflops', '–')} | {share} | "
                     f"{ref} | {r.get('mfu', '–')} | {r.get('warmup_s', '–')} |")
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
    results, failed = [], []
    for spec in args.entries:  # ENTRY or ENTRY@KEY=VALUE,KEY=VALUE (a variant with its own overrides)
        name, _, extra = spec.partition("@")
        overrides = [*args.overrides, *[o for o in extra.split(",") if o]]
        command = [sys.executable, __file__, "--one", name, "--steps", str(args.steps), "--repeats", str(args.repeats),
                   "--device", args.device, *[f"--set={o}" for o in overrides]]
        with tempfile.TemporaryDirectory() as cache:  # a cold compile, as on a user's first run
            done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache})
        if done.returncode != 0:
            print(f"{spec}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            failed.append(spec)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    head = header()
    device = torch.device("cuda" if args.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    peaks = {"fp32": matmul_peak(torch.float32, device), "bf16": matmul_peak(torch.bfloat16, device)}
    if device.type == "cuda":
        peaks["fp16"] = matmul_peak(torch.float16, device)
    text = table(results, head, peaks)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({**head, "peak_tflops": peaks, "results": results}, indent=2))
    if failed:  # a table with rows missing is not one to keep in the docs
        sys.exit(f"failed: {', '.join(failed)} (the errors are above)")
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
