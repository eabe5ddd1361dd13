"""Turn bench/results/*.json into bench/results/summary.md and the PNG plots (matplotlib, Agg).

    python bench/report.py [results folder]

Called by bench/run.py at the end of every run; runnable alone to rebuild the page from the JSON.
"""
from __future__ import annotations

import datetime
import json
import os
import sys

import _common

ORDER = ["reference_speed", "speed_rating", "speed_ranking", "epoch_cost", "scaling", "accuracy_filmtrust",
         "accuracy_lastfm", "social_signal_lastfm", "pandas_input"]
TITLES = {"pandas_input": "Building a Dataset from pandas", "reference_speed": "C++ kernels vs the NumPy reference", "speed_rating": "Rating models vs peers",
          "speed_ranking": "Ranking models and top-N vs peers", "epoch_cost": "Epoch cost vs BiasedMF",
          "scaling": "Scaling and peak memory", "accuracy_filmtrust": "Accuracy: FilmTrust 5-fold",
          "accuracy_lastfm": "Accuracy: LastFM top-10",
          "social_signal_lastfm": "LastFM: the friends' signal and where SBPR puts it"}


def load(folder):
    records = {}
    for name in ORDER:
        path = os.path.join(folder, f"{name}.json")
        if os.path.exists(path):
            with open(path) as fh:
                records[name] = json.load(fh)
    return records


def _load_text(r):
    start, end = r.get("load_average_start"), r.get("load_average_end")
    if start and end:
        return f"{start[0]:.1f} → {end[0]:.1f}"
    la = (r.get("machine") or {}).get("load_average")
    return f"{la[0]:.1f}" if la else "–"


def _measured(t):
    v = t.get("ratio")
    if v is None:
        return "–"
    if t.get("kind") == "speed":
        return f"{v:,.3g}×" if v < 1000 else f"{v:,.0f}×"
    if t.get("kind") in ("scaling", "memory", "cost"):
        return f"{v:.2f}×"
    if t.get("kind") == "seconds":
        return f"{v:.2f} s"
    return f"{v:.4f}"


def _goal(t):
    g = t.get("goal")
    if g is None:
        return "–"
    kind = t.get("kind")
    if kind == "speed":
        return f"≥ {g:g}×"
    if kind in ("scaling", "memory", "cost"):
        return f"≤ {g:g}×"
    if kind == "seconds":
        return f"≤ {g:g} s"
    return f"{g:.4f}"


def targets_table(records):
    lines = ["| target | peer | measured | goal | met | quality / note | mode, load avg |", "|---|---|---|---|---|---|---|"]
    for name in ORDER:
        r = records.get(name)
        if not r:
            continue
        if r.get("error"):
            lines.append(f"| {TITLES[name]} | – | – | – | **failed**: {r['error']} | | |")
            continue
        mode = "quick" if r.get("quick") else "full"
        for t in r.get("targets", []):
            met = t.get("met")
            met = "–" if met is None else ("yes" if met else "**no**")
            note = "; ".join(x for x in (t.get("quality"), t.get("note")) if x).replace("|", "\\|")
            lines.append(f"| {t['what']} | {t['peer']} | {_measured(t)} | {_goal(t)} | {met} | {note} | "
                         f"{mode}, {_load_text(r)} |")
    return "\n".join(lines)


def machine_text(records):
    r = next((r for r in records.values() if r.get("machine")), None)
    if r is None:
        return "(no results)"
    m = r["machine"]
    sr = m.get("socialrec") or {}
    build = sr.get("build", {}) if isinstance(sr, dict) else {}
    peers = ", ".join(f"{k} {v}" for k, v in (m.get("peers") or {}).items())
    return (f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB; Python {m.get('python')}, "
            f"NumPy {m.get('numpy')}, SciPy {m.get('scipy')}; BLAS: {', '.join(m.get('blas') or ['?'])}; "
            f"socialrec {sr.get('version') if isinstance(sr, dict) else sr} ({build.get('compiler')}, "
            f"{build.get('simd')}, OpenMP {build.get('openmp')}); peers: {peers}")


def build(folder=_common.RESULTS):
    records = load(folder)
    plots = make_plots(records, folder)
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    modes = sorted({"quick" if r.get("quick") else "full" for r in records.values()})
    out = [f"# socialrec benchmark results ({'/'.join(modes)} run, written {now})", "",
           f"Machine: {machine_text(records)}.", "",
           "Ratios are peer time / socialrec time (> 1: socialrec faster); the quality metric of the same fits "
           "sits next to each. The load average (1 min, at the start → end of each benchmark) says how busy the "
           "machine was: timings taken at a load above the core count are noisy, and 2-thread figures suffer most.",
           "", "## Targets (DESIGN §9, §10)", "", targets_table(records), ""]
    for p in plots:
        out += [f"![{p}]({p})", ""]
    for name in ORDER:
        r = records.get(name)
        if not r:
            continue
        out += [f"## {TITLES[name]}", "", f"`{r.get('command')}` — {'quick' if r.get('quick') else 'full'} mode, "
                f"load average {_load_text(r)}, {r.get('wall_s', '?')} s", ""]
        if r.get("error"):
            out += [f"**Failed**: {r['error']}", "", "```", *r.get("log_tail", []), "```", ""]
            continue
        rows = r.get("rows", [])
        columns = [c for c in r.get("columns", []) if any(row.get(c) is not None for row in rows)]
        out += [_common.table(rows, columns, markdown=True), ""]
        for key in ("protocol", "settings", "data"):
            if r.get(key):
                out += [f"{key}: `{json.dumps(r[key])}`", ""]
    path = os.path.join(folder, "summary.md")
    with open(path, "w") as fh:
        fh.write("\n".join(out))
    if os.path.abspath(folder) == os.path.abspath(_common.RESULTS):
        update_readme(records, plots)
    return path


def update_readme(records, plots):
    """Replace the block between the results markers of bench/README.md by the machine, the targets table
    and the plots of this run."""
    path = os.path.join(_common.HERE, "README.md")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    with open(path) as fh:
        text = fh.read()
    if start not in text or end not in text:
        return
    modes = sorted({"quick" if r.get("quick") else "full" for r in records.values()})
    block = [start, f"Produced by `python bench/run.py{' --quick' if modes == ['quick'] else ''}` "
             f"({'/'.join(modes)} mode) on: {machine_text(records)}.", "", targets_table(records), ""]
    block += [f"![{p}](results/{p})" for p in plots] + [end]
    head, rest = text.split(start, 1)
    with open(path, "w") as fh:
        fh.write(head + "\n".join(block) + rest.split(end, 1)[1])


def make_plots(records, folder):
    """PNG files written into ``folder``; returns their names."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:  # noqa: BLE001
        return []
    made = []

    # 1. every speed target as a ratio, log scale, with its goal
    speed = [(t, name) for name in ORDER for t in (records.get(name) or {}).get("targets", [])
             if t.get("kind") == "speed" and t.get("ratio")]
    if speed:
        fig, ax = plt.subplots(figsize=(9, 0.32 * len(speed) + 1.2))
        labels = [f"{t['what']} / {t['peer']}"[:80] for t, _ in speed]
        ratios = [t["ratio"] for t, _ in speed]
        colors = ["tab:green" if t.get("met") else ("tab:red" if t.get("met") is False else "tab:gray")
                  for t, _ in speed]
        y = range(len(speed))
        ax.barh(list(y), ratios, color=colors)
        for i, (t, _) in enumerate(speed):
            if t.get("goal"):
                ax.plot([t["goal"], t["goal"]], [i - 0.4, i + 0.4], color="black", lw=2)
        ax.set_xscale("log")
        ax.axvline(1.0, color="gray", lw=0.8, ls=":")
        ax.set_yticks(list(y))
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("peer time / socialrec time (black tick: target; green met, red not)")
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "speed_ratios.png"), dpi=110)
        plt.close(fig)
        made.append("speed_ratios.png")

    # 2. scaling curves and memory
    sc = records.get("scaling")
    if sc and not sc.get("error"):
        pts = [p for p in sc.get("points", []) if "error" not in p]
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        for (curve, model, ax_i) in (("ratings", "BiasedMF", 0), ("edges", "SoRec", 1), ("edges", "SocialMF", 1)):
            ax = axes[ax_i]
            ps = [p for p in pts if p["curve"] == curve and p["model"] == model]
            if not ps:
                continue
            x = [p[curve] for p in ps]
            for threads, style in (("1", "-o"), ("2", "--s")):
                ys = [p["epoch_s"][threads] for p in ps]
                ax.plot(x, ys, style, label=f"{model}, {threads} thread(s)")
            base = ps[0]
            ax.plot(x, [base["epoch_s"]["1"] * p["updates"] / base["updates"] for p in ps], ":", color="gray",
                    label=f"{model}: proportional (1 thread)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(curve)
            ax.set_ylabel("epoch s")
            ax.legend(fontsize=6)
        axes[0].set_title("epoch time vs ratings (k=32)", fontsize=9)
        axes[1].set_title(f"epoch time vs trust edges ({pts[-1]['ratings']:,} ratings, k=10)" if pts else "",
                          fontsize=9)
        ax = axes[2]
        for model, marker in (("BiasedMF", "o"), ("SoRec", "s"), ("SocialMF", "^")):
            ps = [p for p in pts if p["model"] == model and p.get("fit_peak_bytes") is not None]
            if ps:
                ax.plot([(p["data_bytes"] + p["param_bytes"]) / 2**20 for p in ps],
                        [p["fit_peak_bytes"] / 2**20 for p in ps], marker, label=model)
        lim = max([(p["data_bytes"] + p["param_bytes"]) / 2**20 for p in pts] or [1])
        ax.plot([0, lim], [0, lim], ":", color="gray", label="1× data + parameters")
        ax.plot([0, lim], [0, 1.5 * lim], "--", color="black", label="1.5× (target)")
        ax.set_xlabel("data + parameters, MiB")
        ax.set_ylabel("peak resident during fit, MiB")
        ax.set_title("peak memory of fit", fontsize=9)
        ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "scaling.png"), dpi=110)
        plt.close(fig)
        made.append("scaling.png")

    # 3. accuracy next to published and peer figures
    ft, lf = records.get("accuracy_filmtrust"), records.get("accuracy_lastfm")
    if (ft and not ft.get("error")) or (lf and not lf.get("error")):
        fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
        if ft and not ft.get("error"):
            rows = [r for r in ft["rows"] if r.get("rmse") is not None]
            x = range(len(rows))
            axes[0].bar(list(x), [r["rmse"] for r in rows],
                        color=["tab:blue" if r["library"] == "socialrec" else "tab:orange" for r in rows])
            pub = [(i, r["published_rmse"]) for i, r in enumerate(rows) if r.get("published_rmse")]
            axes[0].plot([i for i, _ in pub], [v for _, v in pub], "k_", markersize=14, mew=2,
                         label="published (Guo et al. 2015)")
            axes[0].set_xticks(list(x))
            axes[0].set_xticklabels([r["model"] for r in rows], rotation=60, fontsize=7, ha="right")
            axes[0].set_ylim(0.75, max(0.98, max(r["rmse"] for r in rows) + 0.01))
            axes[0].set_ylabel("RMSE (lower is better)")
            axes[0].set_title(f"FilmTrust, {rows[0].get('folds', 5)}-fold CV, d=10 (blue socialrec, orange peers)",
                              fontsize=9)
            axes[0].legend(fontsize=7)
        if lf and not lf.get("error"):
            rows = [r for r in lf["rows"] if r.get("ndcg") is not None]
            x = range(len(rows))
            axes[1].bar(list(x), [r["ndcg"] for r in rows],
                        color=["tab:blue" if r["model"].startswith("socialrec") else "tab:orange" for r in rows])
            axes[1].set_xticks(list(x))
            axes[1].set_xticklabels([r["model"] for r in rows], rotation=60, fontsize=7, ha="right")
            axes[1].set_ylabel("NDCG@10 (higher is better)")
            axes[1].set_title("LastFM, per-user 80/20, k=64", fontsize=9)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "accuracy.png"), dpi=110)
        plt.close(fig)
        made.append("accuracy.png")
    return made


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else _common.RESULTS))
