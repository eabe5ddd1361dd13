"""Shared pieces of the implicit-feedback (ranking) models: BPR, SBPR, ALS, SocialALS."""
from __future__ import annotations

from .. import metrics
from .base import Model


class RankingModel(Model):
    """Base of the ranking models: ``predict`` returns the score ``x_ui`` (no rating scale), validation and
    early stopping watch NDCG@10 on the held-out interactions (training items excluded)."""

    _link = "score"
    _validation_metric = "ndcg"
    _validation_k = 10

    def _validation_record(self, validation):
        scores = metrics.ranking(self, validation, k=self._validation_k)
        return {f"val_{name}": value for name, value in scores.items()}
