"""The reference loop of ``benchmarks/speed.py``: SRGAN's adversarial phase trained the way
PyTorch-GAN's ``implementations/srgan/srgan.py`` trains it, on the same networks, data
and batch size.

Its step structure: a ``DataLoader`` over a dataset that makes each pair on the fly from
the high-resolution crop (PIL, ``Resize(BICUBIC)`` to the high and to the low resolution,
``ToTensor``, ``Normalize``); the generator's update first (content loss + 1e-3 x
``MSELoss`` of the discriminator's output against ones), then the discriminator's
(``0.5 x (MSE real + MSE fake)`` on the detached output); ``.item()`` of the losses every
step. The content loss is the entry's (pixels, or the model's feature network).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable

import torch
from torch import nn


class PerItemPairs(torch.utils.data.Dataset):
    def __init__(self, data, scale: int) -> None:
        from torchvision import transforms

        self.data = data
        size = data.info.height
        normalize = transforms.Normalize((0.5,) * 3, (0.5,) * 3)
        bicubic = transforms.InterpolationMode.BICUBIC
        self.hr = transforms.Compose([transforms.Resize((size, size), bicubic), transforms.ToTensor(), normalize])
        self.lr = transforms.Compose([transforms.Resize((size // scale, size // scale), bicubic), transforms.ToTensor(), normalize])
        self.rng = torch.Generator().manual_seed(0)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        from PIL import Image

        crop = Image.fromarray(self.data.item(i, self.rng)["image"].permute(1, 2, 0).numpy())
        return self.lr(crop), self.hr(crop)


def reference_loop(entry, model, data, device: torch.device) -> Callable[[int], None]:
    g, d = model.generator, model.discriminator
    bs = entry.train.batch_size
    loader = torch.utils.data.DataLoader(PerItemPairs(data, model.scale), batch_size=bs, shuffle=True, drop_last=True)
    opt_g = torch.optim.Adam(g.parameters(), lr=entry.train.lr_g, betas=entry.train.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=entry.train.lr_d, betas=entry.train.betas)
    criterion_gan, criterion_pixel = nn.MSELoss(), nn.MSELoss()
    if not len(loader):  # without a single full batch the epochs below would follow each other forever
        raise ValueError(f"the reference loop needs at least {bs} items, the data has {len(data)}")
    batches = itertools.chain.from_iterable(itertools.repeat(loader))  # epoch after epoch, each reshuffled

    def content(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        if model.config.content == "pixel":
            return criterion_pixel(sr, hr)
        return criterion_pixel(*model._features(sr, hr))

    def train(n: int) -> None:
        for _ in range(n):
            imgs_lr, imgs_hr = next(batches)
            imgs_lr, imgs_hr = imgs_lr.to(device), imgs_hr.to(device)
            opt_g.zero_grad()
            gen_hr = g(imgs_lr)
            pred_fake = d(gen_hr)
            valid, fake = torch.ones_like(pred_fake), torch.zeros_like(pred_fake)
            loss_g = content(gen_hr, imgs_hr) + 1e-3 * criterion_gan(pred_fake, valid)
            loss_g.backward()
            opt_g.step()
            opt_d.zero_grad()
            loss_d = 0.5 * (criterion_gan(d(imgs_hr), valid) + criterion_gan(d(gen_hr.detach()), fake))
            loss_d.backward()
            opt_d.step()
            print(f"\r{loss_d.item():.3f} {loss_g.item():.3f}", end="", file=sys.stderr)  # the per-step .item()

    return train
