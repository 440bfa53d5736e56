"""`ganzoo demo`: the Gradio page of each kind of model, started on a loopback port and
driven through gradio_client; outputs equal `ganzoo sample` / `translate` / `upscale`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.cli import main
from ganzoo.images import grid, read_image, to_uint8
from conftest import needs
from test_zoo import REGISTRY, small_overrides

needs("gradio")
needs("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from ganzoo import demo  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny checkpoint of each kind: noise, class-conditional, text, translator, super-resolution."""
    root = tmp_path_factory.mktemp("demo-runs")
    made = {}
    for kind, name in (("noise", "dcgan-mnist-5k"), ("class", "cdcgan-mnist-5k"), ("text", "stackgan-digits"),
                       ("translator", "pix2pix-digit-edges"), ("sr", "srgan-photos")):
        overrides = small_overrides(REGISTRY.entry(name))
        made[kind] = ganzoo.train(name, overrides=overrides, run_dir=root / kind, device="cpu", registry=REGISTRY).run_dir
    return made


def pixels(path) -> torch.Tensor:
    return read_image(path, 3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """A model's page served on a loopback port, with a client."""

    def __init__(self, model: demo.DemoModel | None, error: str = "") -> None:
        self.blocks = demo.page(model, error)
        self.port = free_port()
        demo.serve(self.blocks, port=self.port, block=False)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.client = Client(self.url, verbose=False) if model is not None else None

    def close(self) -> None:
        self.blocks.close()


@pytest.fixture
def page():
    pages = []

    def open_page(source, registry=REGISTRY, **options) -> Page:
        model, error = demo.load(source, device="cpu", registry=registry)
        if model is not None and options:
            model = demo.DemoModel(model.loaded, **options)
        pages.append(Page(model, error))
        return pages[-1]

    yield open_page
    for p in pages:
        p.close()


def test_a_noise_model_generates_interpolates_and_says_what_it_is(runs, page):
    p = page(runs["noise"])
    image, note = p.client.predict(3, 8, api_name="/generate")
    expected = grid(ganzoo.sample(runs["noise"], 8, seed=3, registry=REGISTRY, device="cpu"))
    assert torch.equal(pixels(image), expected) and note == ""

    strip, gif = p.client.predict(5, 9, 4, api_name="/interpolate")
    frames = pixels(strip)
    assert frames.shape[1:] == (28, 4 * 28)  # four 28 px digits side by side
    first, last = (to_uint8(ganzoo.sample(runs["noise"], 1, seed=s, registry=REGISTRY, device="cpu"))[0] for s in (5, 9))
    for frame, end in ((frames[:, :, :28], first), (frames[:, :, -28:], last)):  # the walk ends at both seeds' images
        assert (frame.int() - end.int()).abs().max() <= 1  # (a batch of 4 rounds a hair differently from a batch of 1)
    with Image.open(gif) as animation:  # there and back (4 + 2 frames of 120 ms; Pillow merges frames that repeat)
        shown = 0
        for i in range(animation.n_frames):
            animation.seek(i)
            shown += animation.info["duration"]
        assert shown == 6 * 120 and animation.info.get("loop") == 0

    with pytest.raises(AppError, match="less than minimum value 1"):
        p.client.predict(3, 0, api_name="/generate")
    with pytest.raises(AppError, match="the frames must be a whole number from 2 to 32"):
        p.client.predict(0, 1, 2.5, api_name="/interpolate")
    facts = urllib.request.urlopen(f"{p.url}config", timeout=10).read().decode()
    assert "dcgan-mnist-5k" in facts and "trained 2 steps" in facts


def test_a_class_conditional_model_gets_a_class_picker(runs, page):
    p = page(runs["class"])
    image, _ = p.client.predict(1, 10, "7", api_name="/generate")
    expected = grid(ganzoo.sample(runs["class"], 10, label=7, seed=1, registry=REGISTRY, device="cpu"), 10)
    assert torch.equal(pixels(image), expected)
    every, _ = p.client.predict(1, 10, None, api_name="/generate")  # no class: every class in turn, one per column
    assert torch.equal(pixels(every), grid(ganzoo.sample(runs["class"], 10, seed=1, registry=REGISTRY, device="cpu"), 10))
    with pytest.raises(AppError):
        p.client.predict(1, 10, "12", api_name="/generate")  # not one of the classes offered


def test_a_text_model_gets_a_caption_box_and_names_unknown_words(runs, page):
    p = page(runs["text"])
    caption = "a thick seven slanted to the right"
    image, note = p.client.predict(2, 4, caption, api_name="/generate")
    expected = grid(ganzoo.sample(runs["text"], 4, text=caption, seed=2, registry=REGISTRY, device="cpu"))
    assert torch.equal(pixels(image), expected) and note == ""
    _, note = p.client.predict(2, 4, "a zebra seven", api_name="/generate")
    assert note == "Words the model has never seen, ignored: zebra"
    with pytest.raises(AppError, match="write a caption"):
        p.client.predict(2, 4, "   ", api_name="/generate")
    strip, _ = p.client.predict(0, 1, 3, caption, api_name="/interpolate")
    assert pixels(strip).shape[2] == 3 * pixels(strip).shape[1]


def digit_png(path: Path, size: int = 28) -> Path:
    g = torch.Generator().manual_seed(0)
    Image.fromarray((torch.rand(size, size, generator=g) * 255).to(torch.uint8).numpy()).save(path)
    return path


def test_a_translator_shows_its_output_beside_the_input_as_ganzoo_translate_writes_it(runs, page, tmp_path):
    p = page(runs["translator"])
    source = digit_png(tmp_path / "outline.png", size=40)  # not the training size: resized as `translate` does
    seen, out = p.client.predict(handle_file(str(source)), "translate", api_name="/translate")
    assert read_image(seen, 1).shape == (1, 32, 32)  # shown beside the output as the model reads it: resized
    assert main(["translate", str(runs["translator"]), str(source), "--out", str(tmp_path / "cli.png"), "--device", "cpu"]) == 0
    assert torch.equal(read_image(out, 1), read_image(tmp_path / "cli.png", 1))
    assert demo.DemoModel(ganzoo.load_checkpoint(runs["translator"], device="cpu", registry=REGISTRY)).examples(
        None, tmp_path) != []  # held-out examples to pick from

    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(AppError, match="cannot read image"):
        p.client.predict(handle_file(str(tmp_path / "notes.png")), "translate", api_name="/translate")


def test_super_resolution_shows_bicubic_beside_the_model_and_offers_the_full_size_result(runs, page, tmp_path):
    p = page(runs["sr"])
    photo = tmp_path / "photo.png"
    Image.fromarray((torch.rand(72, 80, 3, generator=torch.Generator().manual_seed(1)) * 255).to(torch.uint8).numpy()).save(photo)
    bicubic, model, zoom, download = p.client.predict(handle_file(str(photo)), 64, api_name="/upscale")  # in tiles
    assert main(["upscale", str(runs["sr"]), str(photo), "--out", str(tmp_path / "cli.png"), "--tile", "64", "--device", "cpu"]) == 0
    cli = read_image(tmp_path / "cli.png")
    assert torch.equal(read_image(model), cli) and torch.equal(read_image(download), cli)
    assert read_image(bicubic).shape == cli.shape == (3, 288, 320)
    assert read_image(zoom).shape[1] == 4 * 48  # the centre crop, enlarged

    small = page(runs["sr"], max_upload_pixels=500)
    with pytest.raises(AppError, match="tiles of 16 pixels cannot overlap by 11 on each side: use a tile of 54 pixels or more"):
        p.client.predict(handle_file(str(photo)), 16, api_name="/upscale")
    with pytest.raises(AppError, match="the image is 80x72 pixels; this page takes at most 500 pixels"):
        small.client.predict(handle_file(str(photo)), 0, api_name="/upscale")


def test_a_missing_plugin_is_said_on_the_page(runs, page):
    without = ganzoo.load_registry(disabled=["dcgan"])
    p = page(runs["noise"], registry=without)
    body = urllib.request.urlopen(f"{p.url}config", timeout=10).read().decode()
    assert "cannot be loaded here" in body and "plugin 'dcgan'" in body and "disabled here" in body


def test_requests_run_one_at_a_time_and_the_page_stays_responsive(runs):
    loaded = ganzoo.load_checkpoint(runs["noise"], device="cpu", registry=REGISTRY)
    active, most = [0], [0]
    gate = threading.Lock()

    class Slow(demo.DemoModel):
        def generate(self, *args):
            with gate:
                active[0] += 1
                most[0] = max(most[0], active[0])
            time.sleep(1.0)
            with gate:
                active[0] -= 1
            return super().generate(*args)

    p = Page(Slow(loaded))
    try:
        jobs = [p.client.submit(s, 4, api_name="/generate") for s in range(3)]
        jobs.append(p.client.submit(0, 1, 2, api_name="/interpolate"))
        time.sleep(0.3)
        started = time.monotonic()
        urllib.request.urlopen(p.url, timeout=10).read()  # the page itself answers while the model works
        assert time.monotonic() - started < 1.0
        for job in jobs:
            job.result(timeout=60)
    finally:
        p.close()
    assert most[0] == 1  # queued: never two requests on the model at once


def test_the_command_line_serves_the_page_and_exports_a_space(runs, tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "ganzoo", "demo", str(runs["noise"]), "--port", str(port), "--device", "cpu"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        client = _connect(f"http://127.0.0.1:{port}/", server)
        image, _ = client.predict(3, 4, api_name="/generate")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert torch.equal(pixels(image), grid(ganzoo.sample(runs["noise"], 4, seed=3, registry=REGISTRY, device="cpu")))

    space = tmp_path / "space"
    assert main(["demo", str(runs["noise"]), "--export-space", str(space)]) == 0
    assert {p.name for p in space.iterdir()} == {"app.py", "requirements.txt", "README.md", "model"}
    assert "sdk: gradio" in (space / "README.md").read_text()
    assert (space / "requirements.txt").read_text().startswith("ganzoo[demo]==")
    port = free_port()
    app = subprocess.Popen([sys.executable, "app.py"], cwd=space, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)})
    try:
        image, _ = _connect(f"http://127.0.0.1:{port}/", app).predict(3, 4, api_name="/generate")
    finally:
        app.terminate()
        app.wait(timeout=30)
    assert torch.equal(pixels(image), grid(ganzoo.sample(runs["noise"], 4, seed=3, registry=REGISTRY, device="cpu")))
    assert main(["demo", str(runs["noise"]), "--export-space", str(space)]) == 1  # not a new or empty folder


def _connect(url: str, process: subprocess.Popen) -> Client:
    deadline = time.monotonic() + 120
    while True:
        try:
            return Client(url, verbose=False)
        except Exception:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read()[-3000:]) from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
