"""Issue 22, the runtime half: no crash, hang or corruption from fit / recommend calls.

One test (or one parametrised test) per class: a second fit of a model while one runs (item 2), allocations
inside OpenMP regions (3), ``num_threads`` bounds (4), the epoch kernels' input checks (5), fork after a
multi-threaded fit (6), Ctrl-C while the training state is built (9), and the batch size and rating
underflow of item 12. What could kill the interpreter runs in a subprocess, so that a regression fails its
test instead of ending the suite.
"""
from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse

import socialrec as sr
from socialrec.models.ranking import RankingModel

MODELS = [m.cls for m in sr.models.registry()]


def run_isolated(code, timeout=120, env=None):
    """Runs ``code`` in a fresh interpreter (same environment); returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def assert_ok(proc):
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        f"exit status {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}")


def data_for(cls, seed=0):
    ds = sr.datasets.synthetic(n_users=120, n_items=80, density=0.08, seed=seed)
    if issubclass(cls, RankingModel):
        r = ds.ratings.copy()
        r.data[:] = 1
        ds = ds.with_ratings(r)
    return ds


def make(cls, **kw):
    params = {"factors": 4, "epochs": 3, "seed": 0, "num_threads": 1, **kw}
    if "deterministic" in cls._defaults:
        params["deterministic"] = True
    return cls(**params)


# -- item 2: one fit per model at a time ------------------------------------------------------------------------
def test_a_fit_from_inside_a_callback_is_refused_and_the_running_fit_finishes():
    # subprocess: without the guard the inner fit rebinds the arrays under the running kernel (a crash)
    assert_ok(run_isolated("""
        import copy, pickle
        import numpy as np, socialrec as sr
        from sklearn.base import clone
        ds = sr.datasets.synthetic(n_users=120, n_items=80, density=0.08, seed=0)
        expected = sr.SoRec(factors=4, epochs=3, seed=0, num_threads=1).fit(ds)
        m = sr.SoRec(factors=4, epochs=3, seed=0, num_threads=1)
        errors, copies = [], []
        def callback(model, record):
            try:
                model.fit(ds)
            except RuntimeError as e:
                errors.append(str(e))
            # the guard is no state of the model: it pickles, copies and clones while it holds it
            copies.append((pickle.loads(pickle.dumps(model)), copy.deepcopy(model), clone(model)))
        m.fit(ds, callback=callback)
        assert len(errors) == 3 and "already being fitted" in errors[0], errors
        assert len(m.history) == 3
        for k, v in expected.parameters_.items():
            np.testing.assert_array_equal(m.parameters_[k], v)
        copies[-1][0].fit(ds)  # a copy made during the fit fits on its own
        m.fit(ds)  # and the model itself once its fit is over
        print("OK")
    """))


def test_a_fit_from_another_thread_is_refused_while_one_runs():
    ds = data_for(sr.BiasedMF)
    m = make(sr.BiasedMF, epochs=2)
    inside, release, errors = threading.Event(), threading.Event(), []

    def callback(model, record):
        inside.set()
        release.wait(30)

    worker = threading.Thread(target=lambda: m.fit(ds, callback=callback))
    worker.start()
    try:
        assert inside.wait(30)
        with pytest.raises(RuntimeError, match="already being fitted"):
            m.fit(ds)
    finally:
        release.set()
        worker.join(60)
    assert not worker.is_alive() and len(m.history) == 2
    m.fit(ds)  # the guard is released after the fit, also after a failed one
    with pytest.raises(ValueError):
        m.fit(scipy.sparse.csr_matrix(ds.ratings.shape))  # no ratings
    m.fit(ds)


# -- item 9: Ctrl-C while the training state is built ----------------------------------------------------------
@pytest.mark.parametrize("step", ["_prepare_on_device", "_init_parameters"])
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_ctrl_c_while_the_training_state_is_built_keeps_the_previous_model(cls, step, monkeypatch):
    ds = data_for(cls)
    fresh, fitted = make(cls), make(cls).fit(ds)
    before = {k: v.copy() for k, v in fitted.parameters_.items()}
    history, answer = list(fitted.history), fitted.predict(ds.user_ids[:5], ds.item_ids[:5])
    real = getattr(cls, step)

    def interrupted(self, *args):
        real(self, *args)  # the state is half built (random initial values in place) when Ctrl-C comes
        raise KeyboardInterrupt

    monkeypatch.setattr(cls, step, interrupted)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(ds)
    assert not fresh.fitted
    with pytest.raises(KeyboardInterrupt):
        fitted.fit(data_for(cls, seed=1))
    assert fitted.fitted and fitted.history == history
    for k, v in before.items():
        np.testing.assert_array_equal(fitted.parameters_[k], v)
    np.testing.assert_array_equal(fitted.predict(ds.user_ids[:5], ds.item_ids[:5]), answer)
