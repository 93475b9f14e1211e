"""Mixing of BRR's and BayesCpi's common marker variance on BGLR's mice, with and without rescaling.

The mice (``../shared/data``: Obesity.BMI, 1,814 records x 10,346 SNPs) are fitted with
``bg.BRR`` and ``bg.BayesCPi`` (BGLR's default priors), each once with the joint rescaling move
(alpha, sigma2_alpha) -> (k alpha, k^2 sigma2_alpha) after each sweep (``Markers(expand=True)``,
the default: "after") and once without it (``expand=False``: "before"). The variants are
interleaved (before, after per model) in one process with the same seed. Reported per fit:
seconds of sampling (burn-in included), the acceptance rate of the move and, for sigma2_alpha,
h2 and sigma2_e, the posterior mean, bulk ESS over all chains, ESS per second and R-hat (arviz,
rank-normalised split R-hat).

    python benchmarks/bench_ridge_mixing.py [--models BRR BayesCPi] [--chains 4] [--burn 100]
        [--draws 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUANTITIES = ("sigma2_alpha", "h2", "sigma2_e")


def mice():
    import bayesgen as bg

    geno = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
    pheno = pd.read_csv(DATA / "mice_pheno.csv").set_index("SUBJECT.NAME").loc[list(geno.ids)]
    data = pd.DataFrame({"id": list(geno.ids), "y": pheno["Obesity.BMI"].to_numpy(float)})
    return data, geno


def fit(model_name: str, expand: bool, data, geno, args) -> dict:
    import arviz as az

    import bayesgen as bg
    from bayesgen.terms.markers import Markers

    model = getattr(bg, model_name)(data, "y", "id", geno)
    (term,) = [t for t in model.terms if isinstance(t, Markers)]
    term.expand = expand
    started = time.perf_counter()
    idata = model.sample(
        draws=args.draws,
        burn=args.burn,
        chains=args.chains,
        cores=1,
        seed=args.seed,
        progress=False,
        check_convergence=False,
        store="summary",
    )
    seconds = time.perf_counter() - started
    row = {"model": model_name, "variant": "after" if expand else "before", "seconds": seconds}
    if "rescale_accept_markers" in idata.sample_stats:
        row["accept"] = float(idata.sample_stats["rescale_accept_markers"].mean())
    for name in QUANTITIES:
        draws = idata.posterior[name].values
        ess = float(az.ess(draws, method="bulk"))
        row.update(
            {
                f"{name} mean": float(draws.mean()),
                f"{name} ESS": ess,
                f"{name} ESS/s": ess / seconds,
                f"{name} R-hat": float(az.rhat(draws)),
            }
        )
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["BRR", "BayesCPi"])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--burn", type=int, default=100)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    data, geno = mice()
    rows = []
    for model_name in args.models:
        for expand in (False, True):
            rows.append(fit(model_name, expand, data, geno, args))
            print(pd.Series(rows[-1]).to_string(), flush=True)
    table = pd.DataFrame(rows).set_index(["model", "variant"]).T
    with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 200):
        print(table)


if __name__ == "__main__":
    main()
