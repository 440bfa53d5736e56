"""Evaluation, in one package: held-out scores of translators (:mod:`.paired`), sample
figures (:mod:`.samples`), feature extractors (:mod:`.features`), the real-feature cache
(:mod:`.cache`), ``metrics.json`` (:mod:`.records`) and the dispatch (:mod:`.evaluate`)."""

from ganzoo.evaluation.evaluate import evaluate_heldout, evaluate_model, evaluate_samples
from ganzoo.evaluation.records import read_metrics, update_metrics

__all__ = ["evaluate_heldout", "evaluate_model", "evaluate_samples", "read_metrics", "update_metrics"]
