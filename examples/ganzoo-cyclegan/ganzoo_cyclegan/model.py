"""CycleGAN (Zhu, Park, Isola & Efros 2017): two translators learnt from unpaired images.

``g_ab`` maps domain A (batch key ``input``) to domain B (``image``) and ``g_ba`` back;
``d_a`` and ``d_b`` judge each domain. The generators minimise the least-squares
adversarial loss of both directions, plus ``cycle_weight`` x the L1 of each round trip
(A -> B -> A, B -> A -> B), plus ``identity_weight`` x ``cycle_weight`` x the L1 of each
generator on its own output domain (it should leave such images alone). Each
discriminator is shown fakes through a 50-image history pool.

With ``loss: lsgan`` and ``loss_options: {generator_weight: 1}`` the adversarial terms
are the paper's: MSE(D(G(x)), 1) for a generator, ½[MSE(D(y), 1) + MSE(D(G(x)), 0)]
for a discriminator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

from ganzoo.plugin import (
    DISCRIMINATOR, GENERATOR, Batch, Capabilities, DataInfo, Direction, GANLoss, GANModel, StepOutput, init_normal_,
)
from ganzoo_cyclegan.networks import PatchDiscriminator, ResnetGenerator
from ganzoo_cyclegan.pool import ImagePool


@dataclass(frozen=True)
class CycleGANConfig:
    g_channels: int = 64  # generator width of its first layer (2x, 4x after the downsamplings)
    blocks: int = 9  # residual blocks (the paper: 6 for 128 px, 9 for 256 px)
    downsamplings: int = 2
    d_channels: int = 64  # discriminator width of its first layer
    d_layers: int = 3  # PatchGAN strided layers: 3 gives 70x70 patches
    cycle_weight: float = 10.0  # lambda
    identity_weight: float = 0.5  # of lambda; 0 switches the identity term off (needed when A and B differ in channels)
    pool_size: int = 50  # fakes remembered per domain; 0: none
    init_std: float = 0.02

    def __post_init__(self) -> None:
        if min(self.g_channels, self.d_channels, self.blocks, self.d_layers) < 1 or self.downsamplings < 0:
            raise ValueError("model_options: widths, blocks and d_layers must be at least 1, downsamplings at least 0")


class CycleGAN(GANModel):
    networks = {"g_ab": GENERATOR, "g_ba": GENERATOR, "d_a": DISCRIMINATOR, "d_b": DISCRIMINATOR}
    capabilities = Capabilities(generates=False, directions=(Direction("a2b", "input", "image"), Direction("b2a", "image", "input")),
                                any_size=True)

    def __init__(self, config: CycleGANConfig, info: DataInfo) -> None:
        super().__init__()
        if not info.input_channels:
            raise ValueError("CycleGAN needs two domains: a dataset with 'input' (A) and 'image' (B) images")
        a, b = info.input_channels, info.channels
        if config.identity_weight and a != b:
            raise ValueError(f"the identity term needs domains with as many channels (A has {a}, B has {b}): "
                             "set model_options.identity_weight=0")
        self.config = config
        self.g_ab = ResnetGenerator(a, b, config.g_channels, config.blocks, config.downsamplings)
        self.g_ba = ResnetGenerator(b, a, config.g_channels, config.blocks, config.downsamplings)
        self.d_a = PatchDiscriminator(a, config.d_channels, config.d_layers)
        self.d_b = PatchDiscriminator(b, config.d_channels, config.d_layers)
        self.apply(lambda m: init_normal_(m, config.init_std))
        self.pool_a, self.pool_b = ImagePool(config.pool_size), ImagePool(config.pool_size)

    def translate(self, images: Tensor, direction: str | None = None) -> Tensor:
        return (self.g_ba if self.capabilities.direction(direction).name == "b2a" else self.g_ab)(images)

    # ------------------------------------------------------------ the adversarial step

    def discriminator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        real_a, real_b = batch["input"], batch["image"]
        fake_b, fake_a = self.g_ab(real_a), self.g_ba(real_b)
        self.keep_fakes(fake_b, fake_a)  # the generators' update of this step reuses them
        judged_a = self.judge(real_a, self.pool_a.query(fake_a), loss, discriminator=self.d_a, prefix="d_a")
        judged_b = self.judge(real_b, self.pool_b.query(fake_b), loss, discriminator=self.d_b, prefix="d_b")
        return StepOutput(judged_a.loss + judged_b.loss, {**judged_a.metrics, **judged_b.metrics},
                          {**judged_a.diagnostics, **judged_b.diagnostics})

    def generator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        real_a, real_b = batch["input"], batch["image"]
        kept = self.take_fakes(len(real_a))
        fake_b, fake_a = kept if kept is not None else (self.g_ab(real_a), self.g_ba(real_b))
        adversarial = loss.generator(self.d_b(fake_b)) + loss.generator(self.d_a(fake_a))
        cycle = (self.g_ba(fake_b) - real_a).abs().mean() + (self.g_ab(fake_a) - real_b).abs().mean()
        total = adversarial + self.config.cycle_weight * cycle
        metrics = {"g_loss": adversarial.detach(), "cycle": cycle.detach()}
        if self.config.identity_weight:
            identity = (self.g_ab(real_b) - real_b).abs().mean() + (self.g_ba(real_a) - real_a).abs().mean()
            total = total + self.config.identity_weight * self.config.cycle_weight * identity
            metrics["identity"] = identity.detach()
        return StepOutput(total, metrics)

    # ------------------------------------------------------------ training state: the pools

    def training_state(self) -> dict[str, Any]:
        return {"pool_a": self.pool_a.state(), "pool_b": self.pool_b.state()}

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.pool_a.load(state.get("pool_a"))
        self.pool_b.load(state.get("pool_b"))
