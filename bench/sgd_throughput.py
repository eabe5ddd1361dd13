"""SGD throughput of the foundation models against their peers (issue 2's benchmark): PMF vs LIBMF built
with its release flags (k=32, 1 and 2 threads) and BiasedMF vs Surprise SVD / Cornac MF (k=10, 1 thread),
same data, same k, same epochs, per-epoch time and test RMSE as JSON and a table.

    python bench/sgd_throughput.py [--quick] [--repeat 3]

The two sections of ``speed_rating.py`` (which also holds SVD++ and SoRec), run alone; the record is
written to bench/results/sgd_throughput.json. See speed_rating.py for the protocol.
"""
from __future__ import annotations

import _common
import speed_rating

SECTIONS = "pmf_vs_libmf,vs_surprise_and_cornac_mf"


def run(args):
    args.sections = SECTIONS
    return speed_rating.run(args)


def add_arguments(ap):
    ap.add_argument("--repeat", type=int, default=0, help="interleaved repeats (default 3, --quick 1)")


if __name__ == "__main__":
    _common.main("sgd_throughput", run, add_arguments, __doc__)
