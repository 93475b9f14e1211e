"""The collapsed block's two engines for many covariance parameters, side by side.

Gryphon's bivariate model (bwt and tarsus; sex fixed per trait; animal, birth year and mother
with a 2 x 2 covariance each and a 2 x 2 residual: 12 parameters on the log-Cholesky scale),
default priors, one chain of 1,000 draws after 500 per engine per round, the rounds interleaved
(metropolis, hmc, metropolis, hmc, ...), each chain in this process with one BLAS thread:

* ``metropolis``: ``VarianceMetropolis`` started at the Laplace approximation, four proposals
  per iteration, one factorisation each;
* ``hmc`` (the default): four leapfrog steps with the exact gradient, each a factorisation and a
  selected inverse, the Laplace metric.

Per chain: wall seconds (burn-in included), bulk ESS of rho_g, rho_e and each h2 as a share of
the kept draws, ESS per second of rho_g. At the end the median ESS/s of rho_g per engine and
their ratio, with the machine's load.

Run:  python benchmarks/bench_collapsed_engines.py [--rounds 3]
Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import arviz as az
import pandas as pd

import bayesgen as bg
import bayesgen.sampler.collapsed as collapsed

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def model() -> bg.Model:
    data = pd.read_csv(DATA / "gryphon.csv")
    data["sex"] = data["sex"].astype("Int64").astype(str)
    pedigree = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
    return bg.Model(
        data,
        ["bwt", "tarsus"],
        [bg.Fixed(["sex"]), bg.Animal("animal", pedigree), bg.Random("byear"), bg.Random("mother")],
    )


def chain(engine: str, seed: int) -> dict:
    collapsed.HIGH_DIMENSION_ENGINE = engine
    m = model()  # a new model: its block is built with this engine
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = m.sample(chains=1, cores=1, seed=seed, progress=False, check_convergence=False, init="default")
    seconds = time.perf_counter() - start
    post = idata.posterior
    pair = dict(trait_row="bwt", trait_col="tarsus")
    values = {
        "rho_g": post["rho_animal"].sel(pair),
        "rho_e": post["rho_e"].sel(pair),
        "h2_bwt": post["h2"].sel(trait="bwt"),
        "h2_tarsus": post["h2"].sel(trait="tarsus"),
    }
    n = post.sizes["draw"]
    ess = {k: float(az.ess(v.rename("x").to_dataset())["x"]) for k, v in values.items()}
    return {
        "engine": engine,
        "seed": seed,
        "seconds": seconds,
        **{f"ess%_{k}": 100 * v / n for k, v in ess.items()},
        "ess/s_rho_g": ess["rho_g"] / seconds,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if not (DATA / "gryphon.csv").exists():
        print(f"skipped: {DATA / 'gryphon.csv'} not found (../shared/data is needed)")
        return 0
    from threadpoolctl import threadpool_limits

    print("load average at start:", os.getloadavg())
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        for r in range(args.rounds):
            for engine in ("metropolis", "hmc"):
                rows.append(chain(engine, 100 + r))
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    table = pd.DataFrame(rows)
    print(table.groupby("engine").median(numeric_only=True).round(2).to_string())
    median = table.groupby("engine")["ess/s_rho_g"].median()
    print(
        f"ESS/s of rho_g, median over rounds: metropolis {median['metropolis']:.2f}, hmc {median['hmc']:.2f}, "
        f"ratio {median['metropolis'] / median['hmc']:.2f}"
    )
    print("load average at end:", os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
