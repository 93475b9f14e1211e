"""Genomic prediction, start to finish: PLINK files in, cross-validated priors out.

1. simulate a population whose trait is set by a few QTL (the "truth" we can check against);
2. write its genotypes as a PLINK 1 file set (.bed/.bim/.fam) and its phenotypes as a CSV,
   as a genotyping lab and a field trial would hand them over;
3. read them back with ``bg.read_plink`` (straight to int8, with a QC report);
4. fit several marker priors and GBLUP, and look at h2, pi and the inclusion probabilities
   (PIP) at the true QTL;
5. cross-validate every model on the same folds (``bg.cross_validate``) and compare them by
   PSIS-LOO (``az.compare``);
6. predict the genomic values of young, unphenotyped individuals from their genotypes alone.

Run:  python examples/genomic_prediction.py   (about 100 s of CPU time on one core)
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds; the test suite uses it.)
"""

import os
import tempfile
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
from bed_reader import to_bed

import bayesgen as bg

QUICK = os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1"
if QUICK:
    size = dict(n_founders=30, n_generations=2, n_offspring=60, n_markers=200, n_qtl=10)
    run = dict(draws=60, burn=40, chains=2)
    folds = 3
else:
    size = dict(n_founders=60, n_generations=3, n_offspring=200, n_markers=2000, n_qtl=20)
    # Short chains for a walk-through: the convergence report will flag BRR's and BayesR's sigma2_alpha
    # (bulk ESS 15 and 6 at this length; the common variance and the effects move along a ridge).
    # For a real analysis run longer chains until it is quiet.
    run = dict(draws=1000, burn=500, chains=2)
    folds = 5

# ---------------------------------------------------------------- 1. simulate
sim = bg.simulate(**size, genetic_model="markers", h2=0.5, seed=3)
young = sim.phenotypes["generation"] == sim.phenotypes["generation"].max()
print(
    f"{sim.genotypes.n_individuals} individuals x {sim.genotypes.n_markers} markers, "
    f"{size['n_qtl']} QTL, true h2 {sim.truth['h2']:.2f}"
)

with tempfile.TemporaryDirectory() as folder:
    # ------------------------------------------------------------ 2. write PLINK + phenotypes
    prefix = Path(folder) / "herd"
    n_markers = sim.genotypes.n_markers
    chromosome = 1 + np.arange(n_markers) * 5 // n_markers  # five chromosomes of consecutive markers
    to_bed(
        prefix.with_suffix(".bed"),
        sim.genotypes.codes.T,  # bed-reader wants individuals x markers
        properties={
            "iid": sim.genotypes.ids,
            "sid": sim.genotypes.markers,
            "chromosome": chromosome,
            "bp_position": 1_000 * (1 + np.arange(n_markers)),
            "allele_1": ["A"] * n_markers,
            "allele_2": ["G"] * n_markers,
        },
    )
    # The young generation is genotyped but not yet phenotyped: it is left out of the trial file.
    sim.phenotypes.loc[~young, ["id", "sex", "y"]].to_csv(Path(folder) / "trial.csv", index=False)

    # ------------------------------------------------------------ 3. read them back
    genotypes = bg.read_plink(prefix, maf=0.01)  # prints what QC removed
    records = pd.read_csv(Path(folder) / "trial.csv", dtype={"id": str})
print(genotypes.marker_info.head(3))

# ---------------------------------------------------------------- 4. fit several priors
models = {
    "BayesA": bg.BayesA(records, "y", "id", genotypes, fixed=["sex"]),
    "BRR": bg.BRR(records, "y", "id", genotypes, fixed=["sex"]),
    "BayesCpi": bg.BayesCPi(records, "y", "id", genotypes, fixed=["sex"]),
    "BayesR": bg.BayesR(records, "y", "id", genotypes, fixed=["sex"]),
    "GBLUP": bg.GBLUP(records, "y", "id", genotypes, fixed=["sex"]),
}
fits = {
    name: model.sample(**run, seed=1, progress=False, check_convergence=not QUICK) for name, model in models.items()
}
for name, idata in fits.items():
    wanted = [v for v in ("h2", "sigma2_e", "pi") if v in idata.posterior and idata.posterior[v].ndim == 2]
    print(f"\n{name}\n{az.summary(idata, var_names=wanted, kind='stats').round(3)}")

# Sparse QTL: BayesCpi's inclusion probabilities are higher at the true QTL than elsewhere.
pip = bg.gwas.markers(fits["BayesCpi"], models["BayesCpi"]).set_index("marker")["pip"]
is_qtl = pip.index.isin(sim.truth["qtl"])
print(f"\nBayesCpi mean PIP: true QTL {pip[is_qtl].mean():.2f}, other markers {pip[~is_qtl].mean():.2f}")

# ---------------------------------------------------------------- 5. cross-validate, compare by LOO
accuracy = {}
for name, model in models.items():
    table = bg.cross_validate(model, folds=folds, seed=2, **run)  # the same folds for every model (same seed)
    accuracy[name] = table["accuracy"].agg(["mean", "std"])
print(f"\n{folds}-fold cross-validation, accuracy r(yhat, y) over folds:")
print(pd.DataFrame(accuracy).T.round(3))
# With more markers than records, some records have Pareto k > 0.7 ("warning" True): PSIS-LOO is then
# a rough guide, and the cross-validation above is the measure to trust.
print("\nPSIS-LOO (higher elpd_loo predicts new records of these individuals better):")
with warnings.catch_warnings():  # arviz's notice of Pareto k > 0.7 is the table's "warning" column
    warnings.simplefilter("ignore")
    comparison = az.compare(fits)
print(comparison[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "warning"]].round(2))

# ---------------------------------------------------------------- 6. predict the young generation
young_ids = sim.phenotypes.loc[young, "id"].tolist()
marker_priors = [name for name in models if name != "GBLUP"]  # GBLUP's young values are in posterior["g"]
best = max(marker_priors, key=lambda name: accuracy[name]["mean"])
gebv = models[best].predict(fits[best], genotypes=genotypes.select(ids=young_ids))
truth = sim.truth["breeding_values"].loc[young_ids].to_numpy()
print(f"\n{best} (the best marker prior in cross-validation): genomic values of the {len(young_ids)} young individuals")
print(gebv.to_dataframe().head())
print(f"accuracy r(GEBV, true breeding value) in the young generation = {np.corrcoef(gebv['mean'], truth)[0, 1]:.3f}")
