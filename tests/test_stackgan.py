"""The StackGAN plugin: conditioning augmentation, matching-aware labels, the two phases in the
shared loop, caption files and their errors, precomputed embeddings, ``ganzoo sample --text``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import DataError
from ganzoo.losses import BCEConfig, NonSaturatingBCE
from ganzoo_stackgan import CaptionsConfig, StackGAN, StackGANConfig, digit_captions, read_captions
from ganzoo_stackgan.data import load_captioned_folder
from ganzoo_stackgan.networks import ConditioningAugmentation
from ganzoo_stackgan.text import UNKNOWN, build_vocabulary, encode

REGISTRY = ganzoo.load_registry()
TINY = ["model_options.g_channels=4", "model_options.d_channels=4", "model_options.latent_dim=4", "model_options.text_dim=8",
        "model_options.condition_dim=4", "dataset_options.limit=16", "train.batch_size=4", "train.log_every=1",
        "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4"]


def small_model(vocabulary=("a", "one", "two")) -> StackGAN:
    info = ganzoo.DataInfo(1, 16, 16, vocabulary=vocabulary)
    return StackGAN(StackGANConfig(latent_dim=4, text_dim=8, condition_dim=4, g_channels=4, d_channels=4), info)


# ---------------------------------------------------------------- conditioning augmentation


def test_conditioning_augmentation_samples_its_gaussian_and_measures_kl():
    ca = ConditioningAugmentation(text_dim=3, condition_dim=2)
    with torch.no_grad():
        ca.fc.weight.zero_()
        ca.fc.bias.copy_(torch.tensor([1.0, 1.0, 0.0, 0.0]))  # mu = 1, log sigma^2 = 0
    with torch.no_grad():
        condition, kl = ca(torch.zeros(20000, 3))
    torch.testing.assert_close(condition.mean(0), torch.ones(2), atol=0.03, rtol=0)
    torch.testing.assert_close(condition.std(0), torch.ones(2), atol=0.03, rtol=0)
    torch.testing.assert_close(kl, torch.full((20000,), 1.0))  # 0.5 * sum(mu^2) over 2 dims
    with torch.no_grad():
        ca.fc.bias.copy_(torch.tensor([0.0, 0.0, 2 * torch.log(torch.tensor(0.5)), 0.0]))  # mu = 0, sigma = (0.5, 1)
    with torch.no_grad():
        condition, kl = ca(torch.zeros(20000, 3))
    torch.testing.assert_close(condition.std(0), torch.tensor([0.5, 1.0]), atol=0.02, rtol=0)
    # KL = 0.5 (mu^2 + sigma^2 - 1 - log sigma^2) summed: 0.5 (0.25 - 1 + log 4) for the first dim, 0 for the second
    torch.testing.assert_close(kl, torch.full((20000,), 0.5 * (0.25 - 1 + torch.log(torch.tensor(4.0)).item())), atol=1e-5, rtol=0)


# ---------------------------------------------------------------- matching-aware discriminator


class Recording(torch.nn.Module):
    """A discriminator that is sure of itself: +10 for a real image with its own caption, else -10,
    or (``fooled``) also +10 for a real image with another image's caption."""

    def __init__(self, real: torch.Tensor, right: torch.Tensor, fooled: bool = False) -> None:
        super().__init__()
        self.real, self.right, self.fooled = real, right, fooled
        self.calls: list[str] = []
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, images, embedding):
        is_real = torch.equal(images, self.real)
        is_right = torch.equal(embedding, self.right)
        self.calls.append(("real" if is_real else "fake") + "+" + ("right" if is_right else "wrong"))
        accept = is_real and (is_right or self.fooled)
        return torch.full((len(images),), 10.0 if accept else -10.0) + self.w


def test_discriminator_is_matching_aware():
    model = small_model()
    model.set_phase("stage2")
    batch = {"image": torch.rand(4, 1, 16, 16) * 2 - 1, "caption": torch.randint(2, 5, (4, 2, 3))}
    torch.manual_seed(0)
    right = model.embed(batch)
    for fooled, expected in ((False, 0.0), (True, 5.0)):  # 0.5 * softplus(10) when the wrong caption passes
        model.discriminator2 = Recording(batch["image"], right, fooled)
        torch.manual_seed(0)  # the same caption draw as `right`
        out = model.discriminator_loss(batch, NonSaturatingBCE(BCEConfig()))
        assert model.discriminator2.calls == ["real+right", "fake+right", "real+wrong"]
        assert out.loss.item() == pytest.approx(expected, abs=1e-3)


def test_a_stage_step_runs_the_generator_and_the_text_encoder_once():
    """As the official trainer: one fake batch and one caption draw per step, the discriminator's
    update on the detached fakes, the generator's on the same fakes with their graph."""
    model = small_model()
    model.set_phase("stage2")
    calls = {"generator": 0, "text": 0}
    for name in calls:
        getattr(model, name).register_forward_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    batch = {"image": torch.rand(4, 1, 16, 16) * 2 - 1, "caption": torch.randint(2, 5, (4, 2, 3))}
    loss = NonSaturatingBCE(BCEConfig())
    model.discriminator_loss(batch, loss).loss.backward()
    assert all(p.grad is None for p in model.generator.parameters())  # D's update does not reach G
    model.generator_loss(batch, loss).loss.backward()
    assert calls == {"generator": 1, "text": 1}
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.generator.stage2.parameters())
    model.generator_loss(batch, loss)  # without a discriminator step before it: its own fakes and caption
    assert calls == {"generator": 2, "text": 2}


# ---------------------------------------------------------------- phases in the shared loop


def test_joint_embedding_loss_rewards_matching_pairs():
    model = small_model()
    model.set_phase("text")
    captions = torch.tensor([[2, 3, 4], [3, 4, 2], [4, 2, 3], [2, 2, 3], [3, 3, 4], [4, 4, 2]]).unsqueeze(1)  # six different ones
    torch.manual_seed(0)
    batch = {"image": torch.rand(6, 1, 16, 16) * 2 - 1, "caption": captions}
    out = model.generator_loss(batch, None)
    assert set(out.metrics) == {"text_loss"} and set(out.diagnostics) == {"text_match"}  # the match rate is no loss
    opt = torch.optim.Adam([*model.text.parameters(), *model.image_encoder.parameters()], 1e-2)
    for _ in range(60):
        opt.zero_grad()
        model.generator_loss(batch, None).loss.backward()
        opt.step()
    after = model.generator_loss(batch, None)
    assert after.diagnostics["text_match"].item() == 1.0  # it learns which caption is whose
    assert after.loss.item() < out.loss.item() / 4


def test_stage_two_trains_on_a_frozen_stage_one(tmp_path):
    seen = {}

    class Snapshot:
        @ganzoo.hookimpl
        def ganzoo_phase_start(self, run, phase):
            seen[phase] = {k: v.clone() for k, v in run.model.state_dict().items()}

    registry = ganzoo.load_registry(extra_plugins=[("snapshot", Snapshot())])
    run = ganzoo.train("stackgan-digits", overrides=[*TINY, 'train.phase_steps={"text": 2, "stage1": 2, "stage2": 2}'], registry=registry,
                       run_dir=tmp_path / "run", device="cpu")
    end = run.model.state_dict()
    start1, start2 = seen["stage1"], seen["stage2"]
    text = [k for k in end if k.startswith(("text.", "image_encoder.")) and k.endswith("weight")]
    assert any(not torch.equal(seen["text"][k], start1[k]) for k in text)  # the joint embedding is learnt first ...
    assert all(torch.equal(start1[k], end[k]) for k in text)  # ... then frozen for both stages
    frozen = [k for k in end if k.startswith(("generator.stage1.", "generator.ca1.", "text.", "discriminator1.")) and "running" not in k
              and "num_batches" not in k]
    trained = [k for k in end if k.startswith(("generator.stage2.", "discriminator2.")) and k.endswith("weight")]
    assert frozen and all(torch.equal(start2[k], end[k]) for k in frozen)
    assert any(not torch.equal(start2[k], end[k]) for k in trained)
    assert any(not torch.equal(seen["stage1"][k], start2[k]) for k in frozen)  # ... which stage 1 did train
    loaded = ganzoo.load_checkpoint(tmp_path / "run", registry=registry, device="cpu")
    assert loaded.model.phase == "stage2"
    assert ganzoo.sample(loaded, 3, text="a thin one").shape == (3, 1, 32, 32)


# ---------------------------------------------------------------- captions


def test_digit_captions_name_the_digit_and_its_look():
    from ganzoo_datasets import DigitsConfig, load_mnist_5k

    digits = load_mnist_5k(DigitsConfig(limit=20), Path("."))
    captions = digit_captions(digits.tensors["image"], digits.tensors["label"])
    assert len(captions) == 20 and all(len(c) == 3 for c in captions)
    assert all("zero" in c for c in captions[0])  # the bundled digits start with zeros
    assert any(w in captions[0][0] for w in ("thin", "regular", "thick"))


def test_tokenizer_says_which_words_it_does_not_know():
    vocabulary = build_vocabulary(["a thin one", "a thick two"])
    ids, unknown = encode(["a purple one", "THIN two!"], vocabulary, length=4)
    assert unknown == ["purple"]
    assert ids[0, 1] == UNKNOWN and ids[0, 3] == 0 and (ids[1, :2] > 1).all()


def captioned(root: Path, names=("x", "y"), text: dict | None = None) -> Path:
    from PIL import Image

    (root / "images").mkdir(parents=True)
    (root / "text").mkdir()
    for name in names:
        Image.new("RGB", (12, 10), (200, 10, 10)).save(root / "images" / f"{name}.png")
        content = (text or {}).get(name, "a red square\na small red thing\n")
        (root / "text" / f"{name}.txt").write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def test_captioned_folder_loads(tmp_path):
    data = load_captioned_folder(CaptionsConfig(path=str(captioned(tmp_path / "set")), image_size=16, captions_per_image=3), tmp_path)
    assert data.tensors["image"].shape == (2, 3, 16, 16) and data.tensors["caption"].shape == (2, 3, 12)
    assert set(data.vocabulary) == {"a", "red", "square", "small", "thing"}


@pytest.mark.parametrize("content, message", [("", "holds no caption"), (b"\xff\xfe bad", "is not UTF-8 text"), (None, "missing caption file")])
def test_bad_caption_files_are_clear_errors(tmp_path, content, message):
    root = captioned(tmp_path / "set", text={"y": content if content is not None else ""})
    if content is None:
        (root / "text" / "y.txt").unlink()
    with pytest.raises(DataError, match=message) as err:
        load_captioned_folder(CaptionsConfig(path=str(root)), tmp_path)
    assert "y.txt" in str(err.value) and "\n" not in str(err.value)
    assert read_captions(root / "text" / "x.txt") == ["a red square", "a small red thing"]


def test_precomputed_embeddings(tmp_path):
    root = captioned(tmp_path / "set")
    torch.save(torch.randn(2, 5, 7), tmp_path / "emb.pt")
    data = load_captioned_folder(CaptionsConfig(path=str(root), embeddings=str(tmp_path / "emb.pt")), tmp_path)
    assert data.info.text_dim == 7 and "caption" not in data.tensors
    model = StackGAN(StackGANConfig(latent_dim=4, text_dim=8, condition_dim=4, g_channels=4, d_channels=4),
                     ganzoo.DataInfo(3, 32, 32, text_dim=7))
    assert model.preview(model.preview_inputs(
        {"image": torch.zeros(2, 3, 32, 32), "embedding": data.tensors["embedding"]}, 4, torch.Generator())).shape == (4, 3, 32, 32)
    torch.save(torch.randn(3, 7), tmp_path / "wrong.pt")
    with pytest.raises(DataError, match=r"expected \(2, captions, dim\)"):
        load_captioned_folder(CaptionsConfig(path=str(root), embeddings=str(tmp_path / "wrong.pt")), tmp_path)


# ---------------------------------------------------------------- ganzoo sample --text


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "stack"
    ganzoo.train("stackgan-digits", overrides=[*TINY, 'train.phase_steps={"text": 1, "stage1": 1, "stage2": 1}'], registry=REGISTRY,
                 run_dir=run_dir, device="cpu")
    return run_dir


def test_previews_repeat_and_leave_the_training_random_stream_alone(tmp_path):
    """The conditioning augmentation draws noise inside the generator: a preview seeds it, so
    two previews are the same images, and drawing one changes nothing training draws next."""
    run = ganzoo.train("stackgan-digits", overrides=[*TINY, 'train.phase_steps={"text": 1, "stage1": 1, "stage2": 1}'],
                       registry=REGISTRY, run_dir=tmp_path / "run", device="cpu")
    state = torch.get_rng_state()
    first = run.sample_fixed()
    assert torch.equal(run.sample_fixed(), first)
    assert torch.equal(torch.get_rng_state(), state)


def test_sample_from_text_says_unknown_words(text_run, tmp_path, cli):
    done = cli("sample", str(text_run), "--text", "a thick purple seven slanted to the right", "--n", "4",
                      "--out", str(tmp_path / "sevens.png"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "never seen, ignored: purple" in done.stderr
    assert (tmp_path / "sevens.png").exists()


def test_sample_from_a_captions_file(text_run, tmp_path, cli):
    (tmp_path / "captions.txt").write_text("a thin one\n\na large eight written with thick strokes\n")
    done = cli("sample", str(text_run), "--captions", str(tmp_path / "captions.txt"), "--n", "2", "--out", str(tmp_path / "out"),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00000.png", "00001.png"]
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe")
    done = cli("sample", str(text_run), "--captions", str(tmp_path / "bad.txt"), "--out", "x.png", cwd=tmp_path)
    assert done.returncode == 1 and "not UTF-8" in done.stderr and done.stderr.count("\n") == 1


def test_text_is_refused_by_models_without_it_and_required_by_stackgan(text_run, tmp_path, cli):
    done = cli("sample", str(text_run), "--out", str(tmp_path / "x.png"), cwd=tmp_path)
    assert done.returncode == 1 and "--text" in done.stderr
    small = ["model_options.g_channels=4", "model_options.d_channels=4", "train.batch_size=2", "train.steps=1", "dataset_options.limit=8"]
    ganzoo.train("dcgan-mnist-5k", overrides=small, registry=REGISTRY, run_dir=tmp_path / "dc", device="cpu")
    with pytest.raises(ganzoo.ConfigError, match="does not take a text condition"):
        ganzoo.sample(tmp_path / "dc", 2, text="a seven", registry=REGISTRY, device="cpu")
