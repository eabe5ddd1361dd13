"""``socialrec.distributed``: fitting socialrec's models on a Dask cluster (extra ``socialrec[dask]``:
``pip install "socialrec[dask]"``, i.e. ``dask[dataframe]`` and ``distributed``).

>>> from dask.distributed import Client                               # doctest: +SKIP
>>> model = sr.distributed.fit(sr.SocialALS(factors=64), data, client=Client(), blocks=None)  # doctest: +SKIP

The fitted model is an ordinary socialrec model (``predict``, ``recommend``, ``save``), trained by socialrec's
own C++ kernels on the workers:

* **ALS, SocialALS**: blocked alternating least squares as Spark MLlib runs it (``_als``): users and items in
  blocks, each block's rows solved by a worker against only the rows of the other side it needs; SocialALS's
  graph term exchanges exactly the friends' rows between user blocks. Row solves are independent, so the
  factors equal the single-machine fit's bit for bit, for any number of blocks and workers.
* **BiasedMF** (PMF with ``biased=False``): stratified SGD (DSGD, ``_dsgd``) on ``blocks × blocks`` blocks of
  ratings, ``blocks`` of them at a time in parallel, each running the model's own C++ epoch on its block.
  ``blocks=1`` equals the single-machine deterministic fit exactly.
* **SocialMF**: the same DSGD for the rating term; the trust term runs as a social sub-epoch per user block
  in the epoch's last stratum, reading other blocks' trustees one sub-epoch old (``_social_dsgd`` says exactly
  what is stale and why an epoch still descends SocialMF's objective). ``blocks=1``: exactly the
  single-machine fit.

Input: a Dataset (or what ``model.fit`` takes), or a ``dask.dataframe`` DataFrame (``_frame``: the id maps are
built from each partition's distinct ids, the partitions coded on the workers). This process draws the
initial factors (the single-machine draws, hence the equality), cuts the blocks and receives the fitted
factors (an ordinary model holds them all); a model that stays distributed is not written yet. Dask is
imported when a function here runs, never at ``import socialrec``.
"""
from __future__ import annotations

import contextlib
import os

from .._validate import is_int
from ..models.als import ALS
from ..models.biased_mf import BiasedMF
from ..models.social_mf import SocialMF
from . import _als, _checkpoint, _dask, _dsgd, _frame, _social_dsgd
from ._checkpoint import load_checkpoint

__all__ = ["fit", "load_checkpoint"]

SUPPORTED = ("ALS", "SocialALS", "BiasedMF", "SocialMF")


def fit(model, data, client=None, blocks=None, *, trust=None, validation=None, early_stopping=None, callback=None,
        checkpoint=None, checkpoint_every=5):
    """Fit ``model`` on ``data`` with the workers of a Dask ``client``; returns ``model``, fitted.

    Parameters
    ----------
    model : ALS, SocialALS, BiasedMF or SocialMF
        An unfitted (or fitted: refitted) model; its hyper-parameters, seed and epochs are used as by ``fit``.
    data : Dataset, dask.dataframe.DataFrame, or anything ``model.fit`` takes (with ``trust=``)
        Training data. A Dask DataFrame (e.g. ``dd.read_parquet`` or ``dd.read_csv`` of files partitioned by
        users) has the columns ``user``, ``item``, ``rating``, and ``trust`` then is a Dask or pandas DataFrame
        with ``truster``, ``trustee`` (or None): the ids are numbered on the workers, as
        ``Dataset.from_pandas`` numbers them, without the rows meeting in one place (``_frame``).
    client : dask.distributed.Client, optional
        The cluster; None takes this process's default client (``distributed.get_client()``).
    blocks : int, optional
        Blocks per side (users, items); None: one per worker. ALS: a side of n rows has at most
        ``min(64, ceil(n / 256))`` blocks (the chunks its Gramian is summed over), so fewer may be used; the
        result does not depend on it. BiasedMF, SocialMF: DSGD's ``d`` (``d × d`` blocks of ratings).
    trust, validation, early_stopping, callback
        As in ``model.fit``. With validation, early stopping or a callback the factors are gathered to this
        process after every epoch (else only at the end).
    checkpoint : str or path, optional
        A directory: every ``checkpoint_every`` epochs the factors are written there (``epoch-NNNNN.npz``,
        atomically; ``latest`` names the newest; ``load_checkpoint`` reads it back) and the blocks restart from
        them, so a worker lost later is recomputed from the checkpoint rather than from the first epoch.
    checkpoint_every : int, default 5
        Epochs between checkpoints.

    A worker lost during the fit is recomputed by Dask from the tasks that made its results (every block,
    its data included, is the result of a task), and the fit goes on with the same result.
    """
    if getattr(model, "privacy", None) is not None:
        raise ValueError("socialrec.distributed has no private (DP-SGD) fit; fit privacy=... models in one process")
    if getattr(model, "regularization_scaling", "occurrence") != "occurrence":
        raise ValueError(f"socialrec.distributed: regularization_scaling={model.regularization_scaling!r} needs "
                         "the global rating counts in every block (not implemented); use 'occurrence'")
    client = _dask.resolve_client(client)
    if _frame.is_dask_frame(data):  # id maps on the workers, then the ratings as codes (_frame)
        data, trust = _frame.dataset(client, data, trust), None
    submit = _dask.Submitter(client)
    if blocks is None:
        blocks = len(submit.workers)
    if not is_int(blocks) or blocks < 1:
        raise ValueError(f"blocks={blocks!r} must be a positive integer (or None: one per worker)")
    sync = _syncs(validation, early_stopping, callback)
    checkpoints = _checkpoint.Checkpoints(None if checkpoint is None else os.fspath(checkpoint), checkpoint_every)
    if isinstance(model, ALS):
        engine = _als.BlockedALS(model, submit, int(blocks), sync, checkpoints)
    elif type(model) is BiasedMF:
        engine = _dsgd.DSGD(model, submit, int(blocks), sync, checkpoints)
    elif type(model) is SocialMF:
        engine = _social_dsgd.SocialDSGD(model, submit, int(blocks), sync, checkpoints)
    else:
        raise TypeError(f"socialrec.distributed fits {', '.join(SUPPORTED)}; got {type(model).__name__}")
    if model.device == "cuda":
        raise ValueError("socialrec.distributed trains on the workers' CPUs: use device='cpu' (or 'auto')")
    with _hooked(model, engine):
        model.fit(data, trust=trust, validation=validation, early_stopping=early_stopping, callback=callback)
    return model


def _syncs(validation, early_stopping, callback):
    """Whether the factors must reach this process after every epoch (fit reads them there)."""
    return validation is not None or bool(early_stopping) or callback is not None


@contextlib.contextmanager
def _hooked(model, engine):
    """During the block, the model's ``fit`` builds its training state and runs its epochs through
    ``engine`` (instance attributes over ``_prepare_on_device`` / ``_run_epoch_on_device``; removed after)."""
    model._prepare_on_device = engine.prepare
    model._run_epoch_on_device = engine.run_epoch
    try:
        yield
    finally:
        for name in ("_prepare_on_device", "_run_epoch_on_device"):
            model.__dict__.pop(name, None)
