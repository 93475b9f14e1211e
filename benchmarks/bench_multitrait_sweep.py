"""Several-trait marker sweeps against the one-trait sweep (issue 23, item 4).

Target: a t-trait BRR / BayesC sweep costs at most 1.2 x t x the one-trait sweep at
n = 2,000 records x p = 5,000 markers. One process, the same genotypes (int8, 1% missing,
5% of records unphenotyped), rounds interleaved (one-trait, t = 2, t = 3 in turn) so that
the shared machine's load hits all alike; per sweep the best and the median over the rounds
of the thread's CPU time (``time.thread_time``: on a machine with more runnable threads than
cores the wall time also counts the time the sweep waited for a core, which is noise here).
Prints the ratios with the load average before and after.

    python benchmarks/bench_multitrait_sweep.py [--records 2000] [--markers 5000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bayesgen.kernels.markers import marker_code_stats, sweep_markers_gaussian, weighted_cross_products
from bayesgen.kernels.markers_multitrait import sweep_markers_multitrait
from bayesgen.kernels.spike_slab import sweep_markers_spike_slab


def make_data(n, p, seed=1):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    codes[rng.random((p, n)) < 0.01] = 3
    freq = np.array([row[row < 3].mean() for row in codes])
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - freq[:, None]
    weights = (rng.random(n) > 0.05).astype(np.float64)
    xx = weighted_cross_products(codes, lookup, weights)[1]
    return codes, lookup, weights, xx, marker_code_stats(codes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--markers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    n, p = args.records, args.markers
    codes, lookup, weights, xx, stats = make_data(n, p)
    rng = np.random.default_rng(2)
    variance = 1.0 / p
    runs = {}

    def one_trait(kind):
        alpha, resid, gv = np.zeros(p), rng.standard_normal(n) * weights, np.zeros(n)
        var_alpha = np.full(p, variance)
        if kind == "BRR":
            return lambda: sweep_markers_gaussian(
                rng, alpha, var_alpha, codes, lookup, xx, resid, weights, gv, 1.0, code_stats=stats
            )
        return lambda: sweep_markers_spike_slab(
            rng, alpha, var_alpha, 0.0, codes, lookup, xx, stats, resid, weights, gv, 1.0
        )

    def several(kind, t):
        alpha = np.zeros((p, t))
        resid = np.asfortranarray(rng.standard_normal((n, t)) * weights[:, None])
        gv = np.zeros((n, t), order="F")
        r = 0.5 * np.eye(t) + 0.5
        s = variance * (0.7 * np.eye(t) + 0.3)
        r_inv, s_inv = np.linalg.inv(r), np.linalg.inv(s)
        odds = np.inf if kind == "BRR" else -0.5 * np.linalg.slogdet(s)[1]  # pi = 0.5
        return lambda: sweep_markers_multitrait(
            rng, alpha, codes, lookup, xx, resid, weights, gv, r_inv, s_inv, code_stats=stats, log_prior_odds=odds
        )

    for kind in ("BRR", "BayesC"):
        runs[(kind, 1)] = one_trait(kind)
        for t in (2, 3):
            runs[(kind, t)] = several(kind, t)
    for run in runs.values():  # compile and warm
        run()
        run()
    load_before = os.getloadavg()
    times = {key: [] for key in runs}
    for _ in range(args.rounds):
        for key, run in runs.items():
            start = time.thread_time()
            run()
            times[key].append(time.thread_time() - start)
    load_after = os.getloadavg()
    print(
        f"{n} records x {p} markers, {args.rounds} interleaved rounds; load average (1, 5, 15 min) "
        f"before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print("CPU time of one sweep (time.thread_time)")
    print(
        f"{'prior':8s} {'t':>2s} {'best ms':>8s} {'median ms':>10s} {'best / one-trait':>17s} "
        f"{'median / one-trait':>19s} {'target 1.2 t':>13s}  met (best, median)"
    )
    for kind in ("BRR", "BayesC"):
        best1, median1 = min(times[(kind, 1)]), np.median(times[(kind, 1)])
        for t in (1, 2, 3):
            best, median = min(times[(kind, t)]), np.median(times[(kind, t)])
            line = (
                f"{kind:8s} {t:2d} {1e3 * best:8.2f} {1e3 * median:10.2f} {best / best1:17.2f} {median / median1:19.2f}"
            )
            if t > 1:
                target = 1.2 * t
                line += (
                    f" {target:13.1f}  {'met' if best / best1 <= target else 'NOT met'}, "
                    f"{'met' if median / median1 <= target else 'NOT met'}"
                )
            print(line)


if __name__ == "__main__":
    main()
