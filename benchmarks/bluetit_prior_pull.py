"""Blue tit (MCMCglmm's bivariate example): how much the covariance priors move the answer.

tarsus and back, sex fixed per trait, animal, dam and fosternest with a 2 x 2 covariance each and
a 2 x 2 residual (828 birds with records, 1,040 in the pedigree). Two fits, default ``sample()``
lengths (4 chains x 1,000 draws after 500):

* ``default``: bayesgen's default priors (HuangWand: half-t(3) on each standard deviation, a
  correlation prior mildly pulled to 0);
* ``iw``: MCMCglmm's course-notes prior IW(V = I, nu = 1.002) on every covariance
  (``bg.InverseWishart(1.002, 1.002 * I)``).

Prints the posterior median and 95% interval of rho_g, rho_e and each trait's h2 (animal over the
sum of the four components) for both, MCMCglmm's published figures (REFERENCES.md) beside them,
and ``bg.prior_sensitivity`` (power-scaling of the prior and of the likelihood) of both fits.

Run:  python benchmarks/bluetit_prior_pull.py [--draws 1000]
Needs ../shared/data (skips with a message otherwise).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgen as bg

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRAITS = ["tarsus", "back"]
MCMCGLMM = {"rho_g": "-0.170 [-0.592, 0.371]", "h2[tarsus]": "0.231 [0.103, 0.433]", "h2[back]": "0.131 [0.067, 0.250]"}


def model(prior: str) -> bg.Model:
    data = pd.read_csv(DATA / "bluetit.csv")
    pedigree = bg.Pedigree.from_csv(DATA / "bluetitped.csv", id="animal", sire="sire", dam="dam")
    data = data.assign(
        sex=data["sex"].astype(str), dam=data["dam"].astype(str), fosternest=data["fosternest"].astype(str)
    )
    extra = dict(variance=bg.InverseWishart(1.002, 1.002 * np.eye(2))) if prior == "iw" else {}
    terms = [
        bg.Fixed(["sex"]),
        bg.Animal("animal", pedigree, **extra),
        bg.Random("dam", **extra),
        bg.Random("fosternest", **extra),
    ]
    residual = dict(sigma2_e=bg.InverseWishart(1.002, 1.002 * np.eye(2))) if prior == "iw" else {}
    return bg.Model(data, TRAITS, terms, **residual)


def summaries(idata) -> dict:
    post = idata.posterior
    pair = dict(trait_row=TRAITS[0], trait_col=TRAITS[1])
    values = {"rho_g": post["rho_animal"].sel(pair), "rho_e": post["rho_e"].sel(pair)}
    for trait in TRAITS:
        values[f"h2[{trait}]"] = post["h2"].sel(trait=trait)
    out = {}
    for name, value in values.items():
        x = value.values.ravel()
        out[name] = f"{np.median(x):.3f} [{np.quantile(x, 0.025):.3f}, {np.quantile(x, 0.975):.3f}]"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not (DATA / "bluetit.csv").exists():
        print(f"skipped: {DATA / 'bluetit.csv'} not found (../shared/data is needed)")
        return 0
    table, sensitivity = {}, {}
    for prior in ("default", "iw"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = model(prior).sample(draws=args.draws, seed=args.seed, progress=False, check_convergence=False)
        table[prior] = summaries(idata)
        names = ["rho_animal", "rho_e", "h2", "sigma2_a", "sigma2_e"]
        sensitivity[prior] = bg.prior_sensitivity(idata, var_names=names)
    table["MCMCglmm 2.36, IW (REFERENCES.md)"] = MCMCGLMM
    pd.set_option("display.width", 200)
    print("Posterior median [95% interval]:")
    print(pd.DataFrame(table).fillna("").to_string())
    for prior, frame in sensitivity.items():
        print(f"\nbg.prior_sensitivity, {prior} priors:")
        print(frame[["prior", "likelihood", "diagnosis"]].round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
