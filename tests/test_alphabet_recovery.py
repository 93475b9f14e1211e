"""Recovery of sparse QTL by the spike-and-slab priors (issue 8): BayesB, BayesC, BayesCpi, BayesR.

Simulated: 300 individuals, 200 independent markers on two chromosomes (10 kb apart), three
QTL explaining about 47%, 22% and 35% of the genetic variance, h2 about 0.6. Each prior must
put a higher posterior inclusion probability (PIP) on the QTL than elsewhere (the QTL are
the top three markers), BayesCpi's 95% interval of pi must cover the true share 3/200, and
the window posterior probability of association (WPPA, 100 kb windows) must flag the QTL
windows and no other. Fixed seeds; a few seconds per prior.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg

pytestmark = pytest.mark.statistical

N_IDS, N_MARKERS = 300, 200
QTL = (25, 97, 160)
QTL_EFFECTS = (0.6, -0.5, 0.55)


@pytest.fixture(scope="module")
def sparse_qtl():
    rng = np.random.default_rng(2026)
    codes = rng.binomial(2, rng.uniform(0.2, 0.8, N_MARKERS), size=(N_IDS, N_MARKERS)).astype(float)
    ids = [f"i{k:03d}" for k in range(N_IDS)]
    markers = [f"m{j:03d}" for j in range(N_MARKERS)]
    info = pd.DataFrame(
        {"chrom": np.repeat([1, 2], N_MARKERS // 2), "pos": np.tile(np.arange(N_MARKERS // 2) * 10_000, 2)},
        index=markers,
    )
    genotypes = bg.Genotypes(ids, codes, markers, marker_info=info)
    effects = np.zeros(N_MARKERS)
    effects[list(QTL)] = QTL_EFFECTS
    g = (codes - codes.mean(axis=0)) @ effects
    y = 5.0 + g + rng.normal(0.0, np.sqrt(0.6 * g.var()), N_IDS)
    return pd.DataFrame({"id": ids, "y": y}), genotypes


PRIORS = {
    "BayesB": lambda: bg.BayesBPrior(pi=0.05),
    "BayesC": lambda: bg.BayesCPrior(pi=0.05),
    "BayesCpi": lambda: bg.BayesCPrior(pi=bg.Beta(1.0, 1.0)),
    "BayesR": lambda: bg.BayesRPrior(),
}


@pytest.mark.parametrize("prior", list(PRIORS), ids=list(PRIORS))
def test_spike_and_slab_priors_find_the_qtl(sparse_qtl, prior):
    data, genotypes = sparse_qtl
    model = bg.Model(data, "y", [bg.Fixed(), bg.Markers("id", genotypes, prior=PRIORS[prior]())])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of short chains are not the point here
        idata = model.sample(draws=250, burn=100, chains=2, seed=5, progress=False)

    pip = bg.gwas.markers(idata, model)["pip"].to_numpy()
    others = np.delete(pip, QTL)
    assert pip[list(QTL)].min() > 0.9, f"PIP at the QTL {pip[list(QTL)]}"
    assert pip[list(QTL)].mean() > others.mean() + 0.5, f"mean PIP elsewhere {others.mean():.3f}"
    assert set(np.argsort(-pip)[: len(QTL)]) == set(QTL), f"top markers {np.argsort(-pip)[:5]}"

    windows = bg.gwas.windows(idata, model, size=100_000, by="bp", threshold=0.05)
    assert len(windows) == 20 and (windows["n_markers"] == 10).all()
    qtl_windows = np.array(QTL) // 10  # 10 markers per window, in genome order
    assert windows["wppa"].to_numpy()[qtl_windows].min() > 0.9, windows.iloc[qtl_windows].to_string()
    assert np.delete(windows["wppa"].to_numpy(), qtl_windows).max() < 0.5, windows.to_string()

    if prior == "BayesCpi":
        lower, upper = np.quantile(idata.posterior["pi"].values, [0.025, 0.975])
        assert lower < len(QTL) / N_MARKERS < upper, f"95% interval of pi ({lower:.4f}, {upper:.4f})"
