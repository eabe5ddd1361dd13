"""Type aliases of the public API's annotations (``py.typed``; checked by mypy, see pyproject's [tool.mypy]).

The functions accept more forms than a static type can say (each docstring lists them); these aliases name
the forms so that the annotations read as documentation.
"""
from __future__ import annotations

from typing import Any, Dict, Sequence, Union

import numpy as np

#: User or item ids: raw ids of the fitted data (any hashable type), or indices with ``ids="index"``.
Ids = Union[Sequence[Any], np.ndarray]
#: Training or test data: a ``Dataset``, a SciPy or CuPy sparse matrix, a pandas DataFrame, or (X, y) pairs.
Data = Any
#: An array the model returns: NumPy, or CuPy for CuPy input to a model on ``device="cuda"``.
Array = Any
#: A dict of metric name -> value (nested for segments and folds).
Metrics = Dict[str, Any]
