"""Blocked ALS and SocialALS on Dask: every row solve is socialrec's C++ one (``_core.als_block_solve``), so
the fit equals the single-machine ``ALS`` / ``SocialALS`` fit bit for bit, for any number of blocks and workers.

One epoch (one alternation), as Spark MLlib's ALS runs it, with blocks of users P_p and of items Q_q
(``_blocks``):

1. each item block computes the partial Gramians of its chunks, which every user block adds up in chunk order
   (``YᵀY``, k x k per chunk: small);
2. each item block q sends to each user block p only the rows p's users rated (q's out-links to p), and user
   block p solves its rows (``(A_u + β s_u I) x_u = b_u + β Σ_f S_uf x_f``, SocialALS's term with β > 0);
3. the same with the sides swapped (``XᵀX``, user rows to the item blocks); the item solves return their rows'
   terms of the objective;
4. SocialALS: each user block sends to each user block p the rows of p's users' friends (``S``'s links, in
   both directions since S is symmetric): the new rows both give this epoch's graph term of the objective
   and are next epoch's Jacobi "previous" neighbours of step 2 (the single-machine half-step reads them from
   a snapshot taken before it, the same values).

The driver holds futures only; it gathers one float (the loss) per epoch, and the factors when the model
needs them (the last epoch, a checkpoint, validation or a callback). Every task is recomputable from its
inputs (the block data are tasks too, not scattered), so a worker lost mid-epoch is recomputed by Dask.
The objective is summed per block, so it may differ from the single-machine one in the last bits
(summation order); the factors do not.
"""
from __future__ import annotations

import numpy as np

from .. import _core, _engine
from . import _blocks, _checkpoint, _dask


def _task_settings(epoch):
    """The kernels' settings inside a task: the worker's own thread count (no Ctrl-C polling there)."""
    return _engine.pass_settings(0, epoch, _dask.worker_threads(), True, False)


# -- tasks (run on the workers) -----------------------------------------------------------------------------
def gramian_partials(block, first, total, chunks):
    """The partial Gramians of the ``chunks`` whole chunks of a block of rows [first, first + rows)."""
    X = block["factors"]
    partials = np.zeros((chunks, X.shape[1], X.shape[1]), dtype=X.dtype)
    _core.als_gramian_partials({"block_factors": X, "partials": partials},
                               {"factors": X.shape[1], "first": int(first), "total": int(total)}, _task_settings(0))
    return partials


def add_partials(*partials):
    """``Σ_c P_c`` in chunk order from zero, as the C++ Gramian adds its chunks (the same bits)."""
    G = np.zeros(partials[0].shape[1:], dtype=partials[0].dtype)
    for stack in partials:
        for P in stack:
            G += P
    return G


def take_rows(block, static, links, other):
    """The rows of this block that block ``other`` of a linked side needs (``static[links][other]``)."""
    return block["factors"][static[links][other]]


def solve_block(static, block, partials, fixed, neighbours, hyper, epoch, want_loss):
    """A new copy of the block's rows solved against the ``fixed`` pieces (and SocialALS's ``neighbours``),
    with the other side's Gramian added up here from its blocks' ``partials`` (one task less on the path of
    every half-step); returns ``{"factors", "loss"}`` (loss: the rows' terms when ``want_loss``, else 0)."""
    X = block["factors"].copy()  # never in place: the old rows may still feed other tasks (or a recompute)
    k = X.shape[1]
    gramian = add_partials(*partials)
    arrays = {"rows_indptr": static["indptr"], "rows_indices": static["indices"], "rows_values": static["values"],
              "block_factors": X, "fixed_factors": _blocks.concat_pieces(fixed, k, X.dtype), "gramian": gramian}
    h = {**hyper, "want_loss": bool(want_loss), "social_regularization": 0.0}
    if neighbours is not None:
        h["social_regularization"] = float(hyper["social_regularization"])
        arrays.update({"similarity_indptr": static["sim_indptr"], "similarity_indices": static["sim_indices"],
                       "similarity_values": static["sim_values"],
                       "neighbours": _blocks.concat_pieces(neighbours, k, X.dtype)})
    loss = _core.als_block_solve(arrays, h, _task_settings(epoch))
    return {"factors": X, "loss": float(loss)}


def block_loss(block):
    """The loss a block's solve returned."""
    return block["loss"]


def user_penalty(static, block, neighbours, regularization, beta):
    """λ‖X_p‖² plus (β/2) Σ_{u∈p} Σ_f S_uf ‖x_u − x_f‖² (float64) of user block p."""
    X = block["factors"].astype(np.float64)
    total = regularization * float(np.sum(X * X))
    if neighbours is not None:
        N = _blocks.concat_pieces(neighbours, X.shape[1], np.float64).astype(np.float64)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(static["sim_indptr"]))
        d = X[rows] - N[static["sim_indices"]]
        total += 0.5 * beta * float(np.sum(static["sim_values"].astype(np.float64) * np.einsum("ij,ij->i", d, d)))
    return total


def add_losses(*losses):
    return float(sum(losses))


# -- the driver -------------------------------------------------------------------------------------------
class Side:
    """One side (users or items) of the blocked fit: its bounds, its blocks' static data (futures) and, per
    block, which blocks of the other side it receives rows from (``receives``, ascending) and, for the
    users of SocialALS, which user blocks send it neighbours (``neighbours_from``)."""

    def __init__(self, bounds):
        self.bounds = bounds
        self.statics, self.receives, self.neighbours_from = [], [], []

    @property
    def n(self):
        return len(self.bounds) - 1

    def chunks(self, p):
        """The Gramian chunks inside block p."""
        chunk_bounds = _core.gramian_chunk_bounds(int(self.bounds[-1]))
        return int(np.sum((chunk_bounds[:-1] >= self.bounds[p]) & (chunk_bounds[1:] <= self.bounds[p + 1])))


def build_sides(user_items, item_users, similarity, user_bounds, item_bounds, submit):
    """The two sides' static block data from the confidence-weighted CSR matrices (and SocialALS's similarity
    S, or None), each block's data submitted as a task to its worker."""
    users, items = Side(user_bounds), Side(item_bounds)
    user_blocks = [_blocks.linked_rows(*_blocks.csr_block(user_items, a, b), item_bounds)
                   for a, b in zip(user_bounds[:-1], user_bounds[1:])]
    item_blocks = [_blocks.linked_rows(*_blocks.csr_block(item_users, a, b), user_bounds)
                   for a, b in zip(item_bounds[:-1], item_bounds[1:])]
    social = [None] * users.n
    if similarity is not None:
        social = [_blocks.linked_rows(*_blocks.csr_block(similarity, a, b), user_bounds)
                  for a, b in zip(user_bounds[:-1], user_bounds[1:])]
    for side, blocks, other in ((users, user_blocks, item_blocks), (items, item_blocks, user_blocks)):
        for p, (indptr, indices, values, needs) in enumerate(blocks):
            static = {"indptr": indptr, "indices": indices, "values": values,
                      # out-links: the rows of p that each block q of the other side needs
                      "out": {q: other_needs[p] for q, (*_, other_needs) in enumerate(other) if p in other_needs}}
            if side is users and similarity is not None:
                static.update(zip(("sim_indptr", "sim_indices", "sim_values"), social[p][:3]))
                static["out_social"] = {f: s[3][p] for f, s in enumerate(social) if p in s[3]}
                side.neighbours_from.append(sorted(social[p][3]))
            side.receives.append(sorted(needs))
            side.statics.append(submit.data(static, block=_block_id(side is items, p)))
    return users, items


def _block_id(is_items, p):
    """The worker-assignment number of a block: users' blocks from 0, items' from 1, interleaved."""
    return 2 * p + int(is_items)


class BlockedALS:
    """The epoch engine of ``socialrec.distributed.fit`` for ALS and SocialALS (``prepare`` / ``run_epoch`` take
    the place of the model's ``_prepare`` / ``_run_epoch`` during its ``fit``)."""

    def __init__(self, model, submit, blocks, sync_every_epoch, checkpoints):
        self.model, self.submit, self.blocks, self.sync = model, submit, blocks, sync_every_epoch
        self.checkpoints = checkpoints
        self.social = float(getattr(model, "social_regularization", 0.0)) != 0.0

    # hooks ------------------------------------------------------------------------------------------------
    def prepare(self, train):
        model = self.model
        weighted = model._weighted(train.ratings)
        similarity = model._similarity(train.trust).tocsr() if self.social else None
        users = _blocks.block_bounds(_core.gramian_chunk_bounds(train.n_users), self.blocks)
        items = _blocks.block_bounds(_core.gramian_chunk_bounds(train.n_items), self.blocks)
        self.users, self.items = build_sides(weighted.tocsr(), weighted.T.tocsr(), similarity, users, items,
                                             self.submit)
        self.hyper = model._hyper()
        self.reseed()
        return self

    def reseed(self):
        """The factor blocks (and SocialALS's neighbour pieces) from the model's ``parameters_``."""
        self.X = self._blocks_of(self.users, self.model.parameters_["user_factors"], False)
        self.Y = self._blocks_of(self.items, self.model.parameters_["item_factors"], True)
        self.neighbours = self._neighbour_pieces(self.X) if self.social else None

    def run_epoch(self, state, settings):
        epoch = settings["epoch"]
        users, items, submit = self.users, self.items, self.submit
        partials = self._partials(items, self.Y)
        X = [submit(solve_block, users.statics[p], self.X[p], partials,
                    [submit(take_rows, self.Y[q], items.statics[q], "out", p, block=_block_id(True, q))
                     for q in users.receives[p]],
                    self.neighbours[p] if self.social else None, self.hyper, epoch, False, block=_block_id(False, p))
             for p in range(users.n)]
        partials = self._partials(users, X)
        Y = [submit(solve_block, items.statics[q], self.Y[q], partials,
                    [submit(take_rows, X[p], users.statics[p], "out", q, block=_block_id(False, p))
                     for p in items.receives[q]], None, self.hyper, epoch, True, block=_block_id(True, q))
             for q in range(items.n)]
        neighbours = self._neighbour_pieces(X) if self.social else None
        beta = float(self.hyper.get("social_regularization", 0.0))
        parts = [submit(block_loss, y, block=_block_id(True, q)) for q, y in enumerate(Y)]
        parts += [submit(user_penalty, users.statics[p], x, neighbours[p] if self.social else None,
                         float(self.hyper["regularization"]), beta, block=_block_id(False, p))
                  for p, x in enumerate(X)]
        loss = submit(add_losses, *parts).result()
        self.X, self.Y, self.neighbours = X, Y, neighbours
        _checkpoint.after_epoch(self, epoch)
        return loss

    # helpers ----------------------------------------------------------------------------------------------
    def _blocks_of(self, side, factors, is_items):
        return [self.submit.data({"factors": np.ascontiguousarray(factors[a:b]), "loss": 0.0},
                                 block=_block_id(is_items, p))
                for p, (a, b) in enumerate(zip(side.bounds[:-1], side.bounds[1:]))]

    def _partials(self, side, blocks):
        """Futures of each block's partial Gramians (the solves add them up: ``add_partials``)."""
        total = int(side.bounds[-1])
        return [self.submit(gramian_partials, b, int(side.bounds[p]), total, side.chunks(p),
                            block=_block_id(side is self.items, p))
                for p, b in enumerate(blocks)]

    def _neighbour_pieces(self, X):
        """For each user block p: the pieces of its users' neighbours' rows of ``X``, in block order."""
        users = self.users
        return [[self.submit(take_rows, X[f], users.statics[f], "out_social", p, block=_block_id(False, f))
                 for f in users.neighbours_from[p]] for p in range(users.n)]

    def gather_parameters(self):
        """The blocks' factors into the model's ``parameters_`` (in place)."""
        client = self.submit.client
        for key, side, blocks in (("user_factors", self.users, self.X), ("item_factors", self.items, self.Y)):
            target = self.model.parameters_[key]
            for (a, b), block in zip(zip(side.bounds[:-1], side.bounds[1:]), client.gather(blocks)):
                target[a:b] = block["factors"]
