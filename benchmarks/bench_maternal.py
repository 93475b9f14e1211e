"""Mixing of the direct-maternal animal model on gryphon's birth weight: before / after.

Model: ``bwt ~ 1 + sex + byear (iid) + animal (direct + maternal, dam = mother) + mother (iid
permanent environment)``, the model of ``tests/test_maternal.py::test_gryphon_bwt_direct_maternal``
(854 records, 1,309 animals in the pedigree).

Routes compared (same model, priors, seeds; run one after the other, never in parallel):

* ``own-block``: the maternal term runs its own single-site 2 x 2 sweep, G | effects and the
  GL(2) move, beside the collapsed block of the fixed and iid terms (the route before the
  maternal term joined the collapsed block);
* ``collapsed``: the maternal term inside the collapsed block (``sampler="auto"`` now): G's
  three log-Cholesky parameters, sigma2_byear, sigma2_pe and sigma2_e by Metropolis from their
  restricted marginal (4 proposals per iteration), then all location effects jointly;
  ``collapsed-x1`` (or ``-xK``): the same with 1 (K) proposals per iteration.

Measured (4 x 2,000 after 1,000, ``--routes own-block,collapsed-x1,collapsed-x4``), CPU s summed
over chains and bulk ESS of sigma2_d / sigma2_m / rho / sigma2_pe / sigma2_e / h2:
own-block 22.7 s, 26 / 15 / 167 / 22 / 21 / 26 (R-hat up to 1.21); collapsed-x1 52 s,
57 / 18 / 57 / 20 / 29 / 50 (R-hat up to 1.17); collapsed-x4 129 s, 680 / 309 / 1,555 / 513 /
543 / 631 (R-hat up to 1.013).

For each: wall and CPU time of ``model.sample`` (all chains, one process; on a shared machine
the CPU time is the steadier figure), bulk ESS, ESS per wall second and R-hat over the chains
of sigma2_d, sigma2_m, rho, sigma2_pe, sigma2_e, h2, and each chain's median.

Run: ``python benchmarks/bench_maternal.py [--draws 2000 --burn 1000 --chains 4]``
(``--quick`` for a smoke run: 200 draws, 2 chains).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

import bayesgen as bg
from bayesgen.sampler import blocks
from bayesgen.terms.maternal import MaternalAnimal

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def gryphon_model():
    frame = pd.read_csv(DATA / "gryphon.csv")
    ped = pd.read_csv(DATA / "gryphonped.csv")
    pedigree = bg.Pedigree(ped["id"], ped["father"], ped["mother"])
    data = frame.dropna(subset=["bwt"]).reset_index(drop=True)
    data["mother_pe"] = data["mother"].astype(str)
    return bg.Model(
        data,
        "bwt",
        [
            bg.Fixed(["sex"]),
            bg.Random("byear"),
            bg.Animal("animal", pedigree, maternal="mother"),
            bg.Random("mother_pe"),
        ],
    )


def use_own_block(model) -> None:
    """Rebuild the model's blocks with the maternal term outside the location block."""
    original = blocks.location_terms
    blocks.location_terms = lambda m: [k for k in original(m) if not isinstance(m.terms[k], MaternalAnimal)]
    try:
        model.blocks = blocks.build_blocks(model, model.sampler)
    finally:
        blocks.location_terms = original


def summarise(idata, seconds: float) -> pd.DataFrame:
    post = idata.posterior
    g = post["sigma2_a"]
    quantities = {
        "sigma2_d": g.sel(effect_row="direct", effect_col="direct"),
        "sigma2_m": g.sel(effect_row="maternal", effect_col="maternal"),
        "rho": post["rho_animal"],
        "sigma2_pe": post["sigma2_mother_pe"],
        "sigma2_e": post["sigma2_e"],
        "h2": post["h2"],
    }
    rows = {}
    for name, values in quantities.items():
        draws = np.asarray(values.transpose("chain", "draw").values, dtype=np.float64)  # chain x draw
        ess = float(az.ess(draws, method="bulk"))
        rows[name] = {
            "median": float(np.median(draws)),
            "bulk_ess": ess,
            "ess_per_s": ess / seconds,
            "rhat": float(az.rhat(draws)),
            "chain_medians": " ".join(f"{m:.2f}" for m in np.median(draws, axis=1)),
        }
    return pd.DataFrame(rows).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--burn", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--routes", default="own-block,collapsed")
    args = parser.parse_args()
    if args.quick:
        args.draws, args.burn, args.chains = 200, 100, 2
    model = gryphon_model()
    model.sample(draws=5, burn=5, chains=1, seed=0, progress=False, check_convergence=False)  # compile
    for route in args.routes.split(","):
        model = gryphon_model()
        if route == "own-block":
            use_own_block(model)
        elif route == "collapsed-x1":  # one proposal per iteration, as for blocks without G
            next(b for b in model.blocks if b.describe().get("block") == "collapsed").proposals = 1
        elif route.startswith("collapsed-x"):  # collapsed with several proposals per iteration
            next(b for b in model.blocks if b.describe().get("block") == "collapsed").proposals = int(route[11:])
        print(f"\n== {route}: blocks {[b.describe().get('block') for b in model.blocks]}")
        start, cpu_start = time.perf_counter(), time.process_time()
        idata = model.sample(
            draws=args.draws,
            burn=args.burn,
            chains=args.chains,
            seed=args.seed,
            progress=False,
            check_convergence=False,
        )
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(
            f"{args.chains} chains x {args.draws} draws after {args.burn}: {seconds:.1f} s wall, {cpu:.1f} s CPU "
            f"({1e3 * cpu / (args.chains * (args.draws + args.burn)):.2f} ms CPU per iteration)"
        )
        print(summarise(idata, seconds).round(3).to_string())
        stats = idata.sample_stats
        for name in ("accept_variances_rw", "accept_variances_independent", "rescale_accept_animal"):
            if name in stats:
                print(f"{name}: {float(np.nanmean(stats[name].values)):.3f}")


if __name__ == "__main__":
    main()
