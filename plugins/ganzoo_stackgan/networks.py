"""StackGAN networks (Zhang et al. 2017, arXiv:1612.03242), sized by the data.

- ``TextEncoder``: word embeddings and a bidirectional GRU, averaged over the words; or a
  linear projection of precomputed caption embeddings; scaled to the sphere of radius
  sqrt(dim). It is trained first, with an
  ``ImageEncoder``, as a joint image-text embedding (as StackGAN's caption embeddings were,
  Reed et al. 2016), then frozen.
- ``ConditioningAugmentation``: the embedding gives mu and log sigma^2 of a Gaussian; the
  condition is drawn from it (re-parameterised), and its KL divergence to N(0, I) is a
  term of the generator's loss.
- Stage I: noise + condition -> a ``size / 4`` image (a projection to 4x4, then upsampling
  by nearest neighbour + 3x3 convolutions).
- Stage II: the Stage-I image + a fresh condition -> the full-size image (encoder, joined
  with the condition, residual blocks, two 2x upsamplings).
- ``MatchingDiscriminator``: down to 4x4 features, joined with the compressed caption
  embedding, then one logit, plus the inner product of the pooled features with a
  projection of the embedding (the projection discriminator of Miyato & Koyama 2018,
  which makes the caption's say much stronger than concatenation alone): it judges
  whether image and caption belong together.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class TextEncoder(nn.Module):
    def __init__(self, vocabulary_size: int, dim: int, text_dim: int = 0, word_dim: int = 64) -> None:
        super().__init__()
        self.precomputed = text_dim > 0
        if self.precomputed:
            self.project = nn.Linear(text_dim, dim)
        else:
            self.embed = nn.Embedding(vocabulary_size + 2, word_dim, padding_idx=0)
            self.rnn = nn.GRU(word_dim, word_dim, batch_first=True, bidirectional=True)
            self.project = nn.Linear(2 * word_dim, dim)

    def forward(self, text: Tensor) -> Tensor:
        """(B, L) token ids, or (B, text_dim) precomputed embeddings -> (B, dim)."""
        if self.precomputed:
            out = self.project(text)
        else:
            mask = (text > 0).unsqueeze(-1).float()  # (B, L, 1)
            out, _ = self.rnn(self.embed(text))  # (B, L, 2 * word_dim)
            out = self.project((out * mask).sum(1) / mask.sum(1).clamp_min(1))
        # On the sphere of radius sqrt(dim): each coordinate is of unit scale, so the conditioning
        # augmentation's mean stands out of its unit noise (a raw embedding of norm ~0.3 drowned in it,
        # and the generators learnt to ignore the caption).
        return F.normalize(out, dim=1) * out.shape[1] ** 0.5


class ImageEncoder(nn.Module):
    """A small CNN mapping images to the caption embedding space (for the joint embedding)."""

    def __init__(self, channels: int, dim: int, width: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, dim),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)


class ConditioningAugmentation(nn.Module):
    def __init__(self, text_dim: int, condition_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(text_dim, 2 * condition_dim)

    def forward(self, embedding: Tensor) -> tuple[Tensor, Tensor]:
        """A sampled condition (B, condition_dim) and the KL divergence of its Gaussian to N(0, I), (B,)."""
        mu, logvar = self.fc(embedding).chunk(2, dim=1)
        condition = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return condition, kl


def _up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class StageOne(nn.Module):
    def __init__(self, latent_dim: int, condition_dim: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        stages = int(math.log2(size // 4))
        if 4 * 2**stages != size:
            raise ValueError(f"Stage I needs a side of 4 * 2^k pixels, got {size}")
        self.top = width * 2**stages
        self.project = nn.Sequential(nn.Linear(latent_dim + condition_dim, self.top * 16, bias=False),
                                     nn.BatchNorm1d(self.top * 16), nn.ReLU(inplace=True))
        self.up = nn.Sequential(*[_up(self.top // 2**i, self.top // 2 ** (i + 1)) for i in range(stages)])
        self.out = nn.Sequential(nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: Tensor, condition: Tensor) -> Tensor:
        h = self.project(torch.cat([z, condition], 1)).view(-1, self.top, 4, 4)
        return self.out(self.up(h))  # (B, C, size / 4 ... ) at Stage-I resolution


class ResidualBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                                  nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x + self.body(x))


class StageTwo(nn.Module):
    def __init__(self, condition_dim: int, channels: int, width: int, blocks: int = 2) -> None:
        super().__init__()
        c = 4 * width
        self.encode = nn.Sequential(nn.Conv2d(channels, c, 3, 1, 1), nn.ReLU(inplace=True))
        self.join = nn.Sequential(nn.Conv2d(c + condition_dim, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.residual = nn.Sequential(*[ResidualBlock(c) for _ in range(blocks)])
        self.up = nn.Sequential(_up(c, 2 * width), _up(2 * width, width))  # x4
        self.out = nn.Sequential(nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, low: Tensor, condition: Tensor) -> Tensor:
        h = self.encode(low)  # (B, 4w, s, s)
        h = self.join(torch.cat([h, condition[:, :, None, None].expand(-1, -1, *h.shape[2:])], 1))
        return self.out(self.up(self.residual(h)))  # (B, C, 4s, 4s)


class StackGenerator(nn.Module):
    """Both stages with their conditioning augmentations; ``stages`` picks the output."""

    def __init__(self, latent_dim: int, text_dim: int, condition_dim: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.ca1 = ConditioningAugmentation(text_dim, condition_dim)
        self.stage1 = StageOne(latent_dim, condition_dim, channels, size // 4, 2 * width)
        self.ca2 = ConditioningAugmentation(text_dim, condition_dim)
        self.stage2 = StageTwo(condition_dim, channels, width)

    def forward(self, z: Tensor, embedding: Tensor, stages: int = 2, return_kl: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """The Stage-``stages`` image, and with ``return_kl`` the KL term of its condition (B,)."""
        c1, kl = self.ca1(embedding)
        image = self.stage1(z, c1)
        if stages == 2:
            c2, kl = self.ca2(embedding)
            image = self.stage2(image.detach(), c2)  # Stage I is fixed while Stage II learns
        return (image, kl) if return_kl else image


class MatchingDiscriminator(nn.Module):
    def __init__(self, channels: int, size: int, width: int, text_dim: int, compressed: int = 32) -> None:
        super().__init__()
        stages = int(math.log2(size // 4))
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for _ in range(stages):  # each halves the side, doubles the width
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2, inplace=True)]
            c *= 2
        self.features = nn.Sequential(*layers)  # (B, c, 4, 4)
        self.compress = nn.Sequential(nn.Linear(text_dim, compressed), nn.LeakyReLU(0.2, inplace=True))
        self.judge = nn.Sequential(nn.Conv2d(c + compressed, c, 1), nn.BatchNorm2d(c), nn.LeakyReLU(0.2, inplace=True),
                                   nn.Conv2d(c, 1, 4))
        self.projection = nn.Linear(text_dim, c)  # projection discriminator term (Miyato & Koyama 2018)

    def forward(self, images: Tensor, embedding: Tensor) -> Tensor:
        h = self.features(images)
        t = self.compress(embedding)[:, :, None, None].expand(-1, -1, *h.shape[2:])
        joint = self.judge(torch.cat([h, t], 1)).flatten()
        return joint + (self.projection(embedding) * h.mean((2, 3))).sum(1)  # (B,) logits
