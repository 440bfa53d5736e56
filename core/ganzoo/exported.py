"""Exported models: a self-contained folder with what inference needs, and what it is.

``ganzoo export RUN --out DIR`` writes (the one owner of this layout, reading and writing)::

    model.safetensors   the weights for inference: every network but the discriminators
                        (unless asked), the moving averages in place of the generators
                        when the run kept them; no optimizer, no training-only state
    config.json         the resolved entry, the data description, the plugins (and their
                        distributions and versions) that provide the model, ganzoo's
                        version, the step and phase, and the weights' SHA-256
    README.md           a model card in the Hugging Face Hub's format (see ``card.py``)
    samples.png         a sample grid (the run's own, or drawn now)
    model.onnx          with ``--format onnx``: the generator (noise [+ label] -> image) or
                        the translator (image -> image; ``model-DIRECTION.onnx`` for each
                        direction of a model with several), batch size dynamic, checked
                        against PyTorch's outputs with onnxruntime to ONNX_TOLERANCE

Loading reads only tensors (safetensors) and JSON: nothing in the folder can run code. A
folder whose weights do not fit the model its config names is refused in one line that
says what differs; a folder whose plugin is missing names the distribution to install.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from ganzoo._version import __version__
from ganzoo.build import build_model
from ganzoo.checkpoints import LoadedModel, entry_of
from ganzoo.config import build_config
from ganzoo.errors import CheckpointError, ConfigError
from ganzoo.model import DISCRIMINATOR
from ganzoo.plugins import Registry
from ganzoo.rundir import write_text_atomic
from ganzoo.specs import DataInfo
from ganzoo.weights import load_tensors, sha256

FORMAT = "ganzoo-export"
FORMAT_VERSION = 1
WEIGHTS, CONFIG, CARD, SAMPLES = "model.safetensors", "config.json", "README.md", "samples.png"
FILES = [WEIGHTS, CONFIG, CARD, SAMPLES, "*.onnx"]  # what an export holds: what is downloaded and uploaded
ONNX_TOLERANCE = 1e-4  # largest absolute difference of an ONNX output from PyTorch's (outputs lie in [-1, 1])


def is_export(path: Path) -> bool:
    return path.is_dir() and (path / CONFIG).is_file()


def inference_state(loaded: LoadedModel, discriminator: bool = False) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The tensors an export keeps (contiguous, unshared copies) and the networks they cover."""
    model = loaded.model
    dropped = [] if discriminator else list(model.named_networks(DISCRIMINATOR))
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()
             if k.split(".")[0] not in dropped}
    return state, [name for name in model.networks if name not in dropped]


def export_model(loaded: LoadedModel, out: Path, registry: Registry, *, discriminator: bool = False,
                 license: str = "other", onnx: bool = False) -> Path:
    """Write ``loaded`` as an exported folder ``out`` (new or empty); the folder."""
    from safetensors.torch import save_file

    from ganzoo.card import model_card

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} exists and is not an empty folder: choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    state, networks = inference_state(loaded, discriminator)
    save_file(state, str(out / WEIGHTS), metadata={"format": FORMAT, "entry": loaded.entry.name})
    config = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "ganzoo_version": __version__,
        "entry": loaded.entry.to_dict(), "data_info": dataclasses.asdict(loaded.info), "provenance": loaded.provenance,
        "step": loaded.step, "phase": loaded.model.phase, "networks": networks, "weights": WEIGHTS,
        "weights_sha256": sha256(out / WEIGHTS),
    }
    if onnx:
        config["onnx"] = export_onnx(loaded, out)
    write_text_atomic(out / CONFIG, json.dumps(config, indent=2) + "\n")
    _sample_grid(loaded, out / SAMPLES)
    write_text_atomic(out / CARD, model_card(loaded, config, registry, license=license,
                                             has_samples=(out / SAMPLES).is_file()))
    for path in out.iterdir():
        path.chmod(0o644)  # a folder to share: readable by all (temporary files are created private)
    return out


class _Sampler(torch.nn.Module):
    """noise (B, latent_dim) [, labels (B,)] -> images (B, C, H, W) in [-1, 1]."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, latent: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.sample(latent.shape[0], label, latent=latent)


class _Translator(torch.nn.Module):
    """images (B, C, H, W) -> images, in one direction."""

    def __init__(self, model: torch.nn.Module, direction: str) -> None:
        super().__init__()
        self.model, self.direction = model, direction

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.translate(image, self.direction)


def _onnx_programs(loaded: LoadedModel) -> list[tuple[str, torch.nn.Module, dict[str, torch.Tensor]]]:
    """(file name, module, example inputs by name) of each ONNX file a model exports to."""
    model, caps, info = loaded.model, loaded.model.capabilities, loaded.info
    if caps.generates:
        if caps.condition not in (None, "", "class"):
            raise ConfigError(f"ONNX export covers models that sample from noise or a class label, not '{caps.condition}' "
                              f"conditions (model '{loaded.entry.model}'): export the safetensors folder instead")
        inputs = {"latent": torch.randn(2, model.latent_dim)}
        if caps.condition == "class":
            inputs["label"] = torch.arange(2) % model.num_classes
        return [("model.onnx", _Sampler(model).eval(), inputs)]  # eval: the exporter restores the wrapper's mode on all of it
    several = len(caps.directions) > 1
    return [(f"model-{d.name}.onnx" if several else "model.onnx", _Translator(model, d.name).eval(),
             {"image": torch.rand(2, *info.shape(d.source)) * 2 - 1}) for d in caps.directions]


def export_onnx(loaded: LoadedModel, out: Path) -> dict[str, Any]:
    """Write the ONNX files of ``loaded`` into ``out``, each checked with onnxruntime on
    another batch size; what was written and the largest difference measured."""
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError("ONNX export needs onnx and onnxruntime: pip install 'ganzoo[onnx]'") from None
    written: dict[str, Any] = {}
    loaded.model.to("cpu").eval()  # the programs below are its networks
    for name, module, inputs in _onnx_programs(loaded):
        names = list(inputs)
        axes = {k: {0: "batch"} for k in [*names, "output"]}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation notices
            torch.onnx.export(module, tuple(inputs.values()), str(out / name), input_names=names, output_names=["output"],
                              dynamic_axes=axes, dynamo=False)
            check = {k: torch.cat([v, v, v[:1]]) for k, v in inputs.items()}  # batch 5: the batch axis is dynamic
            expected = module(*check.values()).numpy()
        session = onnxruntime.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])
        got = session.run(None, {k: v.numpy() for k, v in check.items()})[0]
        difference = float(abs(got - expected).max())
        if difference > ONNX_TOLERANCE:
            (out / name).unlink()
            raise CheckpointError(f"the ONNX export of '{loaded.entry.name}' differs from PyTorch by {difference:.2g} "
                                  f"(more than {ONNX_TOLERANCE}): not written")
        written[name] = {"inputs": {k: [("batch" if i == 0 else d) for i, d in enumerate(v.shape)] for k, v in inputs.items()},
                         "output": "image in [-1, 1], (batch, C, H, W)", "max_abs_difference": difference,
                         "tolerance": ONNX_TOLERANCE, "opset": "torch.onnx default (TorchScript-based exporter)"}
    return written


def _sample_grid(loaded: LoadedModel, path: Path) -> None:
    """The run's final grid when there is one, else 64 samples of a model that samples from noise."""
    run_dir = loaded.run_dir
    if run_dir is not None and (run_dir / SAMPLES).is_file():
        shutil.copyfile(run_dir / SAMPLES, path)
        return
    caps = loaded.model.capabilities
    if caps.generates and caps.condition != "text":
        from ganzoo.images import save_images

        condition = torch.arange(64) % loaded.model.num_classes if caps.condition == "class" else None
        with torch.no_grad():
            images = loaded.model.sample(64, condition, rng=torch.Generator().manual_seed(0))
        save_images(images, path)


def read_config(folder: Path) -> dict[str, Any]:
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{folder / CONFIG} is not readable JSON ({type(e).__name__}): export the model again") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{folder} is not a ganzoo export (its {CONFIG} has no \"format\": \"{FORMAT}\")")
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{folder} is export format {config.get('format_version')}; this ganzoo reads {FORMAT_VERSION}: "
                              "upgrade ganzoo")
    return config


def load_export(registry: Registry, folder: Path, device: torch.device, *, expected_sha256: str = "") -> LoadedModel:
    """The model of an exported folder, on ``device``, in eval mode."""
    config = read_config(folder)
    weights = folder / str(config.get("weights", WEIGHTS))
    if not weights.is_file() or weights.suffix != ".safetensors":
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in (".pt", ".pth", ".bin", ".ckpt", ".pkl"))
        found = f" (found {', '.join(pickles)}: pickles are never loaded from an export)" if pickles else ""
        raise CheckpointError(f"{folder} has no {WEIGHTS}{found}; export the model with 'ganzoo export'")
    found = sha256(weights) if expected_sha256 else ""
    if found != expected_sha256:
        raise CheckpointError(f"{weights} has SHA-256 {found[:16]}..., not the {expected_sha256[:16]}... its zoo entry "
                              "pins: a changed or corrupted download; delete it from the Hugging Face cache and fetch it again")
    entry = entry_of(registry, config, (), str(folder))
    info = build_config(DataInfo, config["data_info"], f"{folder / CONFIG}: data_info")
    model = build_model(registry, entry, info)
    state = load_tensors(weights, what="exported weights", error=CheckpointError)
    _check_fits(model, state, config, folder)
    model.load_state_dict(state, strict=False)
    model.to(device)
    model.set_phase(config.get("phase") or model.phases[0].name)
    model.eval()
    return LoadedModel(entry, model, int(config.get("step", 0)), weights, info, provenance=config.get("provenance") or {},
                       exported=True)


def _check_fits(model: torch.nn.Module, state: dict[str, torch.Tensor], config: dict[str, Any], folder: Path) -> None:
    """Refuse weights that do not fit the model the config names, saying what differs."""
    expected = model.state_dict()
    kept = set(config.get("networks") or [])
    needed = {k for k in expected if k.split(".")[0] in kept or k.split(".")[0] not in model.networks}
    missing = sorted(needed - state.keys())
    unexpected = sorted(state.keys() - expected.keys())
    shapes = sorted(k for k in state.keys() & expected.keys() if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or shapes:
        parts = [f"{len(missing)} missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                 f"{len(shapes)} of another shape (e.g. {shapes[0]}: {tuple(state[shapes[0]].shape)} here, "
                 f"{tuple(expected[shapes[0]].shape)} in model '{config['entry'].get('model')}')" if shapes else ""]
        raise CheckpointError(f"the weights in {folder} do not fit model '{config['entry'].get('model')}' of entry "
                              f"'{config['entry'].get('name')}': {', '.join(p for p in parts if p)}")
