"""The plugin API: everything a ganzoo plugin may import, and nothing else.

A plugin (built in, or a stranger's package found through the ``ganzoo`` entry-point
group) imports from this module only, plus the front door (``ganzoo.train``,
``ganzoo.load_checkpoint``, ...) in its commands and tests. Every other module of
ganzoo is private and may change between releases; a test keeps the built-in plugins
and the examples to this rule.

:data:`API_VERSION` numbers this surface and the hookspecs (:mod:`ganzoo.hookspecs`). A
plugin declares the version it was written for as ``GANZOO_API = 1`` in its module;
ganzoo refuses (and reports, without stopping the others) a plugin declaring another.
Adding names or optional hook arguments keeps the version; removing or changing one
that plugins use raises it.

Grouped as a plugin author meets them:

- registering: :data:`hookimpl`, the specs (:class:`ModelSpec`, :class:`DatasetSpec`,
  :class:`LossSpec`, :class:`FeatureExtractorSpec`, :class:`LoggerSpec`, :class:`CommandSpec`);
- the model: :class:`GANModel`, its network roles, :class:`Capabilities`,
  :class:`Direction`, :class:`Phase`, :class:`StepOutput`, ``Batch``, :func:`init_normal_`;
  losses: :class:`GANLoss`;
- data: :class:`DataInfo`, :class:`ImageData`, :class:`UnpairedData`, :class:`ItemData`,
  the range helpers, image files, downloads, the bundled digits;
- weights files, read without running code: :func:`load_tensors`, :func:`load_state_dict`,
  :func:`hub_file` (a published file in torch's hub cache);
- scores and features: :func:`paired_scores`, :func:`luma`, :func:`mean_image_baseline`,
  :class:`FeatureExtractor`, :class:`FeatureContext`; tiled inference: :func:`tiled`;
- recording runs elsewhere (TensorBoard, MLflow, ...): :class:`Logger`;
- files written whole or not at all: :func:`atomic_file` (a cache, a model file);
- options and errors that speak to the user: :func:`check_range` (a config field's
  allowed range, in a dataclass's ``__post_init__``), :class:`GanzooError` and its kinds.
"""

from ganzoo.data import ImageData, ItemData, UnpairedData, bundled_mnist, download_archive, read_idx
from ganzoo.errors import CheckpointError, ConfigError, DataError, GanzooError, GanzooWarning, PluginError
from ganzoo.evaluation.features import FeatureContext, FeatureExtractor
from ganzoo.evaluation.paired import luma, mean_image_baseline, paired_scores
from ganzoo.hookspecs import hookimpl
from ganzoo.images import IMAGE_SUFFIXES, image_files, process_image_files, read_image, resize_images, save_images, to_model_range, to_uint8
from ganzoo.losses import GANLoss
from ganzoo.model import (
    AUXILIARY, DISCRIMINATOR, FROZEN, GENERATOR, TRANSLATOR, Batch, Capabilities, Direction, GANModel, Phase, StepOutput,
    init_normal_,
)
from ganzoo.paths import cache_dir, data_root
from ganzoo.plugins import API_VERSION
from ganzoo.rundir import atomic_file
from ganzoo.specs import (
    CommandSpec, DataInfo, DatasetSpec, FeatureExtractorSpec, LoggerSpec, LossSpec, ModelSpec, TrainConfig, ZooEntry, check_range,
)
from ganzoo.tracking import Logger
from ganzoo.tiling import tiled
from ganzoo.weights import hub_file, load_state_dict, load_tensors

__all__ = [
    "API_VERSION", "AUXILIARY", "Batch", "Capabilities", "CheckpointError", "CommandSpec", "ConfigError", "DISCRIMINATOR",
    "DataError", "DataInfo", "DatasetSpec", "Direction", "FROZEN", "FeatureContext", "FeatureExtractor", "FeatureExtractorSpec",
    "GANLoss", "GANModel", "GENERATOR", "GanzooError", "GanzooWarning", "IMAGE_SUFFIXES", "ImageData", "ItemData", "Logger", "LoggerSpec", "LossSpec",
    "ModelSpec", "Phase", "PluginError", "StepOutput", "TRANSLATOR", "TrainConfig", "UnpairedData", "ZooEntry", "atomic_file", "bundled_mnist",
    "cache_dir", "check_range", "data_root", "download_archive", "hookimpl", "hub_file", "image_files", "init_normal_", "load_state_dict", "load_tensors", "luma", "mean_image_baseline",
    "paired_scores", "process_image_files", "read_idx", "read_image", "resize_images", "save_images", "tiled", "to_model_range", "to_uint8",
]
