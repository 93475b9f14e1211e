"""Heritability under BGLR's prior rule and the default half-t priors, against REML.

Prints, for the reference models of ../shared/data (gryphon bwt with one and four
variance components, Penicillin, sleepstudy): REML, and the posterior median [95% interval]
of every variance component and h2 under each prior rule; the power-scaling sensitivity
of gryphon's four-component model under each rule; and az.compare of gryphon's two models
with the integrated pointwise log-likelihood. Skips with a message where ../shared is absent.

    python benchmarks/heritability_priors.py [--draws 2500] [--burn 1000]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgen as bg

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REML = {  # ../shared/data/REFERENCES.md
    "gryphon bwt ~ 1 + animal": {"sigma2_a": 3.3954, "sigma2_e": 3.8286, "h2": 0.4700},
    "gryphon bwt ~ 1 + sex + animal + byear + mother": {
        "sigma2_a": 2.2985,
        "sigma2_byear": 0.8820,
        "sigma2_mother": 1.1185,
        "sigma2_e": 1.6290,
        "h2": 0.3877,
    },
    "Penicillin diameter ~ 1 + (1|plate) + (1|sample)": {
        "sigma2_plate": 0.7169,
        "sigma2_sample": 3.7311,
        "sigma2_e": 0.3024,
    },
    "sleepstudy Reaction ~ Days + (1|Subject)": {"sigma2_Subject": 1378.18, "sigma2_e": 960.46},
}


def build(priors: str) -> dict:
    ped = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
    gryphon = pd.read_csv(DATA / "gryphon.csv").dropna(subset=["bwt"]).reset_index(drop=True)
    gryphon["sex"] = gryphon["sex"].astype(str)
    pen = pd.read_csv(DATA / "penicillin.csv")
    sleep = pd.read_csv(DATA / "sleepstudy.csv")
    names = list(REML)
    return {
        names[0]: bg.Model(gryphon, "bwt", [bg.Fixed(), bg.Animal("animal", ped)], priors=priors),
        names[1]: bg.Model(
            gryphon,
            "bwt",
            [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear"), bg.Random("mother")],
            priors=priors,
        ),
        names[2]: bg.Model(pen, "diameter", [bg.Fixed(), bg.Random("plate"), bg.Random("sample")], priors=priors),
        names[3]: bg.Model(sleep, "Reaction", [bg.Fixed(["Days"]), bg.Random("Subject")], priors=priors),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2500)
    parser.add_argument("--burn", type=int, default=1000)
    args = parser.parse_args(argv)
    if not (DATA / "README.md").exists():
        print(f"skipped: reference data not found at {DATA} (../shared is absent)")
        return 0
    import arviz as az

    warnings.simplefilter("ignore")
    fits = {
        rule: {
            name: m.sample(draws=args.draws, burn=args.burn, chains=4, seed=7, progress=False)
            for name, m in build(rule).items()
        }
        for rule in ("bglr", "default")
    }
    rows = []
    for name, reml in REML.items():
        for param, value in reml.items():
            row = {"model": name, "parameter": param, "REML": value}
            for rule in ("bglr", "default"):
                draws = fits[rule][name].posterior[param].values.ravel()
                lo, med, hi = np.quantile(draws, [0.025, 0.5, 0.975])
                row[f"{rule}: median [95%]"] = f"{med:.4g} [{lo:.3g}, {hi:.3g}]"
                row[f"{rule}: vs REML"] = (
                    f"{100 * (med / value - 1):+.0f}%{'' if lo <= value <= hi else ' (REML outside)'}"
                )
            rows.append(row)
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        print(pd.DataFrame(rows).to_string(index=False))
        four = list(REML)[1]
        for rule in ("bglr", "default"):
            print(f"\nprior_sensitivity, {four}, priors={rule!r}:")
            print(bg.prior_sensitivity(fits[rule][four])[["prior", "likelihood", "diagnosis"]].round(3).to_string())
        one, four = list(REML)[:2]
        print("\naz.compare, default priors (pointwise log-likelihood with own effects integrated out):")
        table = az.compare(
            {"bwt ~ 1 + animal": fits["default"][one], "bwt ~ 1 + sex + animal + byear + mother": fits["default"][four]}
        )
        print(table[["elpd_loo", "p_loo", "elpd_diff", "dse", "warning"]].round(1).to_string())
        for name in (one, four):
            k = az.loo(fits["default"][name], pointwise=True).pareto_k.values
            print(f"{name}: {100 * np.mean(k < 0.7):.2f}% of Pareto k < 0.7 (max {k.max():.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
