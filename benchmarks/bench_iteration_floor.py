"""A whole marker-model iteration through ``model.sample`` against the bare floor sweep, same process.

    python benchmarks/bench_iteration_floor.py [--n 2000] [--p 50000] [--no-mice] [--rounds 3]

Issue 23, item 2: BayesA, BayesCπ and BayesR iterations (set-up excluded: the difference of a long
and a short run, each ``sample(chains=1, cores=1)``) against the floor, one int8 dot product and one
axpy per marker (``floors.floor_sweep_unrolled``; ``floor_simd`` with the dot product in SIMD
registers, as the sweeps do), timed over the same matrix in the same process, interleaved with the
fits round after round. Target: iteration <= 1.3x the floor. Prints the medians over ``--rounds``
and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from floors import floor_simd, floor_sweep_unrolled  # noqa: E402

import bayesgen as bg  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHORT, LONG = 5, 25


def simulated(n: int, p: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    frequency = rng.uniform(0.05, 0.5, p)
    codes = rng.binomial(2, frequency[:, None], size=(p, n)).astype(np.int8)
    ids = [f"i{k}" for k in range(n)]
    geno = bg.Genotypes.from_codes(ids, codes, [f"m{j}" for j in range(p)], drop_monomorphic=False)
    effects = np.zeros(p)
    causal = rng.choice(p, 200, replace=False)
    effects[causal] = rng.standard_normal(200)
    g = effects @ (codes - 2 * frequency[:, None])
    y = g / g.std() * np.sqrt(0.4) + rng.standard_normal(n) * np.sqrt(0.6)
    return geno, pd.DataFrame({"id": ids, "y": y})


def mice():
    geno = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
    pheno = pd.read_csv(DATA / "mice_pheno.csv").set_index("SUBJECT.NAME").loc[list(geno.ids)]
    frame = pd.DataFrame({"id": list(geno.ids), "y": pheno["Obesity.BMI"].to_numpy(float)})
    return geno, frame


MODELS = {
    "BayesA": lambda frame, geno: bg.BayesA(frame, "y", "id", geno),
    "BayesCπ": lambda frame, geno: bg.BayesCPi(frame, "y", "id", geno),
    "BayesR": lambda frame, geno: bg.BayesR(frame, "y", "id", geno),
}


def fit_seconds(model, draws: int) -> float:
    start = time.perf_counter()
    model.sample(
        draws=draws, burn=0, chains=1, cores=1, seed=1, progress=False, check_convergence=False, init="default"
    )
    return time.perf_counter() - start


def floor_seconds(codes: np.ndarray, kernel) -> float:
    resid = np.random.default_rng(0).standard_normal(codes.shape[1])
    start = time.perf_counter()
    kernel(codes, resid, 1e-9)
    return time.perf_counter() - start


def measure(name: str, geno, frame, rounds: int) -> None:
    codes = np.ascontiguousarray(geno.codes)
    floor_sweep_unrolled(codes[:2], np.zeros(codes.shape[1]), 1e-9)  # compile
    floor_simd(codes[:2], np.zeros(codes.shape[1]), 1e-9)
    models = {label: build(frame, geno) for label, build in MODELS.items()}
    for model in models.values():  # compile and warm every kernel
        fit_seconds(model, 2)
    iteration = {label: [] for label in models}
    floors = {"floor": [], "floor-simd": []}
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        for label, model in models.items():
            floors["floor"].append(floor_seconds(codes, floor_sweep_unrolled))
            floors["floor-simd"].append(floor_seconds(codes, floor_simd))
            short, long = fit_seconds(model, SHORT), fit_seconds(model, LONG)
            iteration[label].append((long - short) / (LONG - SHORT))
    floor = float(np.median(floors["floor"]))
    simd = float(np.median(floors["floor-simd"]))
    print(f"\n## {name}: {geno.n_individuals} x {geno.n_markers} (load {load_before:.1f} -> {os.getloadavg()[0]:.1f})")
    print(f"floor (dot + axpy, four partial sums): {floor * 1e3:.1f} ms; floor-simd: {simd * 1e3:.1f} ms")
    print(f"{'model':<10} {'ms/iteration':>13} {'x floor':>8} {'x floor-simd':>13}  target <= 1.3x floor")
    for label, values in iteration.items():
        t = float(np.median(values))
        verdict = "met" if t <= 1.3 * floor else "not met"
        print(f"{label:<10} {t * 1e3:13.1f} {t / floor:8.2f} {t / simd:13.2f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-mice", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    geno, frame = simulated(args.n, args.p)
    measure("simulated", geno, frame, args.rounds)
    if not args.no_mice:
        if (DATA / "mice_X.csv.gz").exists():
            measure("mice", *mice(), args.rounds)
        else:
            print(f"\n## mice: skipped ({DATA / 'mice_X.csv.gz'} not found)")


if __name__ == "__main__":
    main()
