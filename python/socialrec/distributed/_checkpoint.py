"""Checkpoints of a distributed fit's factors: every ``every`` epochs the driver gathers the parameters and
writes them to ``directory/epoch-NNNNN.npz`` (atomically: a temporary file renamed over the target, so a crash
mid-write never leaves a truncated checkpoint), then ``directory/latest`` names it. The engines then restart
their blocks' lineage from the gathered arrays, so that a worker lost later is recomputed from the checkpoint,
not from the first epoch (Spark's ``checkpointInterval``)."""
from __future__ import annotations

import os

import numpy as np

from ..models._atomic import replace_atomically


class Checkpoints:
    """Where and how often to write (``directory`` None: never)."""

    def __init__(self, directory, every):
        if directory is not None and (not isinstance(every, int) or isinstance(every, bool) or every < 1):
            raise ValueError(f"checkpoint_every={every!r} must be a positive integer")
        self.directory, self.every = directory, every

    def due(self, epoch):
        return self.directory is not None and (epoch + 1) % self.every == 0

    def write(self, epoch, parameters):
        os.makedirs(self.directory, exist_ok=True)
        name = f"epoch-{epoch:05d}.npz"
        arrays = {k: np.asarray(v) for k, v in parameters.items()}
        replace_atomically(os.path.join(self.directory, name), lambda fh: np.savez(fh, **arrays))
        replace_atomically(os.path.join(self.directory, "latest"), lambda fh: fh.write(name.encode() + b"\n"))


def load_checkpoint(directory):
    """``(epoch, parameters)`` of the latest checkpoint in ``directory`` (FileNotFoundError when none)."""
    with open(os.path.join(directory, "latest")) as fh:
        name = fh.read().strip()
    with np.load(os.path.join(directory, os.path.basename(name))) as f:
        return int(name[len("epoch-"):-len(".npz")]), {k: f[k] for k in f.files}


def after_epoch(engine, epoch):
    """What an engine does once an epoch's tasks are submitted and its loss is in: gather the factors into the
    model when the fit reads them (every epoch under ``engine.sync``, the last epoch, a checkpoint); at a
    checkpoint also write them and restart the blocks from them (``engine.reseed``)."""
    checkpoint = engine.checkpoints.due(epoch)
    if engine.sync or checkpoint or epoch == engine.model.epochs - 1:
        engine.gather_parameters()
    if checkpoint:
        engine.checkpoints.write(epoch, engine.model.parameters_)
        engine.reseed()
