"""predict() on every animal-type term (issue 17 item 6): direct-maternal and random-regression
animal models, checked exactly against the posterior draws they summarise."""

import warnings

import numpy as np
import pytest

import bayesgen as bg


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=0, seed=11)
    data = sim.phenotypes.merge(sim.pedigree[["id", "dam"]], on="id")
    data["x"] = np.random.default_rng(1).uniform(0.0, 2.0, len(data))
    return data, sim.pedigree_object()


def _fit(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.sample(draws=40, burn=10, chains=2, seed=3, progress=False, check_convergence=False)


def _draws(values):
    """chain x draw x ... -> draws x ..."""
    return values.reshape(-1, *values.shape[2:])


def test_direct_maternal_predict_gives_direct_and_maternal_breeding_values(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam")])
    idata = _fit(model)
    prediction = model.predict(idata)
    assert list(prediction["effect"].values) == ["direct", "maternal"]
    assert prediction.sizes["animal"] == len(pedigree.ids)
    u = _draws(idata.posterior["u"].transpose("chain", "draw", "animal", "effect").values)
    np.testing.assert_allclose(prediction["mean"].values, u.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(prediction["sd"].values, u.std(axis=0, ddof=1), rtol=1e-12)
    lower, upper = np.quantile(u, [0.025, 0.975], axis=0)
    np.testing.assert_allclose(prediction["lower"].values, lower, rtol=1e-12)
    np.testing.assert_allclose(prediction["upper"].values, upper, rtol=1e-12)
    # ids= selects animals, in the order asked
    some = list(prediction["animal"].values[[5, 2]])
    chosen = model.predict(idata, ids=some)
    np.testing.assert_array_equal(chosen["mean"].values, prediction["mean"].sel(animal=some).values)


def test_random_regression_animal_predict_gives_coefficients_or_the_curve(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, slopes=["x"])])
    idata = _fit(model)
    u = _draws(idata.posterior["animal"].transpose("chain", "draw", "animal_level", "animal_coef").values)
    coefficients = model.predict(idata)
    np.testing.assert_allclose(coefficients["mean"].values, u.mean(axis=0), rtol=0, atol=1e-12)
    points = [0.0, 0.5, 2.0]
    curve = model.predict(idata, at={"x": points})
    assert list(curve["at"].values) == ["x=0", "x=0.5", "x=2"]
    expected = u[:, :, 0:1] + u[:, :, 1:2] * np.array(points)  # intercept + slope * x, per draw and animal
    np.testing.assert_allclose(curve["mean"].values, expected.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve["sd"].values, expected.std(axis=0, ddof=1), rtol=1e-10)


def test_random_regression_predict_at_an_unknown_covariate_names_it(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, slopes=["x"])])
    idata = _fit(model)
    with pytest.raises((KeyError, ValueError), match="days"):
        model.predict(idata, at={"days": [1.0]})
