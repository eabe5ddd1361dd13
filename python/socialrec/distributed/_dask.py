"""The optional Dask dependency of ``socialrec.distributed`` (extra ``socialrec[dask]``), imported on first use,
and the few Dask calls the engines share (the client, the workers, submitting a task)."""
from __future__ import annotations

import inspect
import sys
import warnings

EXTRA = 'pip install "socialrec[dask]"  (dask[dataframe] and distributed)'


def distributed_module():
    """``dask.distributed``, or ImportError naming the extra."""
    try:
        import dask.distributed
    except ImportError as err:
        raise ImportError(f"socialrec.distributed needs Dask: {EXTRA}") from err
    return dask.distributed


def resolve_client(client):
    """``client``, or the default client of this process (``distributed.get_client``)."""
    dd = distributed_module()
    if client is not None:
        if not isinstance(client, dd.Client):
            raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
        return client
    try:
        return dd.get_client()
    except ValueError as err:
        raise ValueError("no Dask client: pass client=Client(...) (or create one first)") from err


def worker_addresses(client):
    """The addresses of the client's workers, sorted (at least one, else ValueError)."""
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"]) if _takes_n_workers(client) \
        else sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("the Dask cluster has no workers")
    return workers


def worker_threads():
    """Inside a task: the threads of the worker running it (its kernels use that many); elsewhere 0 (all).

    A Dask worker has imported ``distributed`` before it runs a task, so a process that has not (a blocked fit
    run in process, as the tests do) is no worker: 0, without importing Dask (which it may not have)."""
    module = sys.modules.get("distributed")
    if module is None:
        return 0
    try:
        return int(module.get_worker().state.nthreads)
    except (ValueError, AttributeError):
        return 0


def _takes_n_workers(client):
    return "n_workers" in inspect.signature(client.scheduler_info).parameters


class Submitter:
    """Submits the tasks of one fit: every task is impure (a fresh key), and each block's tasks prefer the worker
    that block is assigned to (block j -> worker j mod n), while still free to run elsewhere when that worker
    is lost (``allow_other_workers``): Dask then recomputes the lost results from their tasks."""

    def __init__(self, client):
        self.client = client
        self.workers = worker_addresses(client)

    def worker_of(self, block):
        return self.workers[block % len(self.workers)]

    def __call__(self, fn, *args, block=None):
        where = {} if block is None else {"workers": [self.worker_of(block)], "allow_other_workers": True}
        return self.client.submit(fn, *args, pure=False, **where)

    def data(self, value, block=None):
        """A future of ``value`` made by a task that holds it (so a lost copy is recomputed, unlike scattered
        data); the size warning of a large task is expected here."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ll]arge (graph|object).*")
            return self(_identity, value, block=block)


def _identity(value):
    return value


class InProcess:
    """The ``Submitter`` interface without Dask: every task runs at once, here, its arguments' futures (also
    inside lists and dicts, as Dask resolves them) replaced by their values. The engines' results do not depend
    on where their tasks run, so this gives a distributed fit's exact result in one process (the tests' and
    bench/distributed_dsgd.py's way of running the engines without a cluster)."""

    def __init__(self):
        self.client = self  # the engines gather through ``submit.client``
        self.calls = 0

    def __call__(self, fn, *args, block=None):
        self.calls += 1
        return Done(fn(*[_resolved(a) for a in args]))

    def data(self, value, block=None):
        return Done(value)

    def gather(self, futures):
        return [f.result() for f in futures]


class Done:
    """A finished 'future'."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _resolved(x):
    if isinstance(x, Done):
        return x.value
    if isinstance(x, list):
        return [_resolved(v) for v in x]
    if isinstance(x, dict):
        return {k: _resolved(v) for k, v in x.items()}
    return x
