"""Link-prediction baselines on the training trust graph: common neighbours and Adamic–Adar.

The classic neighbourhood scores of Liben-Nowell & Kleinberg ("The link-prediction problem for social
networks", JASIST 2007), over the *undirected* training graph (an edge either way makes two users neighbours,
``Γ(u)``): common neighbours ``|Γ(u) ∩ Γ(v)|``, Adamic–Adar ``Σ_{w ∈ Γ(u) ∩ Γ(v)} 1 / log |Γ(w)|`` (Adamic &
Adar, "Friends and neighbors on the Web", Social Networks 2003). They score every user as a trustee of every
truster, so they work wherever a model's trust predictor does: ``recommend_users`` and
``sr.metrics.link_prediction``::

    train, test = sr.split.train_test_split(ds, test_size=0.0, trust_test_size=0.1, seed=0)
    sr.metrics.link_prediction(sr.baselines.AdamicAdar().fit(train), test, train=train)
"""
from __future__ import annotations


from . import _links
from ._errors import NotFittedError
from .data import as_dataset
from .models._follow import FollowMixin

__all__ = ["CommonNeighbours", "AdamicAdar"]


class _NeighbourhoodBaseline(FollowMixin):
    """Shared ``fit`` and scoring of the neighbourhood baselines (``_weights`` says how a shared neighbour
    counts)."""

    def fit(self, data, trust=None):
        """Keep the training trust graph of ``data`` (a Dataset, or ratings with ``trust=``); returns self."""
        data = as_dataset(data, trust)
        self.n_users_, self.n_items_ = data.ratings.shape
        self.user_ids_, self.item_ids_ = data.user_ids, data.item_ids
        self.trust_graph_ = data.trust.tocsr()
        self.adjacency_ = _links.undirected(self.trust_graph_)
        return self

    def _require_fitted(self):
        """Raise ``NotFittedError`` before ``fit``."""
        if getattr(self, "adjacency_", None) is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")

    def _weights(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _link_scores(self, users):
        """Dense scores of every user as a trustee of each of ``users`` (host int64 indices)."""
        return _links.neighbourhood_scores(self.adjacency_, users, self._weights())

    def __repr__(self):
        return f"{type(self).__name__}()"


class CommonNeighbours(_NeighbourhoodBaseline):
    """Common neighbours: ``score(u, v) = |Γ(u) ∩ Γ(v)|`` on the undirected training trust graph.

    ``fit(train)`` keeps the graph; ``recommend_users(users, n=10, exclude_known=True)`` lists the best
    scored users (raw ids in and out, as every model; a user scores 0 with everyone outside his two-hop
    neighbourhood, ties to the lower index); ``sr.metrics.link_prediction`` scores it like a model.
    """

    def _weights(self):
        return None


class AdamicAdar(_NeighbourhoodBaseline):
    """Adamic–Adar: ``score(u, v) = Σ_{w ∈ Γ(u) ∩ Γ(v)} 1 / log |Γ(w)|`` on the undirected training trust graph
    (rare shared neighbours count more). A shared neighbour has at least the two neighbours u and v, so the
    logarithm is positive. Used like :class:`CommonNeighbours`."""

    def _weights(self):
        return _links.adamic_adar_weights(self.adjacency_)
