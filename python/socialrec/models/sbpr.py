"""SBPR: social Bayesian personalised ranking."""
from __future__ import annotations

import numpy as np

from .. import _core
from ._explain import bias_parts, csr_row, host64, pull_parts
from ._follow import fitted_trust
from .base import UNIT_INTERVAL, register
from .bpr import BPR, device_social_matrix, expected_loss, social_matrix


@register
class SBPR(BPR):
    """Social Bayesian personalised ranking: BPR whose users rank the items their friends consumed between
    their own items and the rest.

    Every stored entry of the training matrix is a positive interaction; the trust graph is read as
    friendship (``T[u, v] != 0``: v is a friend of u; LastFM stores it in both directions). Score
    ``x_ui = b_i + p_u·q_i`` as in :class:`BPR`. For user ``u``, ``P_u`` are the consumed items, ``SP_u`` the
    social items (consumed by at least one friend, not by ``u``), ``N_u`` the rest, and
    ``s_uk`` the number of ``u``'s friends who consumed ``k``.

    Objective (Zhao, McAuley, King 2014, eq. 7-8: ``x_ui ≥ x_uk ≥ x_uj``, the first gap discounted by the
    social coefficient), a sum over the sampled ``(u, i ∈ P_u, k ∈ SP_u, j ∈ N_u)`` of one epoch::

        −ln σ((x_ui − x_uk) / (1 + s_uk)) − ln σ(x_uk − x_uj)
            + ½ λ (‖p_u‖² + ‖q_i‖² + ‖q_k‖² + ‖q_j‖²) + ½ λ_b (b_i² + b_k² + b_j²)

    A user with no social item (or whose ``P_u ∪ SP_u`` is every item) contributes BPR's triple term instead.

    ``social_weight`` α (an extension; the paper is α = 1) mixes the two social terms with BPR's pair term on
    the same sample, and weighs the social item's penalty alike::

        α [−ln σ((x_ui − x_uk) / (1 + s_uk)) − ln σ(x_uk − x_uj) + ½ λ ‖q_k‖² + ½ λ_b b_k²]
            + (1 − α) [−ln σ(x_ui − x_uj)] + ½ λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖²) + ½ λ_b (b_i² + b_j²)

    α = 0 is BPR whose negatives exclude the friends' items. Why it exists: the paper's first term ranks every
    friend's item below every one of the user's own items, for every user; where the friends' items are the
    likeliest future items (LastFM: 45% of held-out items, 1.7% of candidates), that term costs accuracy.
    With a small α the ordering acts as a prior that friends' items rank above the rest, while BPR's term
    keeps each positive above the negatives. On LastFM-2k the validation split chose α = 0.05
    (bench/accuracy_lastfm.py; bench/README.md has the figures).

    An epoch draws as many samples as BPR: ``(u, i)`` a uniform training interaction, then for a user with
    social items ``k`` uniform over ``SP_u`` and ``j`` uniform over ``N_u`` (rejection sampling); otherwise
    ``j`` uniform over the items ``u`` did not consume. Streams as in :class:`BPR`.

    ``loss(data)`` is the expectation of an epoch's sum under this sampling (exact): per interaction, the
    mean of the first term over ``k ∈ SP_u``, of the second over ``(k, j) ∈ SP_u × N_u``, and of each
    penalty over the items it touches (BPR's formula for users without social items). It costs
    ``O((nnz + Σ_u |SP_u|) · n_items)``: about a minute on LastFM-2k, where friends' items are many.

    References: T. Zhao, J. McAuley, I. King, "Leveraging social connections to improve personalized
    ranking for collaborative filtering", CIKM 2014.

    Explanations and who to follow:
    ``explain`` (models/_explain.py): the item bias and ``p_u·q_i`` split over the friends of u who consumed
    ``i`` (the ``s_ui`` friends that make ``i`` one of u's social items): ``p_f·q_i / s_ui`` per such friend and
    the user's deviation from their mean; without such friends ``p_u·q_i`` is the user's own part. The parts
    sum to the score; then the most similar consumed items (not parts). ``recommend_users``: the
    friends-of-friends fallback.

    Parameters
    ----------
    social_weight : float, default 1.0
        α in [0, 1]: the weight of the paper's two social terms against BPR's pair term (above); 1 is the
        paper's objective.
    factors, epochs, learning_rate, regularization, bias_regularization, init_std, deterministic, seed,
    num_threads, dtype, device, progress
        As in :class:`BPR` (same defaults).
    """

    uses_trust = True  # trains on the trust graph (sr.compare's social group)
    # issue 19: no DP-SGD (docs/PRIVACY.md "Models without a private fit"); base.Model.__init__ raises this
    _privacy_refusal = ("its sampled pairs read the friends' consumption (items a friend bought are ranked "
                        "between the user's own and the rest), so one user's data would reach the released item "
                        "factors through every friend's contribution (no clipping bounds it)")
    # sr.tune's default search space (socialrec.tuning.resolve_search_space); epochs come from early stopping
    search_space = {"learning_rate": ("log", 5e-3, 0.2), "regularization": ("log", 1e-4, 0.1),
                    "social_weight": ("float", 0.0, 1.0), "bias_regularization": ("log", 1e-4, 0.1)}
    _params = {"social_weight": 1.0}
    _checks = {"social_weight": UNIT_INTERVAL}

    def _hyper(self):
        return {**super()._hyper(), "social_weight": float(self.social_weight)}

    def _social_arrays(self, train, xp=np):
        if xp is not np:  # a CUDA fit: built on the device
            indptr, items, counts = device_social_matrix(train, train.trust, xp)
            return {"social_indptr": indptr, "social_items": items, "social_counts": counts}
        s = social_matrix(train.ratings, train.trust)
        return {"social_indptr": s.indptr.astype(np.int64), "social_items": s.indices.astype(np.int32),
                "social_counts": np.ascontiguousarray(s.data, dtype=np.int32)}

    def _prepare(self, train):
        state = super()._prepare(train)
        state["arrays"].update(self._social_arrays(train))
        return state

    def _run_epoch(self, state, settings):
        return _core.sbpr_epoch({**self.parameters_, **state["arrays"]}, state["hyper"], settings)

    def _loss(self, data):
        return expected_loss(self, data, social=True)

    def _explain_parts(self, u, i):
        """explain's parts: the item bias and ``p_u·q_i`` split over the friends of u who consumed ``i`` (those
        that make ``i`` a social item of u, ``s_ui`` of them), each with weight ``1/s_ui``
        (``_explain.pull_parts``); without such friends ``p_u·q_i`` is the user's own part."""
        P = self.parameters_["user_factors"]
        q = host64(self.parameters_["item_factors"][i])
        friends = csr_row(fitted_trust(self).indptr, fitted_trust(self).indices, u)
        consumed = np.array([i in csr_row(self.seen_indptr_, self.seen_indices_, int(f)) for f in friends], bool)
        friends = friends[consumed]
        weights = np.full(len(friends), 1.0 / max(len(friends), 1))
        return bias_parts(self, u, i) + pull_parts(u, host64(P[u]), friends, weights, P, q)
