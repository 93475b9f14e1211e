"""Calibration of the threshold likelihood (``pytest -m statistical``).

* Simulation-based calibration (Talts et al. 2018) of the liability h2 of a binary animal model
  and of the free cut-point of a 3-category trait: parameters from their (proper) priors, data
  from them, then the sampler. A chain started at the true parameters (a draw from the posterior
  given the data it generated) is stationary, so its thinned draws and the truth are exchangeable:
  the truth's rank among L draws is uniform on 0..L, tested by a chi-square test on B bins.
* Recovery: 90% central intervals of the liability h2 over 30 simulated half-sib populations each
  (true h2 0.3, prevalence 0.2 and 0.05, default priors) cover the truth in a proportion that a
  two-sided binomial test at the 1% level does not reject (Bonferroni over the two prevalences).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesgen as bg
from bayesgen.sampler import Gibbs

pytestmark = pytest.mark.statistical


def sbc_ranks(model, names, n_replicates, n_kept, thin, seed):
    """Ranks of the true value of each scalar in ``names`` among ``n_kept`` draws thinned by ``thin``."""
    gibbs = Gibbs(model)
    rng = np.random.default_rng(seed)
    ranks = {name: [] for name in names}
    for _ in range(n_replicates):
        chain = gibbs.init(rng)
        gibbs.draw_prior(rng, chain)
        gibbs.simulate_response(rng, chain)
        truth = gibbs.record(chain)
        draws = {name: [] for name in names}
        for k in range(n_kept * thin):
            gibbs.step(rng, chain)
            if (k + 1) % thin == 0:
                values = gibbs.record(chain)
                for name in names:
                    draws[name].append(float(np.ravel(values[("posterior", name)])[0]))
        for name in names:
            ranks[name].append(int(np.sum(np.array(draws[name]) < float(np.ravel(truth[("posterior", name)])[0]))))
    return {name: np.array(r) for name, r in ranks.items()}


def uniformity_pvalue(ranks, n_kept, bins=10):
    counts = np.histogram(ranks, bins=bins, range=(0, n_kept + 1))[0]
    return stats.chisquare(counts).pvalue


@pytest.fixture(scope="module")
def small():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=30, n_markers=0, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    data["b"] = (data["y"] > data["y"].median()).astype(float)
    data["o"] = np.digitize(data["y"], np.quantile(data["y"], [0.3, 0.7])).astype(float)
    return data, sim.pedigree_object()


def model_of(small, trait):
    data, pedigree = small
    return bg.Model(
        data,
        trait,
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, prior=bg.ScaledInvChi2(df=8.0, scale=0.5))],
        family=bg.Threshold(cutpoint_prior=1.0),
        sampler="collapsed",
    )


def test_sbc_liability_h2_and_cutpoint(small):
    n_kept, replicates = 49, 300
    binary = sbc_ranks(model_of(small, "b"), ["h2"], replicates, n_kept, thin=5, seed=1)
    ordinal = sbc_ranks(model_of(small, "o"), ["h2", "cutpoints"], replicates, n_kept, thin=5, seed=2)
    pvalues = {
        "binary h2": uniformity_pvalue(binary["h2"], n_kept),
        "ordinal h2": uniformity_pvalue(ordinal["h2"], n_kept),
        "ordinal cutpoint": uniformity_pvalue(ordinal["cutpoints"], n_kept),
    }
    print(pvalues)
    assert min(pvalues.values()) > 0.01 / len(pvalues), pvalues


@pytest.mark.parametrize("prevalence", [0.2, 0.05])
def test_recovery_of_liability_h2(prevalence):
    """Half-sib families (the classic design of threshold models; its mixed-model equations are
    cheap to factor): 200 sires x 10 offspring, liability = sire + e with Var = 1 and h2 = 4
    sigma2_s = 0.3; y = 1 for the top ``prevalence`` of the liabilities. On the model's scale
    (residual fixed at 1) h2 = 4 sigma2_s / (sigma2_s + 1)."""
    h2, n_sires, n_offspring = 0.3, 200, 10
    covered = []
    for replicate in range(30):
        rng = np.random.default_rng(1000 + replicate)
        sire = np.repeat(np.arange(n_sires), n_offspring)
        liability = rng.standard_normal(n_sires)[sire] * np.sqrt(h2 / 4) + rng.standard_normal(sire.size) * np.sqrt(
            1 - h2 / 4
        )
        data = pd.DataFrame(
            {"sire": [f"s{k}" for k in sire], "y": (liability > np.quantile(liability, 1 - prevalence)).astype(float)}
        )
        model = bg.Model(data, "y", [bg.Fixed(), bg.Random("sire")], family="threshold", sampler="collapsed")
        idata = model.sample(draws=500, burn=300, chains=2, seed=replicate, progress=False, check_convergence=False)
        sigma2_s = idata.posterior["sigma2_sire"].values.ravel()
        lower, upper = np.quantile(4 * sigma2_s / (sigma2_s + 1), [0.05, 0.95])
        covered.append(lower <= h2 <= upper)
    pvalue = stats.binomtest(int(np.sum(covered)), len(covered), 0.9).pvalue
    print(f"prevalence {prevalence}: {np.sum(covered)}/30 intervals cover h2 = 0.3 (binomial p = {pvalue:.3f})")
    assert pvalue > 0.01 / 2
