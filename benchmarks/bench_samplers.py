"""Location samplers side by side: single-site, joint and collapsed, on the reference data sets.

Prints one table: per model and sampler, seconds per iteration and, for every scalar
parameter (variances, h2, the intercept), arviz bulk ESS, ESS per second and R-hat over 4
chains, all from one run. Needs ../shared/data (skips with a message otherwise).

    python benchmarks/bench_samplers.py [--draws 2000] [--burn 500] [--models penicillin,gryphon1,gryphon4]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import bayesgen as bg

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLERS = ("single-site", "joint", "collapsed")


def models():
    """name -> function(sampler) building the model."""
    pen = pd.read_csv(DATA / "penicillin.csv")
    gry = pd.read_csv(DATA / "gryphon.csv")
    ped = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
    bwt = gry.dropna(subset=["bwt"]).reset_index(drop=True)
    bwt = bwt.assign(sex=bwt["sex"].astype(str), byear=bwt["byear"].astype(str), mother=bwt["mother"].astype(str))
    return {
        "penicillin": lambda s: bg.Model(
            pen, "diameter", [bg.Fixed(), bg.Random("plate"), bg.Random("sample")], sampler=s
        ),
        "gryphon1": lambda s: bg.Model(bwt, "bwt", [bg.Fixed(), bg.Animal("animal", ped)], sampler=s),
        "gryphon4": lambda s: bg.Model(
            bwt,
            "bwt",
            [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear"), bg.Random("mother")],
            sampler=s,
        ),
    }


def scalars(idata) -> dict:
    post = idata.posterior
    out = {name: post[name] for name, v in post.data_vars.items() if v.ndim == 2}
    out["Intercept"] = post["beta"].sel(coef="Intercept")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--burn", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--models", default="penicillin,gryphon1,gryphon4")
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    args = parser.parse_args(argv)
    if not (DATA / "README.md").exists():
        print(f"skipped: reference data not found at {DATA} (../shared is absent)")
        return 0
    import arviz as az

    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, bayesgen {bg.__version__}"
    )
    print("# " + " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])))
    builders = models()
    rows = []
    for name in args.models.split(","):
        for sampler in args.samplers.split(","):
            model = builders[name](sampler)
            model.sample(draws=5, burn=5, chains=1, seed=0, progress=False, check_convergence=False)  # warm up
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                idata = model.sample(draws=args.draws, burn=args.burn, chains=args.chains, seed=1, progress=False)
            seconds = time.perf_counter() - start
            per_iteration = seconds * min(args.chains, os.cpu_count() or 1) / (args.chains * (args.draws + args.burn))
            for param, draws in scalars(idata).items():
                ess = float(az.ess(draws.values, method="bulk"))
                rows.append(
                    {
                        "model": name,
                        "sampler": sampler,
                        "param": param,
                        "ess": round(ess),
                        "ess_pct": round(100 * ess / (args.chains * args.draws), 1),
                        "ess_per_s": round(ess / seconds, 1),
                        "rhat": round(float(az.rhat(draws.values)), 3),
                        "ms_per_iter": round(1000 * per_iteration, 3),
                        "wall_s": round(seconds, 1),
                    }
                )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
