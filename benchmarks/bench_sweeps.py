"""Speed of the numba marker and animal sweeps against straightforward NumPy versions.

Run:  python benchmarks/bench_sweeps.py [--mice]
Prints seconds per sweep and the ratio NumPy / numba, measured in this one run.
With --mice (needs ../shared/data), also times a BayesA iteration on the 1814 x 10346
heterogeneous-stock mice genotypes and reports ESS per second of sigma2_e and h2.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import bayesgen as bg
from bayesgen.kernels import sweep_markers_gaussian, sweep_random_effects, weighted_cross_products


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def numpy_marker_sweep(rng, alpha, var_alpha, x, resid, sigma2_e):
    """The same full conditionals with NumPy vector operations per marker (dense float64 X)."""
    xx = np.einsum("ij,ij->j", x, x)
    for j in range(alpha.size):
        xj = x[:, j]
        lhs = xx[j] + sigma2_e / var_alpha[j]
        new = (xj @ resid + xx[j] * alpha[j]) / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        resid -= xj * (new - alpha[j])
        alpha[j] = new


def bench_markers(n=1000, p=5000):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - codes.mean(axis=1)[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T.copy()
    w = np.ones(n)
    _, xx = weighted_cross_products(codes, lookup, w)
    y = rng.standard_normal(n)
    var_alpha = np.full(p, 0.01)
    alpha, resid, gv = np.zeros(p), y.copy(), np.zeros(n)
    sweep_markers_gaussian(rng, alpha, var_alpha, codes, lookup, xx, resid, w, gv, 1.0)  # compile
    t_numba = best_of(lambda: sweep_markers_gaussian(rng, alpha, var_alpha, codes, lookup, xx, resid, w, gv, 1.0))
    a2, r2 = np.zeros(p), y.copy()
    t_numpy = best_of(lambda: numpy_marker_sweep(rng, a2, var_alpha, x, r2, 1.0))
    print(f"marker sweep, n={n} records x p={p} markers (int8 vs float64 NumPy):")
    print(
        f"  numba {t_numba * 1e3:8.1f} ms   numpy {t_numpy * 1e3:8.1f} ms   ratio numpy/numba {t_numpy / t_numba:5.1f}x"
    )
    print(f"  genotype memory: int8 {codes.nbytes / 2**20:.1f} MiB vs float64 {x.nbytes / 2**20:.1f} MiB")


def numpy_random_sweep(rng, u, resid, level, precision, sigma2_e, sigma2_u):
    lam = sigma2_e / sigma2_u
    for i in range(u.size):
        rec = np.flatnonzero(level == i)
        row = precision.getrow(i)
        diag = precision[i, i]
        lhs = rec.size + lam * diag
        rhs = resid[rec].sum() + rec.size * u[i] - lam * (row @ u)[0] + lam * diag * u[i]
        new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        resid[rec] -= new - u[i]
        u[i] = new


def bench_animal():
    sim = bg.simulate(n_founders=200, n_generations=5, n_offspring=1000, n_markers=0, seed=1)
    ped = sim.pedigree_object()
    ainv = ped.ainv()
    level = ped.index(sim.phenotypes["id"])
    y = sim.phenotypes["y"].to_numpy()
    q, n = len(ped), y.size
    order = np.argsort(level, kind="stable").astype(np.int64)
    ptr = np.searchsorted(level[order], np.arange(q + 1)).astype(np.int64)
    zz = np.bincount(level, minlength=q).astype(float)
    rng = np.random.default_rng(0)
    u, resid = np.zeros(q), y - y.mean()
    args = (
        np.ones(n),
        ptr,
        order,
        np.ones(n),
        zz,
        ainv.indptr.astype(np.int64),
        ainv.indices.astype(np.int64),
        ainv.data,
        0.6,
        0.4,
    )
    sweep_random_effects(rng, u, resid, *args)
    t_numba = best_of(lambda: sweep_random_effects(rng, u, resid, *args))
    u2, r2 = np.zeros(q), y - y.mean()
    t_numpy = best_of(lambda: numpy_random_sweep(rng, u2, r2, level, sp.csr_matrix(ainv), 0.6, 0.4), repeats=1)
    print(f"animal sweep, {q} animals, {n} records, nnz(A^-1)={ainv.nnz}:")
    print(
        f"  numba {t_numba * 1e3:8.2f} ms   numpy {t_numpy * 1e3:8.1f} ms   ratio numpy/numba {t_numpy / t_numba:7.0f}x"
    )


def bench_mice():
    import arviz as az
    import pandas as pd

    data_dir = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (data_dir / "mice_X.csv.gz").exists():
        print(f"mice data not found under {data_dir}; skipping")
        return
    t = time.perf_counter()
    geno = bg.Genotypes.from_csv(data_dir / "mice_X.csv.gz", column="SUBJECT.NAME")
    pheno = pd.read_csv(data_dir / "mice_pheno.csv")
    print(f"mice: read {geno} in {time.perf_counter() - t:.1f} s")
    model = bg.BayesA(pheno, "Obesity.BMI", "SUBJECT.NAME", geno, fixed=["GENDER"])
    t = time.perf_counter()
    idata = model.sample(draws=300, burn=100, chains=2, seed=1, progress=False)
    elapsed = time.perf_counter() - t
    ess = az.ess(idata, var_names=["sigma2_e", "h2"])
    print(
        f"mice BayesA: 2 chains x 400 iterations in {elapsed:.1f} s ({elapsed / 400 * 1e3:.0f} ms per iteration per 2 chains)"
    )
    for name in ("sigma2_e", "h2"):
        print(
            f"  {name}: posterior mean {float(idata.posterior[name].mean()):.3f}, ESS {float(ess[name]):.0f}, "
            f"ESS/s {float(ess[name]) / elapsed:.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mice", action="store_true")
    args = parser.parse_args()
    bench_markers()
    bench_animal()
    if args.mice:
        bench_mice()
    sys.exit(0)
