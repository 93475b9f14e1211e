"""Several traits through the same step interface: a two-trait residual and iid term."""

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean, mcse_sd

import bayesgen as bg


@pytest.fixture(scope="module")
def two_traits():
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(12), 6)
    g = rng.multivariate_normal([0, 0], [[1.0, 0.5], [0.5, 2.0]], 12)
    e = rng.multivariate_normal([0, 0], [[1.0, -0.3], [-0.3, 1.5]], groups.size)
    y = np.array([10.0, 5.0]) + g[groups] + e
    data = pd.DataFrame({"y1": y[:, 0], "y2": y[:, 1], "grp": groups})
    data.loc[[3, 40], ["y1", "y2"]] = np.nan  # records missing every trait keep weight 0
    return data


def test_two_trait_model_records_covariances_correlations_and_traits(two_traits):
    model = bg.Model(two_traits, ["y1", "y2"], [bg.Fixed(), bg.Random("grp")])
    idata = model.sample(draws=30, burn=10, chains=2, seed=1, progress=False)
    post = idata.posterior
    assert post["sigma2_e"].dims == ("chain", "draw", "trait_row", "trait_col")
    assert list(post["sigma2_e"].coords["trait_row"].values) == ["y1", "y2"]
    assert post["grp"].dims == ("chain", "draw", "grp_level", "trait")
    assert post["beta"].dims == ("chain", "draw", "coef", "trait")
    cov = post["sigma2_grp"].values
    np.testing.assert_allclose(cov, np.swapaxes(cov, -1, -2))
    rho = post["rho_grp"].values[..., 0, 1]
    np.testing.assert_allclose(rho, cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1]))
    assert idata.log_likelihood["y"].sizes["record"] == len(two_traits) - 2


@pytest.mark.parametrize("partial", [False, True], ids=["complete", "partially-missing"])
def test_two_trait_fixed_covariances_reproduce_single_trait_fixed_effects(two_traits, partial):
    """With R and G fixed and diagonal, the traits are independent: per-trait posteriors agree.

    With partially observed records (``partial``: 25% of y2 and 10% of y1 missing, apart
    from the two records missing both), the bivariate model augments the missing traits;
    each single-trait model simply drops its records with the trait missing.
    """
    data = two_traits.copy()
    if partial:
        rng = np.random.default_rng(8)
        data.loc[rng.random(len(data)) < 0.25, "y2"] = np.nan
        data.loc[rng.random(len(data)) < 0.10, "y1"] = np.nan
        assert (data[["y1", "y2"]].notna().sum(axis=1) == 1).sum() >= 15
    r, g = np.diag([1.0, 1.5]), np.diag([1.0, 2.0])
    both = bg.Model(data, ["y1", "y2"], [bg.Fixed(), bg.Random("grp", prior=g)], sigma2_e=r)
    post = both.sample(draws=3000, burn=100, chains=2, seed=3, progress=False).posterior
    for k, name in enumerate(["y1", "y2"]):
        one = bg.Model(
            data, name, [bg.Fixed(), bg.Random("grp", prior=g[k, k])], sigma2_e=r[k, k], sampler="single-site"
        )
        single = one.sample(draws=3000, burn=100, chains=2, seed=4, progress=False).posterior
        pairs = [
            (post["beta"].values[..., 0, k], single["beta"].values[..., 0]),
            (post["grp"].values[..., 0, k], single["grp"].values[..., 0]),
            (post["grp"].values[..., 5, k], single["grp"].values[..., 5]),
        ]
        for a, b in pairs:
            for stat, mcse in ((np.mean, mcse_mean), (np.std, mcse_sd)):
                z = abs(stat(a) - stat(b)) / np.hypot(mcse(a), mcse(b))
                assert z < 4, (name, stat.__name__, z)


def test_a_scalar_prior_on_a_two_trait_covariance_is_an_error(two_traits):
    with pytest.raises(ValueError, match=r"prior for sigma2_grp is 1 x 1 but sigma2_grp is 2 x 2"):
        bg.Model(two_traits, ["y1", "y2"], [bg.Random("grp", prior=bg.ScaledInvChi2(4, 1.0))])
