"""Screenshots of `ganzoo demo` for each kind of model, from headless Chromium.

Trains a short run of one entry per kind of page (noise, class-conditional, text,
translator, super-resolution) with the small networks their plugins declare for tests,
serves each page on a loopback port, presses its button (uploading an image where the
page asks for one) and saves the page as docs/images/demo-KIND.png.

Needs `pip install 'ganzoo[demo]' playwright` and a Chromium (Debian: `apt-get install
chromium`; Playwright's own browser download is not used):

    python benchmarks/demo_screenshots.py [--steps 60] [--chromium /usr/bin/chromium]
    python benchmarks/demo_screenshots.py --run noise=runs/dcgan-mnist-5k/TIMESTAMP   # a trained run for a kind
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
from pathlib import Path

import ganzoo
from ganzoo import demo

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"noise": "dcgan-mnist-5k", "class": "cdcgan-mnist-5k", "text": "stackgan-digits", "translator": "pix2pix-digit-edges",
         "sr": "srgan-photos"}
BUTTONS = {"generate": "Generate", "translate": "Translate", "upscale": "Upscale"}


def small(registry, name: str, steps: int) -> list[str]:
    entry = registry.entry(name)
    model, data = registry.spec("model", entry.model), registry.spec("dataset", entry.dataset)
    phases = [p.name for p in getattr(model.build, "phases", ())]
    train = ([f"train.phase_steps={json.dumps({p: steps // len(phases) for p in phases})}", "train.steps=0"] if len(phases) > 1
             else [f"train.steps={steps}"])
    return ([f"model_options.{k}={json.dumps(v)}" for k, v in model.tiny_options.items()]
            + [f"dataset_options.{k}={json.dumps(v)}" for k, v in data.tiny_options.items()]
            + ["train.batch_size=8", "train.sample_every=0", "train.checkpoint_every=0", "train.epochs=0", "train.eval_batches=1", *train])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--run", action="append", default=[], metavar="KIND=RUN", help="use this run for KIND instead of training one")
    parser.add_argument("--only", nargs="*", choices=sorted(KINDS), help="these kinds only")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    registry = ganzoo.load_registry()
    work = Path(tempfile.mkdtemp(prefix="ganzoo-shots-"))
    photo = work / "photo.png"
    from skimage import data as photos
    from PIL import Image

    Image.fromarray(photos.chelsea()[100:196, 150:278]).save(photo)  # a 128 x 96 crop of a cat
    outline = work / "outline.png"
    args.out.mkdir(parents=True, exist_ok=True)
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=flags)
        given = dict(item.split("=", 1) for item in args.run)
        for kind, name in KINDS.items():
            if args.only and kind not in args.only:
                continue
            source = given.get(kind) or ganzoo.train(name, overrides=small(registry, name, args.steps), run_dir=work / kind,
                                                     registry=registry).run_dir
            model, error = demo.load(source, registry=registry)
            if kind == "translator":  # one of the entry's own held-out inputs
                examples = model.examples(None, work)
                outline = examples[0] if examples else photo
            blocks = demo.page(model, error)
            port = free_port()
            demo.serve(blocks, port=port, block=False)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                if model.kind == "generate" and model.caps.condition == "text":
                    page.get_by_label("caption").fill("a thick seven slanted to the right")
                if model.kind in ("translate", "upscale"):
                    page.locator("input[type=file]").first.set_input_files(str(outline if kind == "translator" else photo))
                    page.wait_for_timeout(1000)
                page.get_by_role("button", name=BUTTONS[model.kind]).click()
                page.wait_for_selector("img[src*='file=']", timeout=120_000)
                page.wait_for_timeout(1500)
                path = args.out / f"demo-{kind}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"{kind}: {name} -> {path}")
            finally:
                blocks.close()
        browser.close()


if __name__ == "__main__":
    main()
