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
from model_suite import tiny_data
from socialrec.models.ranking import RankingModel

MODELS = [m.cls for m in sr.models.registry()]
TESTS = os.path.dirname(os.path.abspath(__file__))  # for the subprocesses' imports of test helpers


def run_isolated(code, timeout=120, env=None):
    """Runs ``code`` in a fresh interpreter (same environment); returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def assert_ok(proc):
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        f"exit status {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}")


def data_for(cls, seed=0):
    return tiny_data(seed=seed, n_users=120, n_items=80, ranking=issubclass(cls, RankingModel))


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


# -- item 3: std::bad_alloc inside OpenMP regions becomes MemoryError ------------------------------------------
needs_memory_limit = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.environ.get("SOCIALREC_SANITIZED") == "1",
    reason="RLIMIT_AS and /proc are Linux's; ASan reserves shadow memory beyond any address-space cap and "
           "aborts on a failed operator new by design")
_LIMIT_MEMORY = """
    import resource
    def limit_memory(extra_mib):
        # address-space cap at what the process maps now plus extra_mib: larger allocations fail (bad_alloc)
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (mapped + (extra_mib << 20), resource.RLIM_INFINITY))
"""


@needs_memory_limit
def test_a_failed_allocation_in_the_parallel_top_n_selection_is_a_memory_error():
    # each selecting thread reserves a buffer of about n entries: under an address-space cap that reservation
    # fails inside the OpenMP region (before: std::terminate, the process aborted)
    assert_ok(run_isolated(_LIMIT_MEMORY + """
    import numpy as np
    from socialrec import _core
    def select(n, rows=4):
        scores = np.random.default_rng(0).random((rows, 64), dtype=np.float32)
        ids, best = np.empty((rows, n), np.int64), np.empty((rows, n), np.float32)
        return lambda: _core.topk_select(scores, n, best_ids=ids, best_scores=best, threads=2)
    select(8)()  # the OpenMP threads exist before the cap
    run = select(1 << 24)  # 16M entries per list: 1 GiB of lists, 16 x 16 MiB of buffer per thread
    limit_memory(64)
    try:
        run()
    except MemoryError:
        print("OK")
    """))


def test_top_n_of_an_empty_score_matrix_with_an_enormous_n_returns_at_once():
    assert_ok(run_isolated("""
    import numpy as np
    from socialrec import _core
    n = 1 << 40
    ids, best = np.empty((0, n), np.int64), np.empty((0, n), np.float32)
    _core.topk_select(np.zeros((0, 5), np.float32), n, best_ids=ids, best_scores=best, threads=2)
    print("OK")
    """))


@needs_memory_limit
def test_als_solver_scratch_that_cannot_be_allocated_is_a_memory_error():
    # Cholesky keeps two k x k matrices per thread (k=2000, float64: 64 MiB per thread); allocated inside the
    # parallel region they ended the process
    assert_ok(run_isolated(_LIMIT_MEMORY + """
    import numpy as np, socialrec as sr
    ds = sr.datasets.synthetic(n_users=60, n_items=40, density=0.2, seed=0)
    r = ds.ratings.copy(); r.data[:] = 1; ds = ds.with_ratings(r)
    sr.ALS(factors=8, epochs=1, num_threads=2, solver="cholesky").fit(ds)  # threads and BLAS started
    m = sr.ALS(factors=2000, epochs=1, num_threads=2, solver="cholesky", dtype="float64")
    limit_memory(150)
    try:
        m.fit(ds)
    except MemoryError:
        assert not m.fitted
        print("OK")
    """))


def test_als_factors_beyond_the_machine_memory_are_refused_up_front():
    m = sr.ALS(factors=2**20, epochs=1)  # 1 TiB per k x k matrix
    with pytest.raises(MemoryError, match="factors=1048576 needs about"):
        m.fit(data_for(sr.ALS))
    assert not m.fitted


# -- item 4: num_threads is bounded ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [2**31, 10**5, 1025, -1])
def test_num_threads_beyond_the_cap_is_a_clear_value_error(value):
    with pytest.raises(ValueError, match=f"num_threads={value} is invalid; it must be an integer in \\[0, 1024\\]"):
        sr.BiasedMF(num_threads=value)
    with pytest.raises(ValueError, match="num_threads"):
        sr.BiasedMF().set_params(num_threads=value)


def test_the_thread_cap_is_one_number_and_applies_to_private_calls_too():
    assert sr._core.MAX_THREADS == sr._engine.MAX_THREADS
    cores = sr._engine._cores()
    assert sr._engine.resolve_threads(sr._engine.MAX_THREADS) == min(4 * cores, sr._engine.MAX_THREADS)
    model = make(sr.BiasedMF)
    calls = []
    real = sr._core.biased_mf_epoch
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sr._core, "biased_mf_epoch", lambda *a: calls.append(a) or real(*a))
        model.fit(data_for(sr.BiasedMF))
    arrays, hyper, settings = calls[0]
    for threads in (2**31, sr._engine.MAX_THREADS + 1, -1):
        with pytest.raises(ValueError, match="threads="):
            real(arrays, hyper, {**settings, "threads": threads})


def test_thread_counts_beyond_the_cap_are_capped_on_every_path():
    # subprocess: 100000 threads made the OpenMP runtime end the process (the packing of the rating grid took
    # num_threads as it was; the private calls took any count)
    assert_ok(run_isolated("""
    import numpy as np, socialrec as sr
    from socialrec import _core, _engine
    ds = sr.datasets.synthetic(n_users=2000, n_items=1000, density=0.03, seed=0)
    m = sr.BiasedMF(factors=8, epochs=2, num_threads=1024).fit(ds)  # the cap itself is allowed
    assert len(m.history) == 2
    r = ds.ratings
    grid = _engine.pack_grid_csr(r.indptr, r.indices, r.data, r.shape[1], 8, threads=100000)
    assert grid["offsets"][-1] == r.nnz
    _core.pack_grid_csr(r.indptr.astype(np.int64), r.indices, r.data, r.shape[1], 8, grid["records"],
                        grid["offsets"], 100000)
    users = np.arange(100, dtype=np.int32)
    _core.edge_similarity(r.indptr.astype(np.int64), r.indices, r.data, users, users[::-1].copy(), "pcc", 100000)
    print("OK")
    """))


# -- item 6: fork after a multi-threaded fit --------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_fit_in_a_child_forked_after_a_multi_threaded_fit_runs_on_one_thread_with_a_warning():
    # GNU OpenMP after fork: the child's next parallel region waits forever for the parent's threads
    assert_ok(run_isolated("""
    import os, time, warnings
    import socialrec as sr
    ds = sr.datasets.synthetic(n_users=2000, n_items=1000, density=0.05, seed=0)  # ~100k ratings: 2 threads
    sr.BiasedMF(factors=8, epochs=1, num_threads=2).fit(ds)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                m = sr.BiasedMF(factors=8, epochs=2, num_threads=2).fit(ds)
                m.recommend(ds.user_ids[:300], n=5)
            text = " ".join(str(w.message) for w in seen)
            code = 0 if len(m.history) == 2 and "spawn" in text and "forkserver" in text else 2
        finally:
            os._exit(code)
    for _ in range(600):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        raise SystemExit("the forked child hung in its fit")
    assert os.waitstatus_to_exitcode(status) == 0, status
    sr.BiasedMF(factors=8, epochs=1, num_threads=2).fit(ds)  # the parent keeps its threads
    print("OK")
    """, timeout=180))


# -- item 12: recommend's batch size and rating underflow -------------------------------------------------------
@needs_memory_limit
def test_recommend_with_a_huge_batch_size_for_one_user_allocates_one_row():
    # the score buffer was batch_size x tile floats: 4 GiB for batch_size=2**30, whatever the number of users
    assert_ok(run_isolated(_LIMIT_MEMORY + """
    import numpy as np, socialrec as sr
    ds = sr.datasets.synthetic(n_users=50, n_items=40, density=0.2, seed=0)
    m = sr.BiasedMF(factors=4, epochs=1, num_threads=1).fit(ds)
    expected = m.recommend([ds.user_ids[0]], n=5)
    limit_memory(512)
    got = m.recommend([ds.user_ids[0]], n=5, batch_size=2**30)
    np.testing.assert_array_equal(got[0], expected[0])
    print("OK")
    """))


def test_a_rating_that_underflows_float32_warns():
    tiny = np.array([[1e-50, 3.0], [2.0, 0.0]])
    with pytest.warns(RuntimeWarning, match=r"ratings\[0, 0\] = 1e-50 underflows to 0 in float32"):
        sr.Dataset(scipy.sparse.csr_matrix(tiny))
    with pytest.warns(RuntimeWarning, match=r"values\[1\] = 1e-50 underflows"):
        sr.Dataset.from_arrays([0, 1], [1, 0], [3.0, 1e-50])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sr.Dataset(scipy.sparse.csr_matrix(np.array([[1e-40, 3.0]])))  # a float32 subnormal: kept, no warning


# -- item 5: every epoch kernel checks what it indexes ---------------------------------------------------------
_KERNEL_CHECKS = """
    import copy, sys
    sys.path.insert(0, sys.argv[2])
    import numpy as np, socialrec as sr
    from epoch_mutations import refused_by
    from socialrec import _core
    from socialrec.models.ranking import RankingModel
    cls = getattr(sr, sys.argv[1])
    ds = sr.datasets.synthetic(n_users=120, n_items=80, density=0.08, seed=0)
    if issubclass(cls, RankingModel):
        r = ds.ratings.copy(); r.data[:] = 1; ds = ds.with_ratings(r)
    params = {"factors": 4, "epochs": 1, "num_threads": 2, "seed": 0, "device": "cpu"}
    if "biased" in cls._defaults:
        params["biased"] = True  # the bias arrays are read
    if cls.__name__ == "SoReg":
        params["similarity"] = None
    calls = []
    for name in dir(_core):
        if name.endswith("_epoch"):
            real = getattr(_core, name)
            setattr(_core, name, lambda a, h, s, real=real: calls.append((real, copy.deepcopy((a, h, s)))) or real(a, h, s))
    cls(**params).fit(ds)
    kernel, (arrays, hyper, settings) = calls[0]
    # SBPR's s_uk: a positive count (weight), not an id
    checked = refused_by(kernel, arrays, hyper, settings, cls.__name__, accepted={"social_counts = 2147483647"})
    print(checked, "OK")
"""


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_epoch_kernel_refuses_inputs_it_would_index_out_of_bounds(cls):
    # subprocess: before the checks, out-of-range ids and short arrays crashed or corrupted the heap
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_KERNEL_CHECKS), cls.__name__, TESTS],
                          capture_output=True, text=True, timeout=300)
    assert_ok(proc)


def test_edge_similarity_refuses_offsets_that_go_back():
    indptr = np.array([0, 2, 1, 3], np.int64)  # row 1 would run from 2 back to 1
    indices, values = np.array([0, 1, 0], np.int32), np.ones(3, np.float32)
    src, dst = np.array([0, 1], np.int32), np.array([1, 2], np.int32)
    with pytest.raises(ValueError, match="indptr decreases"):
        sr._core.edge_similarity(indptr, indices, values, src, dst, "pcc", 1)
    indptr = np.array([5, 6, 7, 3], np.int64)  # starts beyond the end of the values
    with pytest.raises(ValueError, match="indptr must start at 0"):
        sr._core.edge_similarity(indptr, indices, values, src, dst, "pcc", 1)
