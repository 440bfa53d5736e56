"""Exceptions that speak to the user.

Every error a user can cause (a bad config, missing data, a corrupt checkpoint, a broken
plugin) is a :class:`GanzooError`. The command line prints its message as one line and
exits non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GanzooError(Exception):
    """Base class: a message meant for the user, printed as one line by the CLI."""

    exit_code = 1


class ConfigError(GanzooError):
    """A zoo file or an override is malformed: unknown key, wrong type, unknown name."""


class PluginError(GanzooError):
    """A plugin could not be loaded, or registered something invalid or clashing."""


class DataError(GanzooError):
    """A dataset is missing or unreadable; the message says where to put the files."""


class CheckpointError(GanzooError):
    """A checkpoint is missing, corrupt, or belongs to another entry."""


class MissingPluginError(CheckpointError):
    """A checkpoint or export needs a model, dataset or loss no installed plugin provides;
    the message names the distribution to install."""


class DivergedError(GanzooError):
    """Training diverged (a loss past its bound, a saturated discriminator); the last good checkpoint was kept."""

    exit_code = 3


class NonFiniteLossError(DivergedError):
    """A loss became NaN or infinite; training stopped and the last checkpoint was kept."""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """'unknown model 'dcgn'; did you mean 'dcgan'? installed: dcgan, pix2pix'."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(known) if known else "none"
    return f"unknown {kind} '{name}'{hint} (installed: {listing})"


class GanzooWarning(UserWarning):
    """Something the user should hear about that does not stop the work (e.g. unknown words)."""
