"""The mixed-model equations solved four ways on simulated data of growing size (issue 19), in the
spirit of Legarra & Misztal (2008, J. Dairy Sci. 91:360), who compared Gauss-Seidel, Gauss-Seidel with
residual update (GSRU) and PCG for marker models.

Two model families from ``bg.simulate`` (a random-mating pedigree, markers, h2 = 0.5):

* the animal model y ~ 1 + sex + animal (A^-1 sparse: the sparse Cholesky is cheap);
* SNP-BLUP y ~ 1 + sex + W alpha with alpha ~ N(0, sigma2_alpha I) at a known variance (a
  ``Fixed(matrix=W, prior=...)`` term, so C holds the dense m x m W'W; GSRU reads W by
  columns and never forms it).

Each run: equations, iterations to a relative residual of 1e-10, seconds of the solve alone (the
first call of each numba kernel is warmed up) and of the whole ``solve_mme`` call (building the
equations included; GSRU builds none), and the largest difference from Cholesky. The load
average is printed per row. SNP-BLUP models with more than ``--gsru-only-above`` markers run
GSRU alone (the others need C, whose M'M the MME builds by a slow scipy sparse product).

    python benchmarks/bench_mme_solvers.py [--sizes 500 1000 2000] [--markers-per-record 1.0] [--gsru-only-above 2500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bayesgen as bg  # noqa: E402

METHODS = ("cholesky", "gauss-seidel", "gsru", "pcg")


def models(n_records: int, markers_per_record: float, seed: int):
    n_markers = int(markers_per_record * n_records)
    generations = 3
    per = max(n_records // generations, 50)
    sim = bg.simulate(
        n_founders=max(per // 4, 20),
        n_generations=generations,
        n_offspring=per,
        n_markers=n_markers,
        n_qtl=min(50, n_markers),
        h2=0.5,
        genetic_model="markers",
        seed=seed,
    )
    data = sim.phenotypes.reset_index(drop=True)
    ped = sim.pedigree_object()
    animal = bg.Model(data, "y", [bg.Fixed(["sex"]), bg.Animal("id", ped)])
    geno = sim.genotypes
    rows = geno.index([str(i) for i in data["id"]])
    w = geno.codes[:, rows].T.astype(np.float64) - geno.centre[None, :]
    sigma2_alpha = 0.5 * float(np.var(data["y"])) / float(np.sum(geno.centre / 2 * (1 - geno.centre / 2)) * 2)
    snp_blup = bg.Model(
        data,
        "y",
        [
            bg.Fixed(["sex"]),
            bg.Fixed(matrix=w, names=list(geno.markers), intercept=False, name="alpha", prior=sigma2_alpha),
        ],
    )
    return {"animal": animal, "SNP-BLUP": snp_blup}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--markers-per-record", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gsru-only-above", type=int, default=2500)
    args = parser.parse_args()
    warm = models(200, 0.5, 0)["animal"]
    for method in METHODS:
        bg.solve_mme(warm, {"sigma2_a": 1.0, "sigma2_e": 1.0}, method=method)
    rows = []
    for size in args.sizes:
        for family, model in models(size, args.markers_per_record, args.seed).items():
            variances = {"sigma2_e": float(np.nanvar(model.y) / 2)}
            if family == "animal":
                variances["sigma2_a"] = variances["sigma2_e"]
            exact = None
            big = family == "SNP-BLUP" and size * args.markers_per_record > args.gsru_only_above
            for method in ("gsru",) if big else METHODS:
                start = time.perf_counter()
                out = bg.solve_mme(model, variances, method=method, tol=1e-10, max_iter=20_000)
                total = time.perf_counter() - start
                if exact is None:
                    exact = out.solution
                rows.append(
                    {
                        "model": family,
                        "records": int(np.isfinite(model.y).sum()),
                        "equations": out.n_equations,
                        "method": method,
                        "iterations": out.iterations,
                        "seconds": round(out.seconds, 3),
                        "total seconds": round(total, 2),
                        "max |b - b_chol|": float(np.max(np.abs(out.solution - exact))) if not big else np.nan,
                        "converged": out.converged,
                        "load": round(os.getloadavg()[0], 2),
                    }
                )
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
