"""Loggers for the tools people watch training in: TensorBoard and MLflow.

An ordinary plugin (entry point ``loggers``): it registers two
:class:`ganzoo.plugin.LoggerSpec`, which a run uses when its entry lists them in
``train.loggers`` or ``ganzoo run --logger NAME`` asks for them. Each needs its optional
extra: ``pip install 'ganzoo[tensorboard]'``, ``pip install 'ganzoo[mlflow]'``. See
``docs/tracking.md``.
"""

from __future__ import annotations

from ganzoo.plugin import LoggerSpec, hookimpl

GANZOO_API = 1


def _tensorboard(options: dict):
    from ganzoo_loggers.tensorboard_logger import TensorBoardLogger

    return TensorBoardLogger(**options)


def _mlflow(options: dict):
    from ganzoo_loggers.mlflow_logger import MLflowLogger

    return MLflowLogger(**options)


@hookimpl
def ganzoo_register_loggers() -> list[LoggerSpec]:
    return [
        LoggerSpec("tensorboard", _tensorboard, "TensorBoard event files in the run directory (tensorboard --logdir runs/)",
                   extra="'ganzoo[tensorboard]'"),
        LoggerSpec("mlflow", _mlflow, "an MLflow run per training run: params, metrics by step, grids, artifacts",
                   extra="'ganzoo[mlflow]'"),
    ]
