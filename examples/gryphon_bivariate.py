"""Bivariate animal model on the gryphon data: birth weight and tarsus length.

bwt and tarsus (Wilson et al. 2010, "An ecologist's guide to the animal model") each with
sex as a fixed effect and an additive genetic (animal), birth-year and maternal (mother)
effect; every random effect and the residual has a 2 x 2 covariance (default half-t-marginal
HuangWand priors). 1084 records: 854 have bwt and 683 tarsus, so many records miss one
trait; the missing trait is drawn from its conditional each iteration (missing-trait
augmentation). SOLAR calls this the bivariate polygenic model.

Prints the genetic (rho_g) and residual (rho_e) correlations, the birth-year and maternal
correlations and each trait's h2 (animal variance over the sum of the four components),
with R-hat and bulk ESS.

Run:  python examples/gryphon_bivariate.py
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds; the test suite uses it. Needs the
reference data in ../shared/data; without it the script says so and stops.)
"""

import os
from pathlib import Path

import arviz as az
import pandas as pd

import bayesgen as bg

QUICK = os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# sample()'s defaults (4 chains x 1,000 draws after 500): the collapsed route mixes the covariances
RUN = dict(draws=60, burn=40, chains=2) if QUICK else dict()


def main():
    if not (DATA / "gryphon.csv").exists():
        print(f"gryphon data not found in {DATA}: nothing to run.")
        return None
    data = pd.read_csv(DATA / "gryphon.csv")
    data["sex"] = data["sex"].astype("Int64").astype(str)  # a factor, "1" and "2"
    pedigree = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
    observed = data[["bwt", "tarsus"]].notna()
    print(
        f"{len(data)} records: both traits {int(observed.all(axis=1).sum())}, bwt only "
        f"{int((observed.bwt & ~observed.tarsus).sum())}, tarsus only {int((~observed.bwt & observed.tarsus).sum())}, "
        f"neither {int((~observed.any(axis=1)).sum())}"
    )

    model = bg.Model(
        data,
        ["bwt", "tarsus"],
        [bg.Fixed(["sex"]), bg.Animal("animal", pedigree), bg.Random("byear"), bg.Random("mother")],
    )
    idata = model.sample(**RUN, seed=2010, progress=not QUICK, check_convergence=not QUICK)

    post = idata.posterior
    pair = dict(trait_row="bwt", trait_col="tarsus")
    quantities = {
        "rho_g (animal)": post["rho_animal"].sel(pair),
        "rho_e (residual)": post["rho_e"].sel(pair),
        "rho_byear": post["rho_byear"].sel(pair),
        "rho_mother": post["rho_mother"].sel(pair),
        "h2 bwt": post["h2"].sel(trait="bwt"),
        "h2 tarsus": post["h2"].sel(trait="tarsus"),
    }
    rows = []
    for name, draws in quantities.items():
        summary = az.summary(draws.rename("x"), hdi_prob=0.95, kind="all")
        rows.append(
            {
                "quantity": name,
                "median": float(draws.median()),
                **{k: summary.iloc[0][k] for k in ("hdi_2.5%", "hdi_97.5%", "r_hat", "ess_bulk")},
            }
        )
    table = pd.DataFrame(rows).set_index("quantity")
    with pd.option_context("display.float_format", "{:.3f}".format):
        print(table)
    print("Variance components (posterior medians):")
    for name in ("sigma2_a", "sigma2_byear", "sigma2_mother", "sigma2_e"):
        print(f"  {name}:", post[name].median(("chain", "draw")).round(3).values.tolist())
    return table


if __name__ == "__main__":
    main()
