"""socialrec: social recommendation with C++/CUDA kernels and NumPy references.

>>> import socialrec as sr
>>> ds = sr.datasets.synthetic(seed=0)
>>> train, test = sr.split.train_test_split(ds, test_size=0.2, seed=0)
>>> model = sr.BiasedMF(factors=10).fit(train)
>>> round(sr.metrics.rmse(model, test), 2) < 1.5
True
"""

__version__ = "0.1.0"

from ._errors import CudaError, DivergenceError, NotFittedError, UnverifiedCudaWarning  # noqa: F401
from ._ids import UnknownIdError  # noqa: F401
from .data import Dataset  # noqa: F401
from . import datasets, features, split, metrics, privacy, reference  # noqa: F401
from ._backend import build_info  # noqa: F401
from .evaluate import cross_validate, evaluate  # noqa: F401
from .tuning import compare, tune  # noqa: F401  (Optuna is imported when they run: socialrec[tune])
from .models import *  # noqa: F401,F403
from .models import load  # noqa: F401
from . import baselines  # noqa: F401  (link-prediction baselines: sr.baselines.CommonNeighbours, AdamicAdar)
from .models._sklearn import to_xy  # noqa: F401  (scikit-learn's X, y of a Dataset)
from . import distributed  # noqa: F401  (Dask is imported when it runs: socialrec[dask])
