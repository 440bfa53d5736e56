"""The history of generated images a CycleGAN discriminator is shown (Shrivastava et al. 2017).

Each discriminator update sees, for every new fake, with probability one half a fake
from the last ``size`` generated ones instead (which the new one replaces): the
discriminator is kept from forgetting what the generators produced before. The pool is
training state, not weights: it travels in training checkpoints through
``GANModel.training_state`` and never in what sampling loads.
"""

from __future__ import annotations

import torch
from torch import Tensor


class ImagePool:
    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[Tensor] = []

    def query(self, fakes: Tensor) -> Tensor:
        """As many images as ``fakes``: each the fake itself or a stored one (draws from torch's RNG)."""
        if self.size == 0:
            return fakes
        coins = torch.rand(len(fakes)).tolist()  # drawn for the whole batch at once: one host read, not one per image
        picks = torch.randint(0, self.size, (len(fakes),)).tolist()
        out = []
        for fake, coin, i in zip(fakes.detach(), coins, picks):
            if len(self.images) < self.size:
                self.images.append(fake.clone())
                out.append(fake)
            elif coin < 0.5:
                out.append(self.images[i])
                self.images[i] = fake.clone()
            else:
                out.append(fake)
        return torch.stack(out)

    def state(self) -> Tensor | None:
        return torch.stack(self.images) if self.images else None

    def load(self, state: Tensor | None) -> None:
        self.images = list(state) if state is not None else []
