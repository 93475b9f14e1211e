"""Sparse Cholesky of mixed-model coefficient matrices: ordering, fill, symbolic and numeric times.

Run:  python benchmarks/bench_cholesky.py [--skip-200k]

For each model builds C = W'W + blockdiag(0, lambda_a A^-1, lambda I, ...) (W = [X Z ...],
every record weight 1) and prints, per ordering, nnz(C), nnz(L), the multiply-adds of one
numeric factorisation, the seconds of the ordering, of the rest of the symbolic analysis,
of one numeric factorisation (best of 3), and of one joint-sampling iteration
(factorize with a new variance ratio + draw from N(C^-1 r, sigma2 C^-1) + log|C|).
Models: gryphon (../shared/data) ``bwt ~ 1 + sex + animal`` and ``+ byear + mother``;
simulated random-mating pedigrees of 10,200 and 200,000 animals, ``y ~ 1 + sex + animal``.
A factor above ``max_factor_nonzeros`` (200 million) is not factored: its size is reported.

Large blocks go through BLAS (numba's ``np.dot``). On the shared 2-core machine the
multithreaded OpenBLAS made the 10,200-animal factorisation 5x slower (1.4 s against
0.24 s with ``OPENBLAS_NUM_THREADS=1``); set it to 1 there, and whenever chains run in
parallel threads.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

import bayesgen as bg
from bayesgen.kernels.cholesky import FactorTooLargeError, SparseCholesky

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MAX_NUMERIC_FLOPS = 5e10  # skip timing numeric factorisations slower than about a minute here


def indicator(codes, n_levels):
    return sp.csr_matrix((np.ones(codes.size), (np.arange(codes.size), codes)), shape=(codes.size, n_levels))


def coefficient_matrix(x, random_blocks, ratios):
    """[X Z1 Z2 ...]'[X Z1 ...] + blockdiag(0, ratio_1 K1^-1, ...) as canonical CSR."""
    w = sp.hstack([sp.csr_matrix(x)] + [z for z, _ in random_blocks]).tocsr()
    prior = sp.block_diag(
        [sp.csr_matrix((x.shape[1], x.shape[1]))] + [r * k for (_, k), r in zip(random_blocks, ratios)]
    )
    c = (w.T @ w + prior).tocsr()
    c.sum_duplicates()
    c.sort_indices()
    return c


def gryphon_models():
    ped = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
    recs = pd.read_csv(DATA / "gryphon.csv", dtype={"animal": str, "mother": str, "byear": str})
    recs = recs[recs["bwt"].notna() & recs["sex"].notna()]
    x = np.column_stack([np.ones(len(recs)), (recs["sex"] == 2).to_numpy(float)])
    animal = (indicator(ped.index(recs["animal"]), len(ped)), ped.ainv())
    byear_codes, _ = pd.factorize(recs["byear"])
    mother_codes, _ = pd.factorize(recs["mother"])
    byear = (indicator(byear_codes, byear_codes.max() + 1), sp.eye(byear_codes.max() + 1))
    mother = (indicator(mother_codes, mother_codes.max() + 1), sp.eye(mother_codes.max() + 1))
    yield "gryphon bwt~1+sex+animal", x, [animal], [2.0]
    yield "gryphon bwt~1+sex+animal+byear+mother", x, [animal, byear, mother], [2.0, 5.0, 4.0]


def simulated_model(n_founders, n_generations, n_offspring):
    start = time.perf_counter()
    sim = bg.simulate(n_founders=n_founders, n_generations=n_generations, n_offspring=n_offspring, n_markers=0, seed=1)
    ped = sim.pedigree_object()
    ainv = ped.ainv()
    seconds = time.perf_counter() - start
    recs = sim.phenotypes
    x = np.column_stack([np.ones(len(recs)), (recs["sex"] == "F").to_numpy(float)])
    animal = (indicator(ped.index(recs["id"]), len(ped)), ainv)
    name = f"simulated {len(ped):,} animals ({n_founders}+{n_generations}x{n_offspring}) y~1+sex+animal"
    print(f"[{name}: simulate + A^-1 {seconds:.1f} s]")
    return name, x, [animal], [1.5]


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench(name, x, blocks, ratios, orderings):
    c = coefficient_matrix(x, blocks, ratios)
    n = c.shape[0]
    print(f"\n{name}: {n:,} equations, nnz(C) {c.nnz:,}")
    print(
        f"  {'ordering':8s} {'nnz(L)':>13s} {'flops':>9s} {'order s':>8s} {'symbolic s':>10s} "
        f"{'numeric s':>9s} {'iteration ms':>12s}"
    )
    rng = np.random.default_rng(0)
    rhs = rng.standard_normal(n)
    for ordering in orderings:
        try:
            chol = SparseCholesky(c, ordering=ordering)
        except FactorTooLargeError as err:
            print(
                f"  {ordering:8s} {err.nnz_factor:13,d} {err.flops:9.2e} {err.timings['ordering']:8.3f} "
                f"{err.timings['symbolic']:10.3f}   not factored: over max_factor_nonzeros"
            )
            continue
        if chol.flops > MAX_NUMERIC_FLOPS:
            print(
                f"  {ordering:8s} {chol.nnz_factor:13,d} {chol.flops:9.2e} {chol.timings['ordering']:8.3f} "
                f"{chol.timings['symbolic']:10.3f}   numeric not timed (flops > {MAX_NUMERIC_FLOPS:.0e})"
            )
            continue
        repeats = 3 if chol.flops < 1e10 else 1
        numeric = best_of(lambda: chol.factorize(c.data), repeats)
        # new variance ratios on the same pattern, as in a sampler
        cs = [coefficient_matrix(x, blocks, [f * r for r in ratios]).data for f in (0.5, 1.0, 2.0, 4.0)]
        iterations = 20 if chol.flops < 1e8 else 2

        def iterate():
            for it in range(iterations):
                chol.factorize(cs[it % len(cs)])
                chol.draw(rng, rhs, scale=1.3)
                chol.logdet()

        per_iteration = best_of(iterate, 2) / iterations
        chol.factorize(c.data)
        residual = np.abs(c @ chol.solve(rhs) - rhs).max()
        print(
            f"  {ordering:8s} {chol.nnz_factor:13,d} {chol.flops:9.2e} {chol.timings['ordering']:8.3f} "
            f"{chol.timings['symbolic']:10.3f} {numeric:9.3f} {1e3 * per_iteration:12.2f}"
            f"   (max |C x - b| {residual:.1e})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-200k", action="store_true", help="leave out the 200,000-animal pedigree")
    args = parser.parse_args()
    # compile the kernels outside the timings
    warm = sp.csr_matrix(np.array([[4.0, 1.0], [1.0, 3.0]]))
    chol = SparseCholesky(warm)
    chol.factorize(warm.data)
    chol.draw(np.random.default_rng(0), np.ones(2))
    chol.logdet()
    SparseCholesky(warm, ordering="rcm")
    if (DATA / "gryphonped.csv").exists():
        for model in gryphon_models():
            bench(*model, orderings=["amd", "rcm", "natural"])
    else:
        print(f"(gryphon skipped: {DATA} not found)")
    bench(*simulated_model(200, 5, 2000), orderings=["amd", "rcm"])
    if not args.skip_200k:
        bench(*simulated_model(2000, 9, 22000), orderings=["amd"])


if __name__ == "__main__":
    main()
