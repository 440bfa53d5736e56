"""The reference loop of ``benchmarks/speed.py``: StackGAN's Stage II trained the way the
official StackGAN-Pytorch (``code/trainer.py``, ``GANTrainer.train``) trains it, on the
same networks, data and batch size.

Its step structure: a ``DataLoader`` over a dataset that gives each image transformed on
the fly (PIL, ``Resize`` to 76/64 of the side, ``RandomCrop``, ``RandomHorizontalFlip``,
``ToTensor``, ``Normalize``) with one of its captions' precomputed embeddings, drawn at
random; one generator forward per step; the discriminator's update (``BCELoss`` of its
sigmoid on the real pair, the mismatched pair and the detached fake: real + (wrong +
fake) / 2), then the generator's (``BCELoss`` against ones + the KL term); the losses read
on the host every 100 steps (the official summaries). The embeddings come from the
model's (frozen) text encoder, computed once, as the official code loads precomputed ones.
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Callable

import torch
from torch import nn


class PerItemCaptioned(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor, embeddings: torch.Tensor) -> None:
        from torchvision import transforms

        self.images, self.embeddings = images, embeddings  # (N, C, H, W) uint8, (N, K, D)
        channels, size = images.shape[1], images.shape[2]
        self.transform = transforms.Compose([transforms.Resize(size * 76 // 64), transforms.RandomCrop(size),
                                             transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                             transforms.Normalize((0.5,) * channels, (0.5,) * channels)])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        from PIL import Image

        pixels = self.images[i].permute(1, 2, 0).numpy()
        image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        return self.transform(image), self.embeddings[i, random.randrange(self.embeddings.shape[1])]


def reference_loop(entry, model, data, device: torch.device) -> Callable[[int], None]:
    g, d = model.generator, model.discriminator2
    bs = entry.train.batch_size
    texts = data.tensors["caption"] if "caption" in data.tensors else data.tensors["embedding"]  # (N, K, L) or (N, K, D)
    with torch.no_grad():
        flat = texts.flatten(0, 1).to(device)
        embeddings = torch.cat([model.text(flat[i : i + 1024]) for i in range(0, len(flat), 1024)]).view(*texts.shape[:2], -1).cpu()
    loader = torch.utils.data.DataLoader(PerItemCaptioned(data.tensors["image"], embeddings), batch_size=bs, shuffle=True,
                                         drop_last=True)
    params_g = [*g.ca2.parameters(), *g.stage2.parameters()]
    for p in [*model.parameters()]:
        p.requires_grad_(False)
    for p in [*params_g, *d.parameters()]:
        p.requires_grad_(True)
    opt_d = torch.optim.Adam(d.parameters(), lr=entry.train.lr_d, betas=entry.train.betas)
    opt_g = torch.optim.Adam(params_g, lr=entry.train.lr_g, betas=entry.train.betas)
    criterion = nn.BCELoss()
    if not len(loader):  # without a single full batch the epochs below would follow each other forever
        raise ValueError(f"the reference loop needs at least {bs} items, the data has {len(data)}")
    batches = itertools.chain.from_iterable(itertools.repeat(loader))  # epoch after epoch, each reshuffled
    count = 0

    def train(n: int) -> None:
        nonlocal count
        for _ in range(n):
            real, embedding = next(batches)
            real, embedding = real.to(device), embedding.to(device)
            real_labels, fake_labels = torch.ones(bs, device=device), torch.zeros(bs, device=device)
            noise = torch.randn(bs, model.latent_dim, device=device)
            fake, kl = g(noise, embedding, 2, return_kl=True)
            d.zero_grad()
            err_real = criterion(torch.sigmoid(d(real, embedding)).view(-1), real_labels)
            err_wrong = criterion(torch.sigmoid(d(real[:-1], embedding[1:])).view(-1), fake_labels[1:])
            err_fake = criterion(torch.sigmoid(d(fake.detach(), embedding)).view(-1), fake_labels)
            err_d = err_real + (err_wrong + err_fake) * 0.5
            err_d.backward()
            opt_d.step()
            g.zero_grad()
            err_g = criterion(torch.sigmoid(d(fake, embedding)).view(-1), real_labels) + kl.mean() * model.config.kl_weight
            err_g.backward()
            opt_g.step()
            count += 1
            if count % 100 == 0:
                print(f"\r{err_d.item():.3f} {err_g.item():.3f}", end="", file=sys.stderr)  # the official summaries

    return train
