"""Stratified SGD on Dask for SocialMF (Jamali & Ester, RecSys 2010): DSGD (``_dsgd``) for the rating term, and
the trust term as one more sub-epoch per epoch with stale neighbours.

Rating term. As for BiasedMF: ``d × d`` blocks of ratings, ``d`` strata per epoch, each block running SocialMF's
own C++ epoch (``_core.social_mf_epoch``) on its ratings and its rows (an empty trust part: no user pass).

Trust term ``½ λ_T ‖D_u‖²``, ``D_u = U_u − Σ_v T_uv U_v`` (eq. 7). It couples a user with his trustees, who
may live in any user block, so it cannot be stratified. Each user block ``a`` owns the terms of its trusters
and runs them as its **social sub-epoch**, right after its rating block of the epoch's last stratum, in the
same task and the same C++ call (the single-machine epoch's order: rating pass, then user pass). The call sees
``a``'s own rows, which are current, followed by copies of its trusters' **foreign trustees** (rows of other
user blocks), read as they were at the end of the previous sub-epoch (the stratum before the last). The
kernel's step on a term is exact for that point: ``U_u -= γ λ_T D_u`` on the truster and
``U_v += γ λ_T T_uv D_u`` on every trustee (later terms of the block read the copy with the block's own steps,
as one machine would). Steps on own rows stay; the steps on a foreign copy (its value after the pass minus
before) are sent to the row's block and added there once all blocks' sub-epochs are done (``add_deltas``).

Staleness, exactly: (1) a term whose trustee ``v`` is in another block reads ``U_v`` one sub-epoch old (it
misses the last stratum's rating steps on ``v`` and the other blocks' trust steps on ``v`` of this epoch);
(2) its step on such a ``U_v`` lands at the end of the epoch, after ``v``'s own block has moved on. Every term's
gradient with respect to every row it involves is still applied exactly once per epoch, and every rating's
too, so an epoch is one pass of SGD over SocialMF's objective with gradients delayed by at most one
sub-epoch (bounded staleness, as in Ho et al., "More effective distributed ML via a stale synchronous
parallel parameter server", NIPS 2013); terms inside one block are not stale at all. Each term is run once,
so the epoch's loss counts each once.

``d = 1``: one block, no foreign rows, and its task is exactly the single-machine epoch (the same grid, the same
trust arrays, the fit's seed): the fit equals the single-machine deterministic fit bit for bit.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import _engine
from . import _checkpoint, _dask
from ._dsgd import DSGD, _block_seed


def social_block(trust, own, foreign_bounds):
    """User block ``[own[0], own[1])``'s trust term in local ids: its users first, then the foreign trustees
    of its trusters (ascending global ids). ``trust`` = (offsets, trustees, weights), the row-normalised CSR.
    Returns ``(arrays, needs)``: the kernel's trust arrays and ``needs = {c: ids local to block c}``."""
    offsets, trustees, weights = trust
    u0, u1 = own
    first, last = offsets[u0], offsets[u1]
    targets = trustees[first:last].astype(np.int64)
    foreign = np.unique(targets[(targets < u0) | (targets >= u1)])
    local = np.where((targets >= u0) & (targets < u1), targets - u0,
                     (u1 - u0) + np.searchsorted(foreign, targets))
    n_local = (u1 - u0) + len(foreign)
    local_offsets = np.full(n_local + 1, last - first, dtype=np.int64)
    local_offsets[:u1 - u0 + 1] = offsets[u0:u1 + 1] - first
    owner = np.searchsorted(foreign_bounds, foreign, side="right") - 1
    needs = {int(c): foreign[owner == c] - foreign_bounds[c] for c in np.unique(owner)}
    arrays = {"trusters": np.flatnonzero(np.diff(local_offsets) > 0).astype(np.int32),
              "trust_offsets": local_offsets, "trustees": local.astype(np.int32),
              "trust_weights": weights[first:last]}
    return arrays, needs


def no_trust(n_users, dtype):
    """An empty trust part over ``n_users`` rows: the kernel then runs the rating pass only."""
    return {"trusters": np.zeros(0, np.int32), "trust_offsets": np.zeros(n_users + 1, np.int64),
            "trustees": np.zeros(0, np.int32), "trust_weights": np.zeros(0, dtype)}


def run_social_block(spec, users, items, grid, trust, shared, hyper, seed, epoch, pieces):
    """One block's SocialMF epoch: the rating pass on ``grid`` and, when ``trust`` is given, the user pass on
    the block's trusters; ``pieces`` = ``{c: foreign rows of block c}`` (float arrays, in the order of
    ``social_block``'s needs). Returns ``{"users", "items", "grid", "trust", "loss", "deltas"}``, ``deltas`` =
    ``{c: the steps taken on the copies of c's rows}``."""
    settings = _engine.pass_settings(seed, epoch, _dask.worker_threads(), spec._deterministic(), False)
    model = type(spec)(**spec.get_params())
    own = users["user_factors"].shape[0]
    foreign = [pieces[c] for c in sorted(pieces)]
    users = {k: v.copy() for k, v in users.items()}
    items = {k: v.copy() for k, v in items.items()}
    local = {"user_factors": np.concatenate([users["user_factors"]] + foreign)}
    if "user_bias" in users:  # foreign rows have no ratings here: their biases are never read
        local["user_bias"] = np.concatenate([users["user_bias"], np.zeros(len(local["user_factors"]) - own,
                                                                          users["user_bias"].dtype)])
    grid = {**grid, "records": grid["records"].copy()}  # the kernel shuffles them in place
    if trust is None:
        trust_state = no_trust(len(local["user_factors"]), local["user_factors"].dtype)
    else:
        trust_state = {**trust, "trusters": trust["trusters"].copy()}  # shuffled in place too
    model.parameters_ = {**local, **items, **shared}
    loss = model._run_epoch({"grid": grid, "trust": trust_state, "hyper": hyper}, settings)
    deltas, start = {}, own
    for c, rows in zip(sorted(pieces), foreign):
        deltas[c] = local["user_factors"][start:start + len(rows)] - rows
        start += len(rows)
    for key, value in local.items():
        users[key][...] = value[:own]
    return {"users": users, "items": items, "grid": grid, "trust": None if trust is None else trust_state,
            "loss": float(loss), "deltas": deltas}


def take_rows(rows, ids):
    """The user factor rows ``ids`` (local to their block) of a block's rows."""
    return rows["user_factors"][ids]


def add_deltas(rows, ids, *deltas):
    """A user block's rows with the foreign blocks' trust steps added (in block order) at ``ids``."""
    rows = {k: v.copy() for k, v in rows.items()}
    for delta in deltas:
        rows["user_factors"][ids] += delta  # ids are distinct within one sender's
    return rows


class SocialDSGD(DSGD):
    """The epoch engine of ``socialrec.distributed.fit`` for SocialMF (see the module docstring)."""

    def prepare(self, train):
        super().prepare(train)
        trust = self.model._trust_state(train)
        csr = (trust["trust_offsets"], trust["trustees"], trust["trust_weights"])
        self.trust, self.needs = [], []
        for a in range(self.d):
            arrays, needs = social_block(csr, (self.user_bounds[a], self.user_bounds[a + 1]), self.user_bounds)
            self.trust.append(self.submit.data(arrays, block=a))
            self.needs.append(needs)
        return self

    def run_epoch(self, state, settings):
        epoch, d, submit, get = settings["epoch"], self.d, self.submit, operator.getitem
        seed = int(self.model.seed_)
        strata = np.random.default_rng([seed & 0xFFFFFFFF, epoch]).permutation(d)
        losses, outs = [], {}
        for n, shift in enumerate(strata):
            last = n == d - 1
            pieces = [{c: submit(take_rows, self.U[c], ids, block=c) for c, ids in self.needs[a].items()}
                      if last else {} for a in range(d)]  # the foreign rows as of the previous sub-epoch
            for a in range(d):
                b = (a + int(shift)) % d
                out = submit(run_social_block, self.spec, self.U[a], self.I[b], self.grids[a][b],
                             self.trust[a] if last else None, self.shared, self.hyper,
                             _block_seed(seed, a, b, d), epoch, pieces[a], block=a)
                self.U[a], self.I[b] = submit(get, out, "users", block=a), submit(get, out, "items", block=a)
                self.grids[a][b] = submit(get, out, "grid", block=a)
                if last:
                    self.trust[a] = submit(get, out, "trust", block=a)
                    outs[a] = submit(get, out, "deltas", block=a)
                losses.append(submit(get, out, "loss", block=a))
        for c in range(d):
            senders = [a for a in range(d) if c in self.needs[a]]
            for a in senders:  # one block's steps at a time: rows repeated across senders add in block order
                self.U[c] = submit(add_deltas, self.U[c], self.needs[a][c], submit(get, outs[a], c, block=c),
                                   block=c)
        loss = float(sum(submit.client.gather(losses)))
        _checkpoint.after_epoch(self, epoch)
        return loss
