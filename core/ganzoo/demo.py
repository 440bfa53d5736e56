"""``ganzoo demo SOURCE``: a page in the browser for any trained model, built on Gradio.

The page follows the model's capabilities, never its name:

- a model that generates from noise gets a seed, a number of images and a grid; a class
  picker when it is class-conditional, a caption box (with the words it does not know
  shown) when it is text-conditional; and a latent interpolation between two seeds, as a
  strip and an animated GIF;
- a translating model gets an upload (or one of the entry's held-out examples), its
  output beside it, and a direction picker when it has several;
- a super-resolving one (a translation whose output is larger than its input) gets the
  tile size, bicubic and the model side by side, a zoomed crop, and the full-size result
  to download.

Beside the model: the entry's description, its training facts and the figures of its
``metrics.json`` with their protocol. :class:`DemoModel` is the model behind the page,
loaded once; its methods are what the page's buttons call, and they compute exactly what
``ganzoo sample`` / ``translate`` / ``upscale`` do for the same inputs and seed. Bad
input raises a one-line :class:`ganzoo.GanzooError`, which the page shows as a message.
"""

from __future__ import annotations

import json
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganzoo.api import load_checkpoint, sample, translate, translation_scale
from ganzoo.checkpoints import LoadedModel
from ganzoo.errors import ConfigError, DataError, GanzooError
from ganzoo.card import figure_lines
from ganzoo.images import grid, read_image, to_array, to_model_range, to_uint8, write_png
from ganzoo.rundir import read_json
from ganzoo.seeding import seeded

MAX_IMAGES = 64  # images a visitor may ask for at once
MAX_FRAMES = 32  # frames of an interpolation
MAX_UPLOAD_PIXELS = 2048 * 2048  # an upload above this is refused (a CPU serves the page); --max-upload-pixels changes it
MAX_FILE_SIZE = "20mb"  # Gradio refuses bigger uploads before they reach ganzoo
ZOOM = 4  # the zoomed crop of a super-resolved image is enlarged this many times (nearest)
SHOWN = 360  # pixels of height small outputs are shown at (a 28 px digit grid would be a stamp); downloads keep their size
CSS = ".ganzoo-enlarged img {width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated}"  # enlarged, sharp


class DemoModel:
    """A trained model and what its page can ask of it. Requests run one at a time."""

    def __init__(self, loaded: LoadedModel, max_upload_pixels: int = MAX_UPLOAD_PIXELS, registry: Any = None) -> None:
        self.loaded = loaded
        self.registry = registry  # the plugins, for the held-out examples (default: the installed ones)
        self.caps = loaded.model.capabilities
        self.max_upload_pixels = max_upload_pixels
        self.lock = threading.Lock()  # the queue serialises requests already; this keeps direct callers safe too
        self.device = next(loaded.model.parameters()).device

    # ------------------------------------------------------------ what the page shows

    @property
    def kind(self) -> str:
        """``generate``, ``translate`` or ``upscale``: which page the model gets."""
        if self.caps.generates:
            return "generate"
        return "upscale" if any(translation_scale(self.loaded, d.name) > 1 for d in self.caps.directions) else "translate"

    @property
    def classes(self) -> int:
        return self.loaded.model.num_classes if self.caps.condition == "class" else 0

    def facts(self) -> str:
        """Markdown: what the visitor is looking at (entry, training, figures with protocol)."""
        loaded, entry = self.loaded, self.loaded.entry
        lines = [f"### {entry.name}", "", entry.description or "", "",
                 f"model `{entry.model}`, dataset `{entry.dataset}`, loss `{entry.loss}`, trained {loaded.step:,} steps"]
        run = read_json(loaded.run_dir / "run.json") if loaded.run_dir else {}
        if run:
            lines.append(f"on {run.get('device', '?')} in {run.get('train_seconds', 0):,.0f} s ({run.get('precision', '?')}), "
                         f"ganzoo {run.get('ganzoo', '?')}, torch {run.get('torch', '?')}")
        metrics = read_json(loaded.run_dir / "metrics.json") if loaded.run_dir else {}
        lines += ["", *figure_lines(metrics)]  # as the model card shows them: figures with their protocol
        if not metrics:
            lines += ["", "No figures measured yet: `ganzoo evaluate` writes them."]
        return "\n".join(lines)

    # ------------------------------------------------------------ generating

    def generate(self, seed: int, n: int, label: int | None = None, text: str | None = None) -> tuple[Tensor, str]:
        """``n`` samples for ``seed`` as one grid (what ``ganzoo sample --seed --n --out x.png``
        writes), and a note naming the words of ``text`` the model does not know."""
        n = _check_count("number of images", n, MAX_IMAGES)
        seed = _check_seed(seed)
        note = self._unknown_words(text)
        with self.lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown words are in the note
            images = sample(self.loaded, n, label=self._label(label), text=self._text(text), seed=seed)
        return grid(images, self.loaded.model.preview_columns() or None), note

    def interpolate(self, seed_a: int, seed_b: int, frames: int, label: int | None = None,
                    text: str | None = None) -> list[Tensor]:
        """``frames`` images walking (spherically) from seed ``seed_a``'s noise to ``seed_b``'s,
        the condition fixed: the first and last are ``generate(seed, 1)``'s image."""
        frames = _check_count("frames", frames, MAX_FRAMES, low=2)
        model = self.loaded.model
        ends = [model.sample_latent(1, self.device, torch.Generator(self.device).manual_seed(_check_seed(s))) for s in (seed_a, seed_b)]
        t = torch.linspace(0, 1, frames, device=self.device)[:, None]
        latent = _slerp(ends[0], ends[1], t)
        latent[0], latent[-1] = ends[0][0], ends[1][0]  # exactly the seeds' noise, not a rounding away
        condition = None
        label, text = self._label(label), self._text(text)
        if label is not None:
            condition = torch.full((frames,), label, device=self.device, dtype=torch.long)
        elif self.caps.condition == "class":
            condition = torch.zeros(frames, device=self.device, dtype=torch.long)
        if text is not None:
            condition = model.encode_text([text])[0].expand(frames, -1)
        with self.lock, torch.no_grad(), seeded(_check_seed(seed_a), self.device):
            images = model.sample(frames, condition, latent=latent).float()
        return list(to_uint8(images))

    def _label(self, label: Any) -> int | None:
        if self.caps.condition != "class" or label in (None, ""):
            return None
        try:
            value = int(label)
        except (TypeError, ValueError):
            raise ConfigError(f"the class must be a number from 0 to {self.classes - 1}") from None
        if not 0 <= value < self.classes:
            raise ConfigError(f"the class must be a number from 0 to {self.classes - 1}, got {value}")
        return value

    def _text(self, text: str | None) -> str | None:
        if self.caps.condition != "text":
            return None
        if not text or not text.strip():
            raise ConfigError("write a caption: this model draws images for captions")
        return text

    def _unknown_words(self, text: str | None) -> str:
        if self.caps.condition != "text" or not text or not text.strip():
            return ""
        unknown = self.loaded.model.encode_text([text])[1]
        return f"Words the model has never seen, ignored: {', '.join(unknown)}" if unknown else ""

    # ------------------------------------------------------------ translating

    def read(self, path: str | Path | None, direction: str | None = None) -> Tensor:
        """An uploaded file as the model's input (uint8, C x H x W), read as ``ganzoo
        translate`` reads it: any mode converted, oversized uploads refused."""
        if not path:
            raise DataError("upload an image first")
        channels = self.loaded.info.shape(self.caps.direction(direction).source)[0]
        from PIL import Image

        try:
            with Image.open(path) as img:
                pixels = img.width * img.height
                if pixels > self.max_upload_pixels:
                    raise DataError(f"the image is {img.width}x{img.height} pixels; this page takes at most "
                                    f"{self.max_upload_pixels:,} pixels (about {int(self.max_upload_pixels ** 0.5)} x "
                                    f"{int(self.max_upload_pixels ** 0.5)}): downscale it, or use 'ganzoo upscale' on the command line")
        except (OSError, Image.DecompressionBombError):
            pass  # read_image says what is wrong with it
        return read_image(path, channels)

    def fit(self, pixels: Tensor, direction: str | None = None) -> Tensor:
        """``pixels`` as the model takes them: resized to the training size (as ``ganzoo
        translate`` does) unless the model translates any size."""
        from torchvision.transforms.v2 import functional as TF

        size = list(self.loaded.info.shape(self.caps.direction(direction).source)[1:])
        if self.caps.any_size or list(pixels.shape[1:]) == size:
            return pixels
        return TF.resize(pixels, size, antialias=True)

    def translate(self, pixels: Tensor, direction: str | None = None) -> Tensor:
        """The model's output for ``pixels`` (uint8), as ``ganzoo translate`` computes it."""
        name = self.caps.direction(direction).name
        with self.lock:
            return to_uint8(translate(self.loaded, to_model_range(self.fit(pixels, name)[None]), direction=name))[0]

    def upscale(self, pixels: Tensor, tile: int = 0, direction: str | None = None) -> tuple[Tensor, Tensor]:
        """Bicubic and the model, both at the output size, as ``ganzoo upscale --tile`` computes
        the model's (tiles of ``tile`` pixels, 0: one piece)."""
        from torchvision.transforms.v2 import functional as TF

        tile = _check_count("tile", tile, 4096, low=0)
        d = self.caps.direction(direction)
        with self.lock:
            out = to_uint8(translate(self.loaded, to_model_range(pixels[None]), direction=d.name, tile=tile))[0]
        bicubic = TF.resize(pixels, list(out.shape[1:]), interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
        if bicubic.shape[0] != out.shape[0]:
            bicubic = bicubic.expand(out.shape[0], -1, -1)
        return bicubic, out

    def examples(self, data_dir: Path | None, folder: Path, n: int = 4) -> list[Path]:
        """Up to ``n`` inputs of the entry's held-out split as PNGs in ``folder`` (none when the
        data is not on this machine)."""
        from ganzoo.build import load_data
        from ganzoo.data.batches import spread_items
        from ganzoo.plugins import load_registry

        source = self.caps.direction().source
        try:
            registry = self.registry or load_registry()
            split = registry.spec("dataset", self.loaded.entry.dataset).eval_split
            if not split:
                return []
            batch = spread_items(load_data(registry, self.loaded.entry, data_dir, split), n, torch.device("cpu"))
        except (GanzooError, OSError):
            return []
        paths = []
        for i, image in enumerate(to_uint8(batch[source])):
            paths.append(write_png(image, folder / f"example-{i}.png"))
        return paths


def zoomed_crop(bicubic: Tensor, model: Tensor, size: int = 48) -> Tensor:
    """The centre ``size`` x ``size`` of both outputs side by side, enlarged ``ZOOM`` times."""
    _, h, w = model.shape
    size = min(size, h, w)
    top, left = (h - size) // 2, (w - size) // 2
    crops = [t[:, top : top + size, left : left + size] for t in (bicubic, model)]
    pair = torch.cat([crops[0], torch.full_like(crops[0][:, :, :2], 255), crops[1]], dim=2)
    return pair.repeat_interleave(ZOOM, dim=1).repeat_interleave(ZOOM, dim=2)


def _slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between noise vectors (Gaussian noise lives near a sphere)."""
    cos = torch.nn.functional.cosine_similarity(a, b).clamp(-1, 1)
    omega = torch.arccos(cos)
    if float(omega) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def _check_count(what: str, value: Any, high: int, low: int = 1) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"the {what} must be a whole number from {low} to {high}")
    return value


def _check_seed(seed: Any) -> int:
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConfigError("the seed must be a whole number from 0")
    return seed


# ---------------------------------------------------------------- the page


def page(demo: DemoModel | None, error: str = "", data_dir: Path | None = None) -> Any:
    """The Gradio page of ``demo``; with ``error`` (a model that could not be loaded), a page
    that says so and what to do."""
    import gradio as gr

    def safe(fn):  # bad input: a message on the page (gr.Error), never a stack trace
        def call(*args):
            try:
                return fn(*args)
            except GanzooError as e:
                raise gr.Error(str(e)) from None

        call.__name__ = fn.__name__
        return call

    title = f"ganzoo: {demo.loaded.entry.name}" if demo else "ganzoo demo"
    with gr.Blocks(title=title) as blocks:
        if demo is None:
            gr.Markdown(f"## This model cannot be loaded here\n\n{error}")
            return blocks
        with gr.Row():
            with gr.Column(scale=3):
                kind = demo.kind
                if kind == "generate":
                    _generate_controls(gr, demo, safe)
                elif kind == "translate":
                    _translate_controls(gr, demo, safe, data_dir)
                else:
                    _upscale_controls(gr, demo, safe)
            with gr.Column(scale=2):
                gr.Markdown(demo.facts())
    return blocks


def _generate_controls(gr: Any, demo: DemoModel, safe: Any) -> None:
    label = text = None
    with gr.Tab("Samples"):
        with gr.Row():
            seed = gr.Number(value=0, precision=0, minimum=0, label="seed")
            n = gr.Slider(1, MAX_IMAGES, value=16, step=1, label="images")
        if demo.classes:
            label = gr.Dropdown([str(c) for c in range(demo.classes)], value=None, label="class (empty: every class in turn)")
        if demo.caps.condition == "text":
            text = gr.Textbox(label="caption", placeholder="a caption in the words of the training captions")
        button = gr.Button("Generate", variant="primary")
        out = gr.Image(label="samples", format="png", type="numpy", height=SHOWN, elem_classes=["ganzoo-enlarged"])
        note = gr.Markdown()
        inputs = [seed, n] + [c for c in (label, text) if c is not None]

        def run(seed, n, *condition):
            grid_, words = demo.generate(seed, n, *_condition(demo, condition))
            return to_array(grid_), words

        button.click(safe(run), inputs, [out, note], api_name="generate", concurrency_id="model")
    with gr.Tab("Interpolation"):
        with gr.Row():
            seed_a = gr.Number(value=0, precision=0, minimum=0, label="from seed")
            seed_b = gr.Number(value=1, precision=0, minimum=0, label="to seed")
            frames = gr.Slider(2, MAX_FRAMES, value=8, step=1, label="frames")
        button = gr.Button("Interpolate", variant="primary")
        strip = gr.Image(label="strip", format="png", type="numpy", height=SHOWN // 3, elem_classes=["ganzoo-enlarged"])
        gif = gr.File(label="animated GIF")
        extra = [c for c in (label, text) if c is not None]

        def walk(seed_a, seed_b, frames, *condition):
            images = demo.interpolate(seed_a, seed_b, frames, *_condition(demo, condition))
            path = Path(tempfile.mkdtemp(prefix="ganzoo-demo-")) / "interpolation.gif"
            from PIL import Image

            pictures = [Image.fromarray(to_array(i)) for i in images]
            pictures[0].save(path, save_all=True, append_images=[*pictures[1:], *pictures[-2:0:-1]], duration=120, loop=0)
            return to_array(torch.cat(images, dim=2)), str(path)

        button.click(safe(walk), [seed_a, seed_b, frames, *extra], [strip, gif], api_name="interpolate", concurrency_id="model")


def _condition(demo: DemoModel, values: tuple) -> tuple[Any, Any]:
    """(label, text) from the page's optional controls, in the order they were made."""
    values = list(values)
    label = values.pop(0) if demo.classes else None
    text = values.pop(0) if demo.caps.condition == "text" else None
    return label, text


def _translate_controls(gr: Any, demo: DemoModel, safe: Any, data_dir: Path | None) -> None:
    names = [d.name for d in demo.caps.directions]
    source = _upload(gr)
    direction = gr.Dropdown(names, value=names[0], label="direction", visible=len(names) > 1)
    button = gr.Button("Translate", variant="primary")
    with gr.Row():
        seen = gr.Image(label="input (as the model reads it)", format="png", type="numpy", height=SHOWN, elem_classes=["ganzoo-enlarged"])
        out = gr.Image(label="output", format="png", type="numpy", height=SHOWN, elem_classes=["ganzoo-enlarged"])
    examples = demo.examples(data_dir, Path(tempfile.mkdtemp(prefix="ganzoo-demo-")))
    if examples:
        gr.Examples([[str(p)] for p in examples], [source], label="held-out examples")

    def run(path, direction):
        pixels = demo.fit(demo.read(path, direction), direction)
        return to_array(pixels), to_array(demo.translate(pixels, direction))

    button.click(safe(run), [source, direction], [seen, out], api_name="translate", concurrency_id="model")


def _upload(gr: Any) -> Any:
    """An image upload handed over as a file: ganzoo reads it (any mode, refusals in one
    line) exactly as ``ganzoo translate`` reads a file."""
    return gr.File(label=f"image (PNG, JPEG, WebP, BMP, TIFF; at most {MAX_FILE_SIZE})", file_types=["image"], type="filepath")


def _upscale_controls(gr: Any, demo: DemoModel, safe: Any) -> None:
    source = _upload(gr)
    tile = gr.Slider(0, 1024, value=0, step=16, label="tile size (0: one piece; smaller tiles bound memory, same result)")
    button = gr.Button("Upscale", variant="primary")
    with gr.Row():
        bicubic = gr.Image(label="bicubic", format="png", type="numpy")
        model = gr.Image(label=demo.loaded.entry.name, format="png", type="numpy")
    zoom = gr.Image(label=f"centre crop x{ZOOM}: bicubic | model", format="png", type="numpy")
    download = gr.File(label="full-size result (PNG)")

    def run(path, tile):
        low, high = demo.upscale(demo.read(path), tile)
        out = Path(tempfile.mkdtemp(prefix="ganzoo-demo-")) / (Path(path).stem + "_x.png")
        return to_array(low), to_array(high), to_array(zoomed_crop(low, high)), str(write_png(high, out))

    button.click(safe(run), [source, tile], [bicubic, model, zoom, download], api_name="upscale", concurrency_id="model")


# ---------------------------------------------------------------- serving


def load(source: str | Path, device: str = "auto", runs_dir: Path | None = None, registry: Any = None) -> tuple[DemoModel | None, str]:
    """The model of ``source`` for a page, or the reason it cannot be loaded when that is a
    missing plugin (the page says which distribution to install); other errors raise."""
    from ganzoo.errors import MissingPluginError

    try:
        return DemoModel(load_checkpoint(source, device=device, runs_dir=runs_dir, registry=registry), registry=registry), ""
    except MissingPluginError as e:
        return None, str(e)


def serve(blocks: Any, host: str = "127.0.0.1", port: int | None = None, share: bool = False, block: bool = True) -> Any:
    """Start the page: one request at a time on the model (every button shares one queue: a
    CPU runs one request well, two badly), the rest queued; the page itself keeps answering."""
    blocks.queue(default_concurrency_limit=1, max_size=32)
    return blocks.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=not block, quiet=not block,
                         max_file_size=MAX_FILE_SIZE, show_error=False, css=CSS)  # Gradio prints the page's address (and share link)


# ---------------------------------------------------------------- a Hugging Face Space

SPACE_APP = '''"""The ganzoo demo page of the model in ./model, as a Hugging Face Space (written by `ganzoo demo --export-space`)."""

import os

from ganzoo.demo import load, page, serve

model, error = load("model", device="cpu")
serve(page(model, error), host=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"))  # the port: $GRADIO_SERVER_PORT, else 7860
'''


def export_space(source: str | Path, out: Path, runs_dir: Path | None = None, registry: Any = None) -> Path:
    """A folder that runs this page as a Hugging Face Space: ``app.py``, ``requirements.txt``
    (ganzoo with the demo extra, and each plugin distribution the model needs), the
    Space's ``README.md``, and the model exported into ``model/``."""
    from ganzoo._version import __version__
    from ganzoo.api import export
    from ganzoo.rundir import write_text_atomic

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--export-space {out} is not a new or empty folder")
    folder = export(source, out / "model", runs_dir=runs_dir, registry=registry)
    config = json.loads((folder / "config.json").read_text())
    distributions = sorted({p["distribution"] for p in (config.get("provenance") or {}).values()
                            if isinstance(p, dict) and p.get("distribution") and p["distribution"] != "ganzoo"})
    write_text_atomic(out / "app.py", SPACE_APP)
    write_text_atomic(out / "requirements.txt", "\n".join([f"ganzoo[demo]=={__version__}", *distributions]) + "\n")
    name = config.get("entry", {}).get("name", "ganzoo model")
    write_text_atomic(out / "README.md", f"---\ntitle: {name}\nsdk: gradio\napp_file: app.py\ntags: [ganzoo, gan]\n---\n\n"
                                         f"A ganzoo demo page of `{name}`; the model and its card are in `model/`.\n")
    return out
