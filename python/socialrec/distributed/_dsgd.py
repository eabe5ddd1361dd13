"""Stratified SGD on Dask (DSGD: Gemulla, Nijkamp, Haas, Sismanis, "Large-scale matrix factorization with
distributed stochastic gradient descent", KDD 2011) for the models whose epoch is one stratified rating pass
(BiasedMF, and PMF as BiasedMF(biased=False)).

Users and items are cut into ``d`` contiguous blocks each (``block(u) = u·d // n_users``, as the C++ grid
does), which makes ``d × d`` blocks of ratings. An epoch runs ``d`` sub-epochs (strata) in an order shuffled
per epoch; stratum ``s`` holds the blocks ``(a, (a + σ_s) mod d)``, which share no user and no item, so its
``d`` blocks run in parallel on the workers with the result of running them one after another (Gemulla et
al. Thm. 1: the strata's sequence is a valid SGD schedule). Each block task runs **the model's own epoch**
(``model._run_epoch``, i.e. the same C++ step) on the block's ratings and the block's rows only: its ratings
are packed into the model's own grid (``_rating_grid``) and their visiting order persists from epoch to epoch
(the kernel shuffles in place), as in the single-machine grid. A block's user rows go from one stratum's task
to the next block of the same user block, never through this process.

``d = 1`` is one block holding everything, run with the fit's seed: exactly the single-machine deterministic
fit. For ``d > 1`` each block's visiting order is seeded by (seed, block), so the fit differs from the
single-machine one by its order of updates (RMSE within 1% in the tests).
"""
from __future__ import annotations

import operator
import types

import numpy as np

from .. import _engine
from . import _checkpoint, _dask

USER_KEYS = ("user_factors", "user_bias", "user_accumulators")
ITEM_KEYS = ("item_factors", "item_bias", "item_accumulators")


def run_block(spec, users, items, grid, shared, hyper, seed, epoch):
    """One block's SGD epoch with ``spec``'s model (its ``_run_epoch``) on copies of the block's rows and
    records, its visiting orders seeded by ``seed``; returns the new ``{"users", "items", "grid", "loss"}``."""
    settings = _engine.pass_settings(seed, epoch, _dask.worker_threads(), True, False)
    model = type(spec)(**spec.get_params())
    users, items = {k: v.copy() for k, v in users.items()}, {k: v.copy() for k, v in items.items()}
    grid = {**grid, "records": grid["records"].copy()}  # the kernel shuffles them in place
    schedule = {k: v for k, v in {**users, **items}.items() if k.endswith("_accumulators")}
    model.parameters_ = {**{k: v for k, v in {**users, **items}.items() if k not in schedule}, **shared}
    loss = model._run_epoch({"grid": grid, "hyper": hyper, "schedule": schedule}, settings)
    return {"users": users, "items": items, "grid": grid, "loss": float(loss)}


def _block_seed(seed, a, b, d):
    """The seed of block (a, b)'s visiting orders: the fit's seed when d = 1 (the single-machine order)."""
    if d == 1:
        return seed
    return (seed * 0x9E3779B97F4A7C15 + a * d + b + 1) & 0xFFFFFFFFFFFFFFFF


class DSGD:
    """The epoch engine of ``socialrec.distributed.fit`` for BiasedMF (see the module docstring)."""

    def __init__(self, model, submit, blocks, sync_every_epoch, checkpoints):
        self.model, self.submit, self.d, self.sync = model, submit, int(blocks), sync_every_epoch
        self.checkpoints = checkpoints

    def prepare(self, train):
        model, d, submit = self.model, self.d, self.submit
        d = self.d = max(1, min(d, train.n_users, train.n_items))
        self.user_bounds = np.asarray([-(-j * train.n_users // d) for j in range(d + 1)], dtype=np.int64)
        self.item_bounds = np.asarray([-(-j * train.n_items // d) for j in range(d + 1)], dtype=np.int64)
        state = model._prepare(train)  # the model's own training state: its hyper-parameters and schedule
        self.hyper = state["hyper"]
        # the rows of every block (parameters and RPCS accumulators), gathered here at checkpoints and the end
        self.rows = {**model.parameters_, **state.get("schedule", {})}
        self.shared = {k: v for k, v in self.rows.items() if k not in USER_KEYS + ITEM_KEYS}
        self.reseed()
        ratings = train.ratings.tocsr()
        self.grids = [[submit.data(self._block_grid(train, ratings, a, b), block=a) for b in range(d)]
                      for a in range(d)]
        self.spec = type(model)(**model.get_params())
        return self

    def reseed(self):
        """The user and item blocks from ``self.rows``."""
        rows, submit = self.rows, self.submit
        self.U = [submit.data({k: rows[k][a:b] for k in USER_KEYS if k in rows}, block=j)
                  for j, (a, b) in enumerate(zip(self.user_bounds[:-1], self.user_bounds[1:]))]
        self.I = [submit.data({k: rows[k][a:b] for k in ITEM_KEYS if k in rows}, block=j)
                  for j, (a, b) in enumerate(zip(self.item_bounds[:-1], self.item_bounds[1:]))]

    def _block_grid(self, train, ratings, a, b):
        """Block (a, b)'s ratings in local ids, packed by the model's own ``_rating_grid``."""
        u0, u1 = self.user_bounds[a], self.user_bounds[a + 1]
        i0, i1 = self.item_bounds[b], self.item_bounds[b + 1]
        block = ratings[u0:u1][:, i0:i1].tocsr()
        block.sort_indices()
        view = types.SimpleNamespace(ratings=block, n_users=int(u1 - u0), n_items=int(i1 - i0),
                                     rating_scale=train.rating_scale)
        return self.model._rating_grid(view)

    def run_epoch(self, state, settings):
        epoch, d, submit, get = settings["epoch"], self.d, self.submit, operator.getitem
        strata = np.random.default_rng([int(self.model.seed_) & 0xFFFFFFFF, epoch]).permutation(d)
        losses = []
        for shift in strata:
            for a in range(d):
                b = (a + int(shift)) % d
                out = submit(run_block, self.spec, self.U[a], self.I[b], self.grids[a][b], self.shared, self.hyper,
                             _block_seed(int(self.model.seed_), a, b, d), epoch, block=a)
                self.U[a], self.I[b] = submit(get, out, "users", block=a), submit(get, out, "items", block=a)
                self.grids[a][b] = submit(get, out, "grid", block=a)
                losses.append(submit(get, out, "loss", block=a))
        loss = float(sum(submit.client.gather(losses)))
        _checkpoint.after_epoch(self, epoch)
        return loss

    def gather_parameters(self):
        """The blocks' rows into ``self.rows`` (in place), whose parameter arrays are the model's."""
        for blocks, bounds in ((self.U, self.user_bounds), (self.I, self.item_bounds)):
            for (a, b), rows in zip(zip(bounds[:-1], bounds[1:]), self.submit.client.gather(blocks)):
                for key, value in rows.items():
                    self.rows[key][a:b] = value
