"""Weights files, read safely: the one path every weights file ganzoo reads goes through.

A ``.pth`` file is a pickle, and unpickling runs whatever code the file names. So:

- :func:`load_tensors` reads ``.safetensors`` with safetensors and everything else with
  ``torch.load(weights_only=True)``, which rebuilds tensors and plain containers only; a
  file that holds anything else is refused in one line that says so.
- :func:`hub_file` finds a published file (torchvision's VGG19 and AlexNet, torch-fidelity's
  Inception-v3) in torch's hub cache, downloading it there when online. Where a library
  insists on unpickling such a file itself (torchvision inside torchmetrics' LPIPS),
  ``verify=True`` first checks the file against the SHA-256 prefix its published name
  carries and that it holds tensors only.
- :func:`as_trusted_file` re-serialises safely loaded tensors for a library that only
  accepts a path it unpickles freely (torch-fidelity's Inception-v3): what it reads is
  what ganzoo loaded, never the file's own pickle.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from ganzoo.errors import DataError, GanzooError

HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")  # torch hub's convention: NAME-<sha256 prefix>.pth


def load_tensors(path: str | Path, *, map_location: str | torch.device = "cpu", what: str = "weights",
                 error: type[GanzooError] = DataError) -> Any:
    """The tensors (in dicts, lists, numbers and strings) of ``path``; never runs code.

    A missing, damaged or code-carrying file is an ``error`` (default :class:`DataError`)
    whose one line names the file and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"no {what} at {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=str(map_location))
        except Exception as e:  # safetensors raises its own SafetensorError for a damaged header
            raise error(f"{path} is not a readable .safetensors file ({_first_line(e)})") from None
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if "GLOBAL" in str(e):  # torch names the class or function the pickle asked for
            raise error(f"{path} holds Python objects besides tensors, which could run code when loaded: refused "
                        "(save a plain state_dict, or a .safetensors file)") from None
        raise error(f"{path} is not a readable {what} file ({_first_line(e)})") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, KeyError, AttributeError) as e:
        raise error(f"{path} is not a readable {what} file ({_first_line(e)})") from None


def load_state_dict(path: str | Path, *, what: str = "weights") -> dict[str, torch.Tensor]:
    """A state dict (name -> tensor) from ``path``, read by :func:`load_tensors`."""
    state = load_tensors(path, what=what)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"{path} is not a state dict (a mapping of names to tensors)")
    return state


def hub_file(url: str, *, what: str, hint: str, download: bool = True, verify: bool = False) -> Path:
    """The published file ``url`` in torch's hub cache (``$TORCH_HOME/hub/checkpoints``),
    downloaded there when missing and ``download`` (checked against the hash in its name).

    ``verify``: before a library unpickles the file itself, check it against the SHA-256
    prefix in its name and that it holds tensors only. Offline without the file, a
    one-line :class:`DataError` ending in ``hint`` (how to provide it).
    """
    name = url.rsplit("/", 1)[-1]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / name
    if not cached.is_file():
        if not download:
            raise DataError(f"no {what} at {cached}: {hint}")
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{name}.download")
        try:
            prefix = HASH_IN_NAME.search(name)
            torch.hub.download_url_to_file(url, str(tmp), hash_prefix=prefix.group(1) if prefix else None, progress=False)
            tmp.replace(cached)
        except Exception as e:  # offline: URLError, timeouts, HTTP errors; a bad download: RuntimeError (hash)
            tmp.unlink(missing_ok=True)
            raise DataError(f"the {what} are not in {cached.parent} and could not be downloaded ({type(e).__name__}): {hint}") from None
    if verify:
        verify_published(cached, what)
    return cached


def verify_published(path: Path, what: str) -> None:
    """Refuse ``path`` unless its SHA-256 starts with the prefix its name carries (when it
    carries one) and it loads with tensors only."""
    prefix = HASH_IN_NAME.search(path.name)
    if prefix and not sha256(path).startswith(prefix.group(1)):
        raise DataError(f"{path} does not match the checksum in its name ({prefix.group(1)}): it is not the published "
                        f"{what}; delete it (it is downloaded again when online)")
    load_tensors(path, what=what)


def as_trusted_file(state: dict[str, torch.Tensor]) -> io.BytesIO:
    """``state`` serialised anew, for a library that only takes something to ``torch.load``."""
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    buffer.seek(0)
    return buffer


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__
