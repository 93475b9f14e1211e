"""Genomic prediction with BayesA: train on older generations, predict the youngest.

Run:  python examples/genomic_prediction.py
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds; the test suite uses it.)
"""

import os

import arviz as az
import numpy as np

import bayesgen as bg

if os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1":
    size = dict(n_founders=30, n_generations=2, n_offspring=60, n_markers=200)
    run = dict(draws=100, burn=50, chains=2)
else:
    size = dict(n_founders=60, n_generations=3, n_offspring=200, n_markers=1000)
    run = dict(draws=1000, burn=500, chains=4)

sim = bg.simulate(**size, n_qtl=50, genetic_model="markers", h2=0.5, seed=3)
data = sim.phenotypes.copy()
young = data["generation"] == data["generation"].max()
data.loc[young, "y"] = np.nan  # records with a missing phenotype are predicted, not dropped

model = bg.BayesA(data, "y", id="id", genotypes=sim.genotypes, fixed=["sex"])
idata = model.sample(**run, seed=3)
print(az.summary(idata, var_names=["sigma2_g", "sigma2_e", "h2"]))

# Genomic values of the young animals (posterior mean and 95% interval).
young_ids = data.loc[young, "id"].tolist()
rows = sim.genotypes.index(young_ids)
new = bg.Genotypes(young_ids, sim.genotypes.codes[:, rows].T, sim.genotypes.markers, drop_monomorphic=False)
gebv = model.predict(idata, genotypes=new)
truth = sim.truth["breeding_values"].loc[young_ids].to_numpy()
print(gebv.to_dataframe().head())
print("accuracy r(GEBV, TBV) in the validation generation =", round(np.corrcoef(gebv["mean"], truth)[0, 1], 3))

# The same records' predicted phenotypes are in the InferenceData:
print(idata.predictions["y"].mean(("chain", "draw")).to_series().head())
