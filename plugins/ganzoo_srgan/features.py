"""Feature networks for the perceptual (content) loss, from torchvision's VGG19 or timm.

``vgg19`` is the SRGAN paper's network: VGG19's feature map after the ReLU of conv2_2
(``layer: 22``) or conv5_4 (``54``). ``timm:NAME`` takes any timm backbone by name and
uses its feature stage ``layer`` (``features_only``). Weights come from a file given as
``vgg_weights``, else from torch's or Hugging Face's local cache, downloaded there when
online. Missing weights are an error that says how to provide them, never a silent
switch to another loss.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganzoo.plugin import ConfigError, DataError, hub_file, load_state_dict

VGG19_CUTS = {22: 9, 54: 36}  # torchvision's vgg19().features[:cut] ends with relu2_2 / relu5_4
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _missing(what: str, where: str) -> DataError:
    return DataError(f"no {what} weights at {where} and none could be downloaded (offline?): pass "
                     "--set model_options.vgg_weights=PATH, or train with --set model_options.content=pixel")


def vgg19_features(layer: int, weights: str = "") -> nn.Sequential:
    from torchvision.models import VGG19_Weights
    from torchvision.models.vgg import cfgs, make_layers

    if layer not in VGG19_CUTS:
        raise ConfigError(f"model_options.vgg_layer must be 22 or 54 for vgg19, not {layer}")
    net = make_layers(cfgs["E"])[: VGG19_CUTS[layer]]  # VGG19's convolutional part, without its 120M-parameter classifier
    if weights:
        state = load_state_dict(weights, what="VGG19 weights")
    else:  # torch.hub.load_state_dict_from_url would unpickle a planted cache file freely
        url = VGG19_Weights.IMAGENET1K_V1.url
        state = load_state_dict(hub_file(url, what="VGG19 weights", hint="pass --set model_options.vgg_weights=PATH, "
                                         "or train with --set model_options.content=pixel"), what="VGG19 weights")
    # a whole VGG19 state dict ("features.N.weight") or one of its features ("N.weight")
    state = {k.removeprefix("features."): v for k, v in state.items() if not k.startswith("classifier.")}
    wanted = net.state_dict().keys()
    absent = [k for k in wanted if k not in state]
    if absent:
        raise DataError(f"{weights or 'the VGG19 weights'} lack {', '.join(absent[:3])}: not a torchvision VGG19 state dict")
    net.load_state_dict({k: state[k] for k in wanted})
    return net


def timm_features(name: str, layer: int, weights: str = "") -> nn.Module:
    import timm

    overlay = {"state_dict": load_state_dict(weights, what=f"timm '{name}' weights")} if weights else None
    try:
        return timm.create_model(name, pretrained=True, features_only=True, out_indices=(layer,), pretrained_cfg_overlay=overlay)
    except RuntimeError as e:
        if "Unknown model" in str(e):
            raise ConfigError(f"timm has no model '{name}'") from None
        raise _missing(f"timm '{name}'", weights or "the Hugging Face cache") from None
    except (OSError, ValueError) as e:
        raise _missing(f"timm '{name}'", weights or f"the Hugging Face cache ({type(e).__name__})") from None


class ContentFeatures(nn.Module):
    """Frozen features of images in [-1, 1], ImageNet-normalised, times ``scale``."""

    def __init__(self, net: str = "vgg19", layer: int = 54, weights: str = "", scale: float = 1.0) -> None:
        super().__init__()
        if net == "vgg19":
            self.net = vgg19_features(layer, weights)
        elif net.startswith("timm:"):
            self.net = timm_features(net.removeprefix("timm:"), layer, weights)
        else:
            raise ConfigError(f"model_options.feature_net must be 'vgg19' or 'timm:NAME', not '{net}'")
        self.scale = scale
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> ContentFeatures:
        return super().train(False)  # batch norm statistics of a backbone must not move

    def forward(self, images: Tensor) -> Tensor:
        x = ((images + 1) / 2 - self.mean) / self.std
        out = self.net(x)
        return (out[-1] if isinstance(out, (list, tuple)) else out) * self.scale
