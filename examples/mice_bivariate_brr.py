"""Bivariate genomic BRR on BGLR's mice: BMI and body length with one marker covariance.

Fits ``bg.BRR(data, ["bmi", "length"], ...)`` (each SNP an effect vector for both traits,
alpha_j ~ N(0, Sigma_alpha); sex a fixed effect per trait) and, for comparison, the one-trait
BRR of each trait. Prints each trait's h2, the genomic correlation ``cor_g`` (of the genomic
values of the two traits) and the residual correlation ``rho_e``: posterior median and 95%
interval, with the wall time of each fit.

Run:  python examples/mice_bivariate_brr.py   (about 45 s on one core; data in ../shared/data)
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds: 200 mice, 300 SNPs; the test suite uses it.)
"""

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgen as bg

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
TRAITS = ["bmi", "length"]
QUICK = os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1"


def interval(draws) -> str:
    draws = np.asarray(draws).ravel()
    return f"{np.median(draws):.3f} [{np.quantile(draws, 0.025):.3f}, {np.quantile(draws, 0.975):.3f}]"


def main(draws: int = 1000, burn: int = 500, seed: int = 3) -> None:
    if not (DATA / "mice_X.csv.gz").exists():
        print(f"mice data not found in {DATA.resolve()}: nothing to run.")
        return
    subset = dict(nrows=200, usecols=range(301)) if QUICK else {}
    genotypes = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME", **subset)
    pheno = pd.read_csv(DATA / "mice_pheno.csv", nrows=subset.get("nrows"))
    data = pheno[["SUBJECT.NAME", "Obesity.BMI", "Obesity.BodyLength", "GENDER"]].set_axis(
        ["id", *TRAITS, "GENDER"], axis=1
    )
    options = dict(draws=draws, burn=burn, chains=1, seed=seed, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one short chain: the convergence warning is expected
        start = time.time()
        post = bg.BRR(data, TRAITS, "id", genotypes, fixed=["GENDER"]).sample(**options).posterior
        print(
            f"bivariate BRR ({time.time() - start:.0f} s): "
            + ", ".join(f"h2 {t} {interval(post['h2'].values[..., k])}" for k, t in enumerate(TRAITS))
            + f", cor_g {interval(post['cor_g'].values[..., 0, 1])}"
            + f", rho_e {interval(post['rho_e'].values[..., 0, 1])}"
        )
        for trait in TRAITS:
            start = time.time()
            one = bg.BRR(data.dropna(subset=[trait]), trait, "id", genotypes, fixed=["GENDER"]).sample(**options)
            print(f"one-trait BRR {trait} ({time.time() - start:.0f} s): h2 {interval(one.posterior['h2'].values)}")


if __name__ == "__main__":
    main(draws=20, burn=5) if QUICK else main()
