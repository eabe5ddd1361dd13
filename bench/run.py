"""Run the whole benchmark suite, then write bench/results/summary.md and the plots.

    python bench/run.py                       # full run (~30 min on a quiet 2-core machine)
    python bench/run.py --quick               # developers: small data, one repeat (~3 min quiet)
    python bench/run.py --only scaling,speed_rating
    python bench/run.py --report              # only rebuild summary.md and the plots from the JSON

Each benchmark runs as its own process (``python bench/<name>.py [--quick]``), so one that fails, runs out
of time or crashes loses only its own figures: it is recorded as failed in its JSON and the suite goes on.
Output of each: bench/results/<name>.json (figures, machine, versions, command, load averages) and
bench/results/<name>.log. Nothing is interactive. Peers that do not import are reported "not installed".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _common  # noqa: E402
import report  # noqa: E402

# name -> seconds allowed (full run; --quick gets a third)
BENCHMARKS = {
    "reference_speed": 300,
    "speed_rating": 900,
    "speed_ranking": 900,
    "epoch_cost": 600,
    "scaling": 1500,
    "accuracy_filmtrust": 900,
    "accuracy_lastfm": 1200,
    "social_signal_lastfm": 300,
    "pandas_input": 300,
    "item_cold_start": 900,
    "warm_start": 600,
    "link_prediction": 1800,
    "distributed": 900,
    "privacy": 1200,
    "privacy_als": 2400,
    "simd_variants": 600,
}


def run_one(name, quick, out):
    cmd = [sys.executable, os.path.join(HERE, f"{name}.py")] + (["--quick"] if quick else []) + ["--out", out]
    env = dict(os.environ)
    if _common.USES_CHECKOUT:  # no installed socialrec: the checkout's python/ (see _common.py)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(HERE, "..", "python"), env.get("PYTHONPATH")]))
    limit = BENCHMARKS[name] // (3 if quick else 1)
    start = time.perf_counter()
    log_path = os.path.join(out, f"{name}.log")
    with open(log_path, "w") as log:
        try:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=limit)
            error = None if proc.returncode == 0 else f"exit status {proc.returncode} (see {name}.log)"
            if proc.returncode == _common.SKIPPED:
                error = f"skipped, its data is missing (see {name}.log)"
        except subprocess.TimeoutExpired:
            error = f"timed out after {limit} s (see {name}.log)"
    seconds = time.perf_counter() - start
    if error:
        with open(log_path) as fh:
            tail = fh.read().strip().splitlines()[-3:]
        record = {"benchmark": name, "quick": quick, "error": error, "log_tail": tail,
                  "command": " ".join(["python", f"bench/{name}.py"] + (["--quick"] if quick else [])),
                  "machine": _common.machine(), "wall_s": round(seconds, 1)}
        with open(os.path.join(out, f"{name}.json"), "w") as fh:
            json.dump(record, fh, indent=1)
    print(f"{name:20s} {seconds:7.1f} s  {'FAILED: ' + error if error else 'ok'}", flush=True)
    return seconds, error


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    ap.add_argument("--report", action="store_true", help="only rebuild summary.md and the plots")
    ap.add_argument("--out", default=_common.RESULTS)
    args = ap.parse_args()
    names = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = sorted(set(names) - set(BENCHMARKS))
        if unknown:
            ap.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    os.makedirs(args.out, exist_ok=True)
    failed = []
    if not args.report:
        print(f"load average {_common.load_average()}; {'quick' if args.quick else 'full'} run of {', '.join(names)}")
        total = time.perf_counter()
        for name in names:
            _, error = run_one(name, args.quick, args.out)
            if error and not error.startswith("skipped"):  # a missing data set is reported, not a failure
                failed.append(name)
        print(f"total {time.perf_counter() - total:.0f} s; load average {_common.load_average()}")
    path = report.build(args.out)
    print(f"wrote {path} and the plots next to it")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
