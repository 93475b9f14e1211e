"""Burn-in from REML starting values against the default start (issue 19), gryphon's four components.

bwt ~ 1 + sex + animal + byear + mother (854 records, 1,309 animals), default priors and sampler
(collapsed). For each seed and start (``init="default"`` or ``"reml"``), 4 chains of ``--draws``
iterations with no burn-in are kept; the burn-in needed is the first b (a multiple of ``--step``)
such that every variance and h2 has rank-normalised R-hat <= 1.01 over the draws b .. b + ``--window``
(Vehtari et al. 2021). Reports it per seed and the REML fit's time, with the load average.

    python benchmarks/bench_reml_init.py [--seeds 1 2 3] [--draws 1500] [--window 500] [--step 25] [--dispersion 1 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bayesgen as bg  # noqa: E402
import bayesgen.classical.start as start_module  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def burn_needed(idata, window, step):
    import arviz as az

    names = [n for n in idata.posterior.data_vars if n.startswith("sigma2_") or n == "h2"]
    n = idata.posterior.sizes["draw"]
    for b in range(0, n - window + 1, step):
        part = idata.posterior.isel(draw=slice(b, b + window))
        if all(float(az.rhat(part[name].transpose("chain", "draw").values, method="rank")) <= 1.01 for name in names):
            return b
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--draws", type=int, default=1500)
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--step", type=int, default=25)
    parser.add_argument(
        "--skip-default",
        action="store_true",
        help="only the REML starts (the default start's draws do not depend on this module)",
    )
    parser.add_argument(
        "--dispersion",
        type=float,
        nargs="+",
        default=[2.0],
        help="bayesgen.classical.start.DISPERSION values tried with init='reml'",
    )
    args = parser.parse_args()
    if not (DATA / "gryphon.csv").exists():
        print(f"gryphon data not found at {DATA}; skipping.")
        return
    gry = pd.read_csv(DATA / "gryphon.csv").dropna(subset=["bwt"]).reset_index(drop=True)
    gry = gry.assign(sex=gry["sex"].astype(str), byear=gry["byear"].astype(str), mother=gry["mother"].astype(str))
    ped = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
    model = bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear"), bg.Random("mother")])
    start = time.perf_counter()
    fit = bg.reml(model)
    print(f"REML: {time.perf_counter() - start:.2f} s, {fit.iterations} iterations; load {os.getloadavg()}")
    rows = []
    for seed in args.seeds:
        configurations = [] if args.skip_default else [("default", None)]
        for init, dispersion in configurations + [("reml", d) for d in args.dispersion]:
            if dispersion is not None:
                start_module.DISPERSION = dispersion
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                idata = model.sample(
                    draws=args.draws, burn=0, chains=4, seed=seed, progress=False, check_convergence=False, init=init
                )
                seconds = time.perf_counter() - start
            b = burn_needed(idata, args.window, args.step)
            rows.append(
                {
                    "seed": seed,
                    "init": init if dispersion is None else f"reml (dispersion {dispersion:g})",
                    "burn_in_to_rhat_1.01": b,
                    "seconds": round(seconds, 1),
                }
            )
            print(rows[-1], f"load {os.getloadavg()[0]:.2f}", flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(table.groupby("init")["burn_in_to_rhat_1.01"].describe())


if __name__ == "__main__":
    main()
