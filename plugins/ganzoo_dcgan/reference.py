"""The reference loop of ``benchmarks/speed.py``: DCGAN trained the way PyTorch's
``examples/dcgan/main.py`` trains it, on the same networks, data and batch size.

Its step structure: a ``DataLoader`` over a map-style dataset that turns each image into
a tensor on the fly (PIL -> ``ToTensor`` -> ``Normalize``, as torchvision's datasets do);
``sigmoid`` + ``nn.BCELoss`` with label tensors; ``torch.optim.Adam``; the discriminator
on a real and a fake batch, then the generator on the same fake batch; ``.item()`` of the
losses every step (the example prints them).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable

import torch
from torch import nn


class PerItemImages(torch.utils.data.Dataset):
    """What ``torchvision.datasets.ImageFolder(transform=...)`` does per item, from the
    dataset's stored pixels: a PIL image, then ``ToTensor`` and ``Normalize``."""

    def __init__(self, data) -> None:
        from torchvision import transforms

        self.data = data
        channels = data.info.channels
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * channels, (0.5,) * channels)])

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        from PIL import Image

        item = {k: t[i] for k, t in self.data.tensors.items()} if hasattr(self.data, "tensors") else self.data.item(i, None)
        pixels = item["image"].permute(1, 2, 0).numpy()
        image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        return self.transform(image), int(item["label"]) if "label" in item else 0


def reference_loop(entry, model, data, device: torch.device) -> Callable[[int], None]:
    g, d = model.generator, model.discriminator
    conditional = bool(model.num_classes)
    bs = entry.train.batch_size
    loader = torch.utils.data.DataLoader(PerItemImages(data), batch_size=bs, shuffle=True, drop_last=True)
    opt_d = torch.optim.Adam(d.parameters(), lr=entry.train.lr_d, betas=entry.train.betas)
    opt_g = torch.optim.Adam(g.parameters(), lr=entry.train.lr_g, betas=entry.train.betas)
    criterion = nn.BCELoss()
    if not len(loader):  # without a single full batch the epochs below would follow each other forever
        raise ValueError(f"the reference loop needs at least {bs} items, the data has {len(data)}")
    batches = itertools.chain.from_iterable(itertools.repeat(loader))  # epoch after epoch, each reshuffled

    def train(n: int) -> None:
        for _ in range(n):
            real, labels = next(batches)
            real, labels = real.to(device), labels.to(device)
            y = labels if conditional else None
            ones, zeros = torch.ones(bs, device=device), torch.zeros(bs, device=device)
            fake_labels = torch.randint(0, model.num_classes, (bs,), device=device) if conditional else None
            fake = g(torch.randn(bs, model.latent_dim, device=device), fake_labels)
            opt_d.zero_grad()
            loss_d = criterion(torch.sigmoid(d(real, y)), ones) + criterion(torch.sigmoid(d(fake.detach(), fake_labels)), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = criterion(torch.sigmoid(d(fake, fake_labels)), ones)
            loss_g.backward()
            opt_g.step()
            print(f"\r{loss_d.item():.3f} {loss_g.item():.3f}", end="", file=sys.stderr)  # the per-step .item()

    return train
