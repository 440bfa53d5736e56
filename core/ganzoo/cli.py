"""The ``ganzoo`` command: a thin layer over the public functions of :mod:`ganzoo.api`.

Plugins add sub-commands through the ``ganzoo_commands`` hook. Every command receives
the loaded registry as ``args.registry`` (with ``--zoo`` files added). User errors
(:class:`ganzoo.GanzooError`) print one line and exit non-zero; a traceback means a bug
in ganzoo or a plugin.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ganzoo._version import __version__
from ganzoo.errors import GanzooError, GanzooWarning, PluginError
from ganzoo.specs import CommandSpec


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--zoo", action="append", default=[], metavar="FILE", help="extra zoo file (repeatable)")


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout, nothing else (for scripts)")


def _print_json(data: object) -> int:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    return 0


def _console() -> Console:
    """Rich output for a terminal; piped, a console so wide that no table wraps or cuts a name."""
    return Console() if sys.stdout.isatty() else Console(width=100_000, soft_wrap=True, no_color=True)


def build_parser(plugin_commands: dict[str, CommandSpec] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganzoo", description="A model zoo for GANs, built around plugins.",
                                     epilog="Installed plugins may add commands of their own: see 'ganzoo plugins'.")
    parser.add_argument("--version", action="version", version=f"ganzoo {__version__}")
    parser.add_argument("--disable-plugin", action="append", default=[], metavar="NAME",
                        help="do not load this plugin (repeatable; also $GANZOO_DISABLE_PLUGINS=a,b)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the zoo's entries")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'dcgan-*'")
    p.add_argument("--reference", action="store_true", help="show each entry's reference figures (measured with its defaults)")
    _json_flag(p)
    _common(p)

    p = sub.add_parser("plugins", help="list installed plugins, what they register and their load errors")
    _json_flag(p)
    _common(p)

    p = sub.add_parser("info", help="show an entry's resolved configuration")
    p.add_argument("entry")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")
    _json_flag(p)
    _common(p)

    p = sub.add_parser("run", help="train an entry into a run directory")
    p.add_argument("entry")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a value, e.g. train.steps=500 or model_options.latent_dim=32")
    p.add_argument("--run-dir", type=Path, help="train into this directory (default runs/ENTRY/TIMESTAMP)")
    p.add_argument("--runs-dir", type=Path, help="parent of run directories (default $GANZOO_RUNS or ./runs)")
    p.add_argument("--resume", nargs="?", const="", metavar="PATH",
                   help="continue a run: a checkpoint, a run directory, or nothing for the entry's newest run; 'auto': the "
                        "--run-dir if it holds a checkpoint, else the entry's newest unfinished run, else a new run (for requeued jobs)")
    p.add_argument("--device", default="auto", help="auto (CUDA, MPS, then CPU), cpu, cuda, cuda:N, mps")
    p.add_argument("--data-dir", type=Path, help="where datasets live (default $GANZOO_DATA or ~/.cache/ganzoo/data)")
    p.add_argument("--logger", action="append", default=[], metavar="NAME", dest="loggers",
                   help="also record the run in NAME (tensorboard, mlflow, or a plugin's; repeatable), besides history.jsonl")
    _common(p)

    p = sub.add_parser("sample", help="write samples of a trained model as a grid or a folder of PNGs")
    p.add_argument("source", metavar="ENTRY-or-CHECKPOINT")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--out", type=Path, default=Path("samples.png"), help="a .png for a grid, or a directory for single PNGs")
    p.add_argument("--label", type=int, help="class to sample (conditional models)")
    p.add_argument("--text", help="caption to draw (text-conditional models)")
    p.add_argument("--captions", type=Path, metavar="FILE", help="a file of captions, one a line, cycled over the samples")
    p.add_argument("--seed", type=int, help="seed for reproducible samples")
    p.add_argument("--pretrained", action="store_true", help="the entry's published weights (downloaded once, checksum verified)")
    p.add_argument("--device", default="auto")
    p.add_argument("--runs-dir", type=Path)
    _common(p)

    p = sub.add_parser("export", help="write a trained model as a folder to share: model.safetensors, config.json, model card")
    p.add_argument("source", metavar="RUN-or-CHECKPOINT")
    p.add_argument("--out", type=Path, required=True, help="the folder to write (new or empty)")
    p.add_argument("--format", choices=("safetensors", "onnx"), default="safetensors",
                   help="onnx: also the generator (or translator) as model.onnx, checked with onnxruntime (ganzoo[onnx])")
    p.add_argument("--discriminator", action="store_true", help="keep the discriminators' weights too (to fine-tune)")
    p.add_argument("--license", default="other", help="the licence of the weights, for the model card (an SPDX id; default other)")
    p.add_argument("--runs-dir", type=Path)
    _common(p)

    p = sub.add_parser("demo", help="try a trained model in the browser: a Gradio page (pip install 'ganzoo[demo]')")
    p.add_argument("source", metavar="ENTRY-or-RUN", help="what 'ganzoo sample' takes: an entry (its newest run), a run, a "
                                                          "checkpoint, an exported folder, hf://owner/name")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, help="the port (default: Gradio's, 7860 or the next free one)")
    p.add_argument("--share", action="store_true", help="also a public *.gradio.live link through Gradio's servers (72 h)")
    p.add_argument("--export-space", type=Path, metavar="DIR", help="write a Hugging Face Space running this page instead")
    p.add_argument("--device", default="auto")
    p.add_argument("--runs-dir", type=Path)
    p.add_argument("--data-dir", type=Path, help="where the entry's held-out examples are (translators)")
    _common(p)

    p = sub.add_parser("push", help="upload a trained model (exported first) to the Hugging Face Hub")
    p.add_argument("source", metavar="RUN-or-EXPORT")
    p.add_argument("repo", metavar="OWNER/NAME")
    p.add_argument("--private", action="store_true")
    p.add_argument("--message", default="", help="the commit message")
    p.add_argument("--revision", help="a branch to push to (default main)")
    p.add_argument("--runs-dir", type=Path)
    _common(p)

    p = sub.add_parser("evaluate", help="score a trained model: FID, KID, IS, precision/recall; paired models: L1, PSNR, SSIM")
    p.add_argument("source", metavar="ENTRY-or-CHECKPOINT")
    p.add_argument("--samples", type=int, default=2000, help="samples (and real images) for the sample metrics (default 2000)")
    p.add_argument("--features", default="auto", metavar="NAME",
                   help="feature extractor: auto (domain for small grey labelled data, else inception-v3), inception-v3, domain, "
                        "or a plugin's")
    p.add_argument("--weights", type=Path, metavar="PATH", help="the feature extractor's weights file")
    p.add_argument("--split", help="dataset split of the real images (default: the held-out one, else train)")
    p.add_argument("--batches", type=int, default=0, help="translators with targets: score only this many batches (default: all)")
    p.add_argument("--direction", help="translators without targets: the direction whose outputs are scored")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--runs-dir", type=Path)
    _json_flag(p)
    _common(p)

    for name, help_text in (("translate", "translate an image (or a folder of images) with a trained translating model"),
                            ("upscale", "super-resolve an image (or a folder of images) of any size, tile by tile")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("source", metavar="ENTRY-or-CHECKPOINT")
        p.add_argument("inputs", type=Path, metavar="INPUT", help="an image, or a folder of images")
        p.add_argument("--out", type=Path, required=True, help="output image (for one input) or folder")
        p.add_argument("--direction", help="which translation, for models with several (e.g. a2b, b2a)")
        if name == "upscale":
            p.add_argument("--tile", type=int, default=128, help="largest tile side in input pixels (default 128; 0: one piece)")
            p.add_argument("--overlap", type=int, default=-1,
                           help="tile overlap in input pixels (default: the network's receptive radius, exact)")
        p.add_argument("--device", default="auto")
        p.add_argument("--runs-dir", type=Path)
        _common(p)

    p = sub.add_parser("features", help="train (once) and cache the domain feature network of an entry's dataset")
    p.add_argument("entry")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--force", action="store_true", help="train again even if a cached network exists")
    p.add_argument("--data-dir", type=Path)
    _common(p)

    p = sub.add_parser("report", help="(re)write a run directory's report.html")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    _json_flag(p)
    _common(p)

    p = sub.add_parser("compare", help="several runs' metrics, time and throughput side by side")
    p.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    _json_flag(p)
    _common(p)

    p = sub.add_parser("new-plugin", help="write the skeleton of a plugin package (installs and trains at once)")
    p.add_argument("name", help="plugin name, e.g. my-gan (package ganzoo_my_gan, distribution ganzoo-my-gan)")
    p.add_argument("--dir", type=Path, default=Path("."), help="where to create ganzoo-NAME/ (default: here)")
    _common(p)

    for name, spec in sorted((plugin_commands or {}).items()):
        if name in COMMANDS:
            raise PluginError(f"plugin command '{name}' clashes with ganzoo's own '{name}' command")
        p = sub.add_parser(name, help=spec.help)
        spec.configure(p)
        if "zoo" not in {a.dest for a in p._actions}:
            _common(p)
        p.set_defaults(plugin_command=spec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console = _console()
    _show_plugin_warnings_only()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        early = argparse.ArgumentParser(add_help=False)
        early.add_argument("--disable-plugin", action="append", default=[])
        early.add_argument("-h", "--help", action="store_true")
        early.add_argument("--version", action="store_true")
        known, rest = early.parse_known_args(argv)
        if known.version or (known.help and (not rest or rest[0] in COMMANDS)) or not rest:
            build_parser().parse_args(argv)  # --version, --help of ganzoo's own commands, usage errors: no plugin imported
        from ganzoo.plugins import load_registry

        registry = load_registry(disabled=known.disable_plugin, reserved_commands=COMMANDS)
        args = build_parser(registry.commands).parse_args(argv)
        registry.add_zoo_files(args.zoo)
        args.registry = registry
        if getattr(args, "plugin_command", None) is not None:
            return int(args.plugin_command.run(args) or 0)
        return COMMANDS[args.command](args, console)
    except GanzooError as e:
        return _error(str(e), e.exit_code)
    except OSError as e:  # a read-only or full disk, a folder where a file should be: the system's words, one line
        where = f" {e.filename}" if e.filename else ""
        return _error(f"cannot use{where}: {e.strerror or type(e).__name__}", 1)
    except MemoryError:
        return _error("out of memory: use fewer samples, a smaller batch or a smaller --tile", 1)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        return 130


def _error(message: str, code: int) -> int:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return code


def _show_plugin_warnings_only() -> None:
    """A skipped plugin is one line on stderr; library deprecation chatter is not shown."""
    from ganzoo.plugins import PluginWarning

    warnings.filterwarnings("ignore")
    warnings.filterwarnings("always", category=PluginWarning)
    warnings.filterwarnings("always", category=GanzooWarning)
    warnings.showwarning = lambda message, *args, **kwargs: print(f"warning: {message}", file=sys.stderr)


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import list_entries

    columns = ["entry", "model", "dataset", "plugin", "reference figures" if args.reference else "description"]
    table = Table(*columns, box=None, header_style="bold")
    broken = []
    statuses = list_entries(args.pattern, registry=args.registry)
    if args.json:
        fields = ("model", "dataset", "loss", "description", "reference", "pretrained")
        return _print_json([{"name": st.name, **{k: (st.entry.to_dict() if st.entry else st.raw).get(k) for k in fields},
                             "plugin": st.plugin, "source": st.source, "error": st.error or None} for st in statuses])
    for status in statuses:
        if status.entry is None:
            broken.append(status)
            continue
        e = status.entry
        figures = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in e.reference.items() if k != "measured")
        if "measured" in e.reference:
            figures += f" (measured {e.reference['measured']})"
        name = f"{e.name} [green]●[/]" if e.pretrained else e.name  # published weights: ganzoo sample ENTRY --pretrained
        table.add_row(name, e.model, e.dataset, status.plugin, escape((figures or "-") if args.reference else e.description))
    console.print(table)
    if any(s.entry is not None and s.entry.pretrained for s in statuses):
        console.print("[green]●[/] published weights: ganzoo sample ENTRY --pretrained", highlight=False)
    for status in broken:
        console.print(f"[yellow]unavailable[/] {status.name}: {status.error}", highlight=False)
    return 0


def cmd_plugins(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.plugins import DISABLE_ENV

    registry = args.registry
    if args.json:
        return _print_json([{"name": i.name, "distribution": i.distribution, "version": i.version, "location": i.location,
                             "registers": i.registers, "errors": i.errors, "api": i.api, "disabled": i.disabled}
                            for i in sorted(registry.plugins.values(), key=lambda i: i.name)])
    table = Table("plugin", "distribution", "version", "location", "registers", "errors", box=None, header_style="bold")
    for info in sorted(registry.plugins.values(), key=lambda i: i.name):
        registers = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(info.registers.items()))
        errors = "[red]" + " | ".join(info.errors) + "[/]" if info.errors else ""
        if info.disabled:
            errors = f"[yellow]disabled[/] (--disable-plugin / ${DISABLE_ENV})"
        table.add_row(info.name, info.distribution, info.version, info.location, registers, errors)
    console.print(table)
    return 0


def cmd_info(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import load_entry

    entry = load_entry(args.entry, args.overrides, registry=args.registry)
    if args.json:
        return _print_json({**entry.to_dict(), "source": entry.source})
    console.print(f"# {entry.name}  (from {entry.source})", highlight=False)
    console.print(yaml.safe_dump(entry.to_dict(), sort_keys=False).rstrip(), highlight=False)
    return 0


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import train

    from ganzoo.training import distributed

    resume = None if args.resume is None else (args.resume or args.entry)
    try:
        run = train(args.entry, overrides=args.overrides, registry=args.registry, run_dir=args.run_dir, runs_dir=args.runs_dir,
                    resume=resume, device=args.device, data_dir=args.data_dir, loggers=args.loggers)
    finally:
        distributed.shutdown()
    return 0 if run.status == "finished" else 128 + (run.stop_requested or 2)  # the shell's code for the signal (SIGINT: 130)


def cmd_sample(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import load_checkpoint, sample
    from ganzoo.images import save_images

    from ganzoo.images import output_kind

    output_kind(args.out)  # a bad --out fails before the model loads
    if args.pretrained:
        from ganzoo.api import load_pretrained

        loaded = load_pretrained(args.source, device=args.device, registry=args.registry)
    else:
        loaded = load_checkpoint(args.source, device=args.device, runs_dir=args.runs_dir, registry=args.registry)
    text = _read_captions(args.captions) if args.captions is not None else args.text
    images = sample(loaded, args.n, label=args.label, text=text, seed=args.seed)
    nrow = loaded.model.num_classes if loaded.model.num_classes and args.label is None else None
    paths = save_images(images, args.out, nrow=nrow)
    where = paths[0] if len(paths) == 1 else f"{len(paths)} PNGs in {args.out}"
    console.print(f"{args.n} samples of {loaded.entry.name} (step {loaded.step}) -> {where}", highlight=False)
    return 0


def _read_captions(path: Path) -> list[str]:
    try:
        if path.stat().st_size > 1 << 20:
            raise GanzooError(f"{path} is over 1 MiB: a captions file holds a caption a line")
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except FileNotFoundError:
        raise GanzooError(f"no captions file at {path}") from None
    except IsADirectoryError:
        raise GanzooError(f"--captions {path} is a folder: pass a text file, a caption a line") from None
    except UnicodeDecodeError:
        raise GanzooError(f"{path} is not UTF-8 text: re-save it as UTF-8") from None
    if not lines:
        raise GanzooError(f"{path} holds no caption (one caption a line)")
    return lines


def cmd_evaluate(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import evaluate

    if args.batches < 0:
        raise GanzooError("--batches must be 0 (all) or a positive number of batches")
    if args.samples < 10:
        raise GanzooError("--samples must be at least 10 (FID needs many; 2000 or more for figures to report)")
    record = evaluate(args.source, split=args.split, limit=args.batches, samples=args.samples, features=args.features,
                      weights=args.weights, seed=args.seed, direction=args.direction, device=args.device, data_dir=args.data_dir,
                      runs_dir=args.runs_dir, registry=args.registry)
    if args.json:
        return _print_json(record)
    if record["kind"] == "paired":  # a translator against its held-out targets
        table = Table("score", "value", box=None, header_style="bold")
        for key, value in record["scores"].items():
            table.add_row(key, f"{value:.4f}")
        console.print(f"{record['checkpoint']} (step {record['step']}) on the {record['split']} split, {record['items']} items:",
                      highlight=False, soft_wrap=True)
        console.print(table)
        return 0
    scores, baseline = record["scores"], (record.get("baseline") or {}).get("scores", {})
    table = Table("figure", "value", "samples vs real", "real data (baseline)", box=None, header_style="bold")
    counts = f"{record['fake_images']} vs {record['real_images']} ({record['split']})"
    for key, value in scores.items():
        if key.endswith("_std"):
            continue
        std = scores.get(f"{key}_std")
        shown = f"{value:.4g} ± {std:.2g}" if std is not None else f"{value:.4g}"
        table.add_row(key, shown, counts if key != "inception_score" else f"{record['fake_images']} samples",
                      f"{baseline[key]:.4g}" if key in baseline else "")
    features = record["features"]
    console.print(f"{record['checkpoint']} (step {record['step']}), features {features['features']} "
                  f"(weights sha256 {features['weights_sha256'][:12]}, resize {features['resize']}):", highlight=False, soft_wrap=True)
    console.print(table)
    if "baseline" in record:
        console.print(f"baseline: {record['baseline']['what']}", highlight=False, soft_wrap=True)
    return 0


def cmd_translate(args: argparse.Namespace, console: Console) -> int:
    """Any translating model on an image file or a folder; inputs are resized to the size
    the model trained on unless it translates any size. ``upscale``: tiled, never resized."""
    from torchvision.transforms.v2 import functional as TF

    from ganzoo.api import load_checkpoint, translate, translation_scale
    from ganzoo.images import process_image_files, to_model_range

    loaded = load_checkpoint(args.source, device=args.device, runs_dir=args.runs_dir, registry=args.registry)
    caps = loaded.model.capabilities
    upscale = args.command == "upscale"
    if not caps.translates:
        raise GanzooError(f"entry '{loaded.entry.name}' (model {loaded.entry.model}) does not {args.command} images"
                          + ("" if caps.translates or not caps.generates else ": use 'ganzoo sample'"))
    direction = caps.direction(args.direction)
    channels, *size = loaded.info.shape(direction.source)
    scale = translation_scale(loaded, direction.name)
    if upscale and scale <= 1:
        raise GanzooError(f"entry '{loaded.entry.name}' (model {loaded.entry.model}) does not upscale images: use 'ganzoo translate'")
    if upscale and args.tile < 0:
        raise GanzooError("--tile must be 0 (one piece) or a positive number of pixels")
    stderr = Console(stderr=True)

    def run(path: Path, pixels):
        if not upscale and not caps.any_size and list(pixels.shape[1:]) != size:
            stderr.print(f"{path.name}: resized from {pixels.shape[2]}x{pixels.shape[1]} to the model's input size "
                         f"{size[1]}x{size[0]}", highlight=False)
            pixels = TF.resize(pixels, size, antialias=True)
        tiles = {"tile": args.tile, "overlap": args.overlap} if upscale else {}
        return translate(loaded, to_model_range(pixels[None]), direction=direction.name, **tiles)

    written = process_image_files(args.inputs, args.out, run, channels)
    where = written[0] if args.inputs.is_file() else f"{len(written)} images in {args.out}"
    verb = f"upscaled {scale}x" if upscale else f"translated ({direction.name})"
    stderr.print(f"{verb} with {loaded.entry.name} (step {loaded.step}) -> {where}", highlight=False)
    return 0


def cmd_features(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import load_entry
    from ganzoo.evaluation.features import load_domain_features, train_domain_features

    if args.epochs < 1:
        raise GanzooError("--epochs must be at least 1")
    entry = load_entry(args.entry, registry=args.registry)
    path = train_domain_features(entry, args.registry, args.data_dir, epochs=args.epochs, force=args.force)
    protocol = load_domain_features(path).protocol
    console.print(f"domain feature network of '{entry.dataset}': {path} (held-out accuracy "
                  f"{protocol['classifier_held_out_accuracy']:.3f}, sha256 {protocol['weights_sha256'][:12]})", highlight=False, soft_wrap=True)
    return 0


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.report import write_report

    path = write_report(args.run_dir)
    if args.json:
        return _print_json({"run_dir": str(args.run_dir), "report": str(path)})
    console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    return 0


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.report import compare_runs

    header, rows = compare_runs(args.run_dirs)
    if args.json:
        figures = [row[0] for row in rows]  # the table has a column per run and a row per figure
        return _print_json({"figures": figures, "runs": [{"run_dir": name, **{f: (row[i] if row[i] != "" else None)
                                                                                for f, row in zip(figures, rows)}}
                                                         for i, name in enumerate(header[1:], start=1)]})
    table = Table(*header, box=None, header_style="bold")
    for row in rows:
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v if v is not None else "") for v in row])
    console.print(table)
    return 0


def cmd_new_plugin(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.scaffold import new_plugin

    root = new_plugin(args.name, args.dir)
    console.print(f"wrote {root}/: pip install -e {root} && ganzoo list '{args.name}*' && ganzoo run {args.name}-mnist-5k",
                  highlight=False, soft_wrap=True)
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import export

    folder = export(args.source, args.out, discriminator=args.discriminator, license=args.license, runs_dir=args.runs_dir,
                    registry=args.registry, onnx=args.format == "onnx")
    files = ", ".join(sorted(p.name for p in folder.iterdir()))
    console.print(f"exported {args.source} -> {folder} ({files})", highlight=False, soft_wrap=True)
    return 0


def cmd_push(args: argparse.Namespace, console: Console) -> int:
    from ganzoo.api import push

    url = push(args.source, args.repo, private=args.private, message=args.message, revision=args.revision,
               runs_dir=args.runs_dir, registry=args.registry)
    console.print(f"pushed {args.source} -> {url}; load it with hf://{args.repo}", highlight=False, soft_wrap=True)
    return 0


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise GanzooError("the demo page needs Gradio: pip install 'ganzoo[demo]'") from None
    from ganzoo import demo

    if args.export_space:
        folder = demo.export_space(args.source, args.export_space, runs_dir=args.runs_dir, registry=args.registry)
        console.print(f"a Hugging Face Space in {folder}: app.py, requirements.txt, README.md, model/ (try it: cd {folder} "
                      "&& python app.py)", highlight=False, soft_wrap=True)
        return 0
    model, error = demo.load(args.source, device=args.device, runs_dir=args.runs_dir, registry=args.registry)
    if error:
        Console(stderr=True).print(f"warning: {error} (the page says so)", highlight=False, soft_wrap=True)
    blocks = demo.page(model, error, data_dir=args.data_dir)
    Console(stderr=True).print(f"serving {args.source} (Ctrl-C stops)", highlight=False)
    demo.serve(blocks, host=args.host, port=args.port, share=args.share)
    return 0


COMMANDS = {"new-plugin": cmd_new_plugin, "list": cmd_list, "plugins": cmd_plugins, "info": cmd_info, "run": cmd_run, "sample": cmd_sample,
            "translate": cmd_translate, "upscale": cmd_translate, "evaluate": cmd_evaluate, "features": cmd_features,
            "report": cmd_report, "compare": cmd_compare, "export": cmd_export, "push": cmd_push,
            "demo": cmd_demo}

if __name__ == "__main__":
    sys.exit(main())
