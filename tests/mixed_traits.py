"""Shared data, priors and settings of the Geweke tests of traits mixing families
(``test_mixed_geweke*.py``: split in three files, each a Geweke group of its own)."""

import numpy as np
import pytest
from test_geweke import SPARSE_CHOLESKY

import bayesgen as bg
from bayesgen.likelihoods.mixed import Mixed

N_MARGINAL = 6000
N_SUCCESSIVE = 20000
#: A 4-category trait's two cut-points mix slowly: independent chains and their between-chain error.
SLOW_CUTPOINTS = dict(n_chains=16, burn=200)
SAMPLERS = [
    "single-site",
    pytest.param("joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
    pytest.param("collapsed", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
]


def population():
    """A Gaussian trait g and a binary one b, each missing on three records, with their pedigree."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(3)
    data["g"] = data["y"]
    data["b"] = (data["y"] + rng.standard_normal(len(data)) > data["y"].median()).astype(float)
    data.loc[data.index[:3], "g"] = np.nan
    data.loc[data.index[3:6], "b"] = np.nan
    return data, sim.pedigree_object()


def three_traits(population):
    """``population`` with a second binary trait b2."""
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(5)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["b2"] = (rng.standard_normal(len(data)) - 0.5 * z > 0.2).astype(float)
    data.loc[data.index[6:9], "b2"] = np.nan
    return data, pedigree


def four_traits(three_traits):
    """``three_traits`` with a third binary trait b3."""
    data, pedigree = three_traits
    data = data.copy()
    rng = np.random.default_rng(17)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["b3"] = (0.7 * z + rng.standard_normal(len(data)) > 0.4).astype(float)
    data.loc[data.index[12:15], "b3"] = np.nan
    return data, pedigree


def with_ordinal(population):
    """``population`` with a 3-category ordinal trait o."""
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(8)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["o"] = np.digitize(0.6 * z + 0.8 * rng.standard_normal(len(data)), [-0.4, 0.7]).astype(float)
    data.loc[data.index[3:6], "o"] = np.nan
    return data, pedigree


def thresholds_alone(three_traits, with_ordinal):
    """Two binary traits and two ordinal ones (3 and 4 categories), each with records missing it."""
    data, pedigree = three_traits
    data = data.assign(o=with_ordinal[0]["o"])
    rng = np.random.default_rng(13)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["o2"] = np.digitize(0.5 * z + rng.standard_normal(len(data)), [-0.6, 0.1, 0.8]).astype(float)
    data.loc[data.index[9:12], "o2"] = np.nan
    return data, pedigree


def three_trait_prior():
    """IW(13, S) on 3 x 3: each variance is Scale-inv-chi2(11, .), so its fourth moment is finite
    (the z of a squared element needs a finite variance of that square; under the former IW(8)
    the diagonal's shape was 3 and the squares' variance infinite). The scale keeps IW(8)'s prior
    mean, S / (nu - 4)."""
    return bg.InverseWishart(13.0, 9.0 / 4.0 * np.array([[4.0, 1.0, -0.8], [1.0, 3.0, 0.0], [-0.8, 0.0, 3.0]]))


def four_trait_prior():
    """IW(14, S) on 4 x 4: each variance Scale-inv-chi2(11, .), fourth moments finite (as
    ``three_trait_prior``)."""
    return bg.InverseWishart(14.0, 9.0 / 5.0 * (3.0 * np.eye(4) + 0.5))


class IgnoresTheOtherLiability(Mixed):
    """Planted error: each binary trait's liability drawn given the Gaussian trait only, as if the
    other binary trait's liability carried nothing (given the Gaussian trait, the two liabilities'
    residuals are correlated)."""

    def _conditioning_traits(self, trait):
        return self._free
