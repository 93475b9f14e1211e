"""The rescaling (parameter-expansion) move leaves the posterior unchanged and mixes faster."""

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean, mcse_sd

import bayesgen as bg


@pytest.fixture(scope="module")
def grouped():
    rng = np.random.default_rng(17)
    groups = np.repeat(np.arange(8), 4)
    y = 3.0 + rng.normal(0, 0.7, 8)[groups] + rng.normal(0, 1.0, groups.size)
    return pd.DataFrame({"y": y, "g": groups})


def fit(data, expand, seed):
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(), bg.Random("g", prior=bg.ScaledInvChi2(2.0, 0.3), expand=expand)],
        sigma2_e=bg.ScaledInvChi2(2.0, 0.5),
        sampler="single-site",
    )
    return model.sample(draws=8000, burn=200, chains=4, seed=seed, progress=False)


@pytest.fixture(scope="module")
def fits(grouped):
    return fit(grouped, False, 1), fit(grouped, True, 2)


def test_expansion_move_keeps_the_posterior(fits):
    plain, expanded = fits
    checks = []
    for name, transform in (("sigma2_g", np.log), ("sigma2_e", np.log), ("g", lambda u: u[..., 0])):
        a = transform(plain.posterior[name].values)
        b = transform(expanded.posterior[name].values)
        for stat, mcse in ((np.mean, mcse_mean), (np.std, mcse_sd)):
            z = abs(stat(a) - stat(b)) / np.hypot(mcse(a), mcse(b))
            checks.append((name, stat.__name__, round(float(z), 2)))
    assert all(z < 4 for *_, z in checks), checks


def test_expansion_move_mixes_the_variance_faster(fits):
    import arviz as az

    plain, expanded = fits
    ess_plain = float(az.ess(np.log(plain.posterior["sigma2_g"])).to_array().item())
    ess_expanded = float(az.ess(np.log(expanded.posterior["sigma2_g"])).to_array().item())
    assert ess_expanded > ess_plain, (ess_plain, ess_expanded)
