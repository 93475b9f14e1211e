"""Long Monte Carlo checks (``pytest -m statistical``; CI runs them).

Recovery: over repeated simulated data sets (fixed seeds), 95% posterior intervals of h2
and sigma2_e cover the true values at about the nominal rate. With R replicates and a
correct sampler the number of covering intervals is Binomial(R, 0.95); the test fails if
it falls below the quantile with probability 0.001 / (number of checks), i.e. a
Bonferroni-corrected binomial test.

Real data: the gryphon animal model (Wilson et al. 2010) against REML estimates.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

import bayesgen as bg

pytestmark = pytest.mark.statistical

REPLICATES = 60
CHECKS = 4  # (h2, sigma2_e) x (animal model, BayesA)
MIN_COVERED = int(binom.ppf(0.001 / CHECKS, REPLICATES, 0.95))


def covers(draws, truth, prob=0.95):
    lo, hi = np.quantile(np.asarray(draws).ravel(), [(1 - prob) / 2, (1 + prob) / 2])
    return lo <= truth <= hi


def test_animal_model_intervals_cover_the_truth():
    covered = {"h2": 0, "sigma2_e": 0}
    for r in range(REPLICATES):
        sim = bg.simulate(n_founders=60, n_generations=3, n_offspring=150, n_markers=0, h2=0.4, seed=1000 + r)
        model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
        idata = model.sample(draws=1000, burn=500, chains=2, seed=r, progress=False)
        covered["h2"] += covers(idata.posterior["h2"], sim.truth["h2"])
        covered["sigma2_e"] += covers(idata.posterior["sigma2_e"], sim.truth["sigma2_e"])
    print(f"animal model: covered {covered} of {REPLICATES} (need >= {MIN_COVERED})")
    assert min(covered.values()) >= MIN_COVERED, covered


def test_bayes_a_intervals_cover_the_truth():
    """Truth for h2 is the realised genomic variance of the records, var(W alpha)/(var(W alpha) + sigma2_e)."""
    covered = {"h2": 0, "sigma2_e": 0}
    for r in range(REPLICATES):
        sim = bg.simulate(
            n_founders=60,
            n_generations=3,
            n_offspring=150,
            n_markers=300,
            n_qtl=300,
            genetic_model="markers",
            h2=0.5,
            seed=2000 + r,
        )
        model = bg.BayesA(sim.phenotypes, "y", "id", sim.genotypes, fixed=["sex"])
        idata = model.sample(draws=1000, burn=500, chains=2, seed=r, progress=False)
        g = sim.truth["sigma2_g_realized"]
        covered["h2"] += covers(idata.posterior["h2"], g / (g + sim.truth["sigma2_e"]))
        covered["sigma2_e"] += covers(idata.posterior["sigma2_e"], sim.truth["sigma2_e"])
    print(f"BayesA: covered {covered} of {REPLICATES} (need >= {MIN_COVERED})")
    assert min(covered.values()) >= MIN_COVERED, covered


def test_gryphon_birth_weight_animal_model(shared_data):
    """bwt ~ 1 + animal on the gryphon data; REML (ASReml, Wilson et al. 2010): V_A 3.3954, V_R 3.8286, h2 0.470."""
    import arviz as az

    ped = bg.Pedigree.from_csv(shared_data / "gryphonped.csv", id="id", sire="father", dam="mother")
    data = pd.read_csv(shared_data / "gryphon.csv")
    data = data[data["bwt"].notna()]
    assert len(data) == 854
    model = bg.AnimalModel(data, "bwt", "animal", ped)
    idata = model.sample(draws=3000, burn=1000, chains=4, seed=2010, progress=False)
    summary = az.summary(idata, var_names=["sigma2_a", "sigma2_e", "h2"], hdi_prob=0.95)
    print(summary.to_string())
    assert (summary["r_hat"] < 1.05).all(), summary
    assert (summary["ess_bulk"] > 100).all(), summary
    for name, reml in (("sigma2_a", 3.3954), ("sigma2_e", 3.8286), ("h2", 0.4700)):
        assert covers(idata.posterior[name], reml), (name, reml)
