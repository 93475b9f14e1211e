"""The Gaussian marker sweep against a floor kernel on the same int8 matrix, in one process.

Run:  python benchmarks/bench_markers.py [--no-mice] [--repeats 3]

The floor is the least any exact single-site sweep must do: per marker one int8 dot product
with the residual and one axpy into it (a bare numba loop, compiled like every bayesgen
kernel: no fastmath). Without fastmath a one-accumulator dot product waits on each addition,
so a second floor splits it into four partial sums, as the sweep does. Prints per matrix: ms per sweep, ns per genotype element, and the
ratio sweep / floor, for today's sweep (``sweep_markers_gaussian``) and for the previous
element-by-element sweep (lookup-table gather, weight multiply and genetic-value update per
element; kept here as ``_sweep_before``). Matrices: simulated 2,000 records x 50,000
markers, and the mice (1,814 x 10,346, ``../shared/data/mice_X.csv.gz``) where present.
Best of ``--repeats`` timed sweeps after one compile/warm-up sweep.

Then start-up, each in a fresh interpreter (median of 5, and of 3): ``python -c "import
bayesgen"`` wall time, and import + a 20-iteration animal model (README's simulated
pedigree, one chain) with the numba cache warm (one unmeasured run first).
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from floors import floor_sweep, floor_sweep_unrolled  # benchmarks/ is on the path when run as a script

import bayesgen as bg
from bayesgen._numba import kernel
from bayesgen.kernels import sweep_markers_gaussian, weighted_cross_products


@kernel
def _sweep_before(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e):
    """The sweep as it was before issue 10 (gather per element, weights, genetic values updated)."""
    n_markers, n = codes.shape
    for j in range(n_markers):
        xe = 0.0
        for i in range(n):
            xe += weights[i] * lookup[j, codes[j, i]] * resid[i]
        lhs = xx[j] + sigma2_e / var_alpha[j]
        mean = (xe + xx[j] * alpha[j]) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        delta = new - alpha[j]
        if delta != 0.0:
            for i in range(n):
                x = lookup[j, codes[j, i]]
                resid[i] -= x * delta
                genetic_values[i] += x * delta
        alpha[j] = new


def best_of(fn, repeats):
    fn()  # compile / warm up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def time_matrix(label, codes, repeats, n_unphenotyped=0):
    p, n = codes.shape
    centre = np.array([row[row < 3].mean() for row in codes]) if (codes == 3).any() else codes.mean(axis=1)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
    rng = np.random.default_rng(0)
    w = np.ones(n)
    w[rng.choice(n, n_unphenotyped, replace=False)] = 0.0
    _, xx = weighted_cross_products(codes, lookup, w)
    y = rng.standard_normal(n)
    var_alpha = np.full(p, 1.0 / p)
    results = {}
    resid = y.copy()
    results["floor"] = best_of(lambda: floor_sweep(codes, resid, 1e-9), repeats)
    results["floor, 4 sums"] = best_of(lambda: floor_sweep_unrolled(codes, resid, 1e-9), repeats)
    for name, fn in (("sweep (now)", sweep_markers_gaussian), ("sweep (before)", _sweep_before)):
        alpha, resid, gv = np.zeros(p), y.copy(), np.zeros(n)
        g = np.random.default_rng(1)
        results[name] = best_of(lambda: fn(g, alpha, var_alpha, codes, lookup, xx, resid, w, gv, 0.5), repeats)
    elements = p * n
    print(
        f"\n{label}: {n} records x {p} markers, {int((codes == 3).sum())} missing genotypes, "
        f"{n_unphenotyped} unphenotyped records"
    )
    print(f"  {'kernel':<16}{'ms/sweep':>10}{'ns/element':>12}{'x floor':>9}{'x floor4':>9}")
    for name, t in results.items():
        print(
            f"  {name:<16}{t * 1e3:>10.1f}{t / elements * 1e9:>12.3f}{t / results['floor']:>9.2f}"
            f"{t / results['floor, 4 sums']:>9.2f}"
        )
    return results


FIT_20 = """
import time
t0 = time.perf_counter()
import bayesgen as bg
t1 = time.perf_counter()
sim = bg.simulate(n_founders=50, n_generations=3, n_offspring=100, n_markers=0, h2=0.4, seed=1)
ped = bg.Pedigree.from_dataframe(sim.pedigree, id="id", sire="sire", dam="dam")
model = bg.AnimalModel(sim.phenotypes, "y", column="id", pedigree=ped, fixed=["sex"])
model.sample(draws=10, burn=10, chains=1, seed=1, progress=False, check_convergence=CHECK)
print(t1 - t0, time.perf_counter() - t1)
"""


def wall(code):
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t


def time_startup():
    imports = sorted(wall("import bayesgen") for _ in range(5))
    print("\nstart-up (fresh interpreter, wall):")
    print(
        f"  python -c 'import bayesgen'                                 median {imports[2]:.2f} s "
        f"(min {imports[0]:.2f})"
    )
    for check in (True, False):
        code = f"CHECK = {check}\n" + FIT_20
        wall(code)  # warm the numba cache
        fits = sorted(wall(code) for _ in range(3))
        print(
            f"  import + 20-iteration animal model, check_convergence={check!s:<5} median {fits[1]:.2f} s "
            f"(min {fits[0]:.2f}), warm numba cache"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-mice", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-startup", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
        f"python {platform.python_version()}; load {os.getloadavg()[0]:.2f}"
    )
    print("command: python " + " ".join(sys.argv))
    if not args.no_startup:
        time_startup()
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, (50_000, 2_000), dtype=np.int8)
    time_matrix("simulated", codes, args.repeats)
    missing = rng.random(codes.shape) < 0.01
    codes[missing] = 3
    time_matrix("simulated, 1% missing genotypes, 5% unphenotyped", codes, args.repeats, n_unphenotyped=100)
    del codes, missing
    data_dir = Path(__file__).resolve().parents[2] / "shared" / "data"
    if args.no_mice:
        return
    if not (data_dir / "mice_X.csv.gz").exists():
        print(f"\nmice data not found under {data_dir}; skipped")
        return
    t = time.perf_counter()
    geno = bg.Genotypes.from_csv(data_dir / "mice_X.csv.gz", column="SUBJECT.NAME")
    print(f"\nmice genotypes read in {time.perf_counter() - t:.1f} s")
    time_matrix("mice", np.ascontiguousarray(geno.codes), args.repeats)


if __name__ == "__main__":
    main()
