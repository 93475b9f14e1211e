"""Heritability from a pedigree: the animal model on simulated data with known truth.

Run:  python examples/heritability.py
(BAYESGEN_EXAMPLE_QUICK=1 runs a tiny version in seconds; the test suite uses it.)
"""

import os

import arviz as az

import bayesgen as bg

if os.environ.get("BAYESGEN_EXAMPLE_QUICK") == "1":
    size = dict(n_founders=30, n_generations=2, n_offspring=50)
    run = dict(draws=100, burn=50, chains=2)
else:  # a population of 100 founders and 4 generations of 250 offspring
    size = dict(n_founders=100, n_generations=4, n_offspring=250)
    run = dict(draws=2000, burn=1000, chains=4)

sim = bg.simulate(**size, n_markers=0, h2=0.4, seed=1)
pedigree = sim.pedigree_object()
print(pedigree, "| mean inbreeding:", round(pedigree.inbreeding().mean(), 4))

model = bg.AnimalModel(sim.phenotypes, "y", column="id", pedigree=pedigree, fixed=["sex"])
idata = model.sample(**run, seed=1)

print(az.summary(idata, var_names=["sigma2_a", "sigma2_e", "h2"], hdi_prob=0.95))
print("true values: sigma2_a =", sim.truth["sigma2_a"], " sigma2_e =", sim.truth["sigma2_e"], " h2 =", sim.truth["h2"])

# Breeding values of every animal in the pedigree, founders included.
ebv = model.predict(idata)
true_bv = sim.truth["breeding_values"].loc[ebv["animal"].values]
print("accuracy r(EBV, TBV) =", round(float(ebv["mean"].to_series().corr(true_bv)), 3))
