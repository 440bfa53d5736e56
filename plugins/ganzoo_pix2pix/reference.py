"""The reference loop of ``benchmarks/speed.py``: Pix2Pix trained the way PyTorch-GAN's
``implementations/pix2pix/pix2pix.py`` trains it, on the same networks, data and batch size.

Its step structure: a ``DataLoader`` over a dataset that builds each pair on the fly (two
PIL images, a random horizontal flip, ``Resize(BICUBIC)``, ``ToTensor``, ``Normalize``);
the generator's update first (``MSELoss`` against a ones patch + ``lambda_pixel`` x
``L1Loss``), then the discriminator's on the real pair and the detached fake
(``0.5 x (MSE real + MSE fake)``); ``.item()`` of the losses every step (the script logs
them).
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Callable

import torch
from torch import nn


class PerItemPairs(torch.utils.data.Dataset):
    def __init__(self, data) -> None:
        from torchvision import transforms

        self.data = data
        channels = self.pair(0)[1].shape[0]
        size = tuple(self.pair(0)[1].shape[1:])
        self.transform = transforms.Compose([transforms.Resize(size, transforms.InterpolationMode.BICUBIC), transforms.ToTensor(),
                                             transforms.Normalize((0.5,) * channels, (0.5,) * channels)])

    def pair(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The stored (input, image) pixels of item ``i`` (uint8)."""
        if hasattr(self.data, "tensors"):
            return self.data.tensors["input"][i], self.data.tensors["image"][i]
        item = self.data.item(i, None)
        return item["input"], item["image"]

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        from PIL import Image

        flip = random.random() < 0.5
        out = []
        for pixels in self.pair(i):
            array = pixels.permute(1, 2, 0).numpy()
            array = array[:, ::-1] if flip else array
            out.append(self.transform(Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array.copy())))
        return out[0], out[1]


def reference_loop(entry, model, data, device: torch.device) -> Callable[[int], None]:
    g, d = model.generator, model.discriminator
    bs = entry.train.batch_size
    loader = torch.utils.data.DataLoader(PerItemPairs(data), batch_size=bs, shuffle=True, drop_last=True)
    opt_g = torch.optim.Adam(g.parameters(), lr=entry.train.lr_g, betas=entry.train.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=entry.train.lr_d, betas=entry.train.betas)
    criterion_gan, criterion_pixel = nn.MSELoss(), nn.L1Loss()
    if not len(loader):  # without a single full batch the epochs below would follow each other forever
        raise ValueError(f"the reference loop needs at least {bs} items, the data has {len(data)}")
    batches = itertools.chain.from_iterable(itertools.repeat(loader))  # epoch after epoch, each reshuffled

    def train(n: int) -> None:
        for _ in range(n):
            real_a, real_b = next(batches)
            real_a, real_b = real_a.to(device), real_b.to(device)
            opt_g.zero_grad()
            fake_b = g(real_a)
            pred_fake = d(torch.cat([real_a, fake_b], 1))
            valid, fake = torch.ones_like(pred_fake), torch.zeros_like(pred_fake)
            loss_g = criterion_gan(pred_fake, valid) + model.l1_weight * criterion_pixel(fake_b, real_b)
            loss_g.backward()
            opt_g.step()
            opt_d.zero_grad()
            loss_real = criterion_gan(d(torch.cat([real_a, real_b], 1)), valid)
            loss_fake = criterion_gan(d(torch.cat([real_a, fake_b.detach()], 1)), fake)
            loss_d = 0.5 * (loss_real + loss_fake)
            loss_d.backward()
            opt_d.step()
            print(f"\r{loss_d.item():.3f} {loss_g.item():.3f}", end="", file=sys.stderr)  # the per-step .item()

    return train
