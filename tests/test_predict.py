import warnings

import numpy as np
import pytest

import bayesgen as bg


@pytest.fixture(scope="module")
def fitted():
    sim = bg.simulate(
        n_founders=20, n_generations=2, n_offspring=60, n_markers=100, n_qtl=10, genetic_model="markers", seed=12
    )
    train = sim.phenotypes.iloc[:80]
    model = bg.BayesA(train, "y", "id", sim.genotypes, fixed=["sex"])
    idata = model.sample(draws=60, burn=20, chains=2, seed=1, progress=False)
    return sim, model, idata


def test_genomic_values_of_new_individuals_are_w_alpha_per_draw(fitted):
    sim, model, idata = fitted
    new_ids = sim.phenotypes["id"].iloc[80:].tolist()
    rows = sim.genotypes.index(new_ids)
    new = bg.Genotypes(new_ids, sim.genotypes.codes[:, rows].T.astype(float), markers=sim.genotypes.markers)
    pred = model.predict(idata, genotypes=new)
    assert pred["mean"].dims == ("individual",) and list(pred["individual"].values) == new_ids
    # Centred with the training allele frequencies, so the mean is x_new (centred) times mean(alpha).
    x = sim.genotypes.codes[:, rows].T - sim.genotypes.centre[None, :]
    np.testing.assert_allclose(pred["mean"], x @ idata.posterior["alpha"].mean(("chain", "draw")).values, atol=1e-10)
    assert (pred["lower"] < pred["mean"]).all() and (pred["mean"] < pred["upper"]).all()


#: Every marker prior through its model shortcut (small, fixed settings so that each fit is quick).
SHORTCUTS = {
    "BayesA": (bg.BayesA, {}),
    "BRR": (bg.BRR, {}),
    "BayesB": (bg.BayesB, {"pi": 0.2}),
    "BayesC": (bg.BayesC, {"pi": 0.2}),
    "BayesCPi": (bg.BayesCPi, {}),
    "BayesLasso": (bg.BayesLasso, {}),
    "BayesR": (bg.BayesR, {}),
}


@pytest.mark.parametrize("shortcut", list(SHORTCUTS), ids=list(SHORTCUTS))
def test_every_marker_prior_predicts_w_new_alpha_per_draw(fitted, shortcut):
    sim, _, _ = fitted
    make, options = SHORTCUTS[shortcut]
    model = make(sim.phenotypes.iloc[:80], "y", "id", sim.genotypes, **options)
    idata = model.sample(draws=15, burn=5, chains=2, seed=4, progress=False)
    new_ids = sim.phenotypes["id"].iloc[80:].tolist()
    rows = sim.genotypes.index(new_ids)
    new = bg.Genotypes(
        new_ids, sim.genotypes.codes[:, rows].T.astype(float), markers=sim.genotypes.markers, drop_monomorphic=False
    )
    pred = model.predict(idata, genotypes=new, prob=0.9)
    # By hand: every draw of alpha (all chains) times the new genotypes centred at the training frequencies.
    x = sim.genotypes.codes[:, rows].T - sim.genotypes.centre[None, :]
    draws = idata.posterior["alpha"].values.reshape(-1, x.shape[1]) @ x.T
    assert list(pred["individual"].values) == new_ids
    np.testing.assert_allclose(pred["mean"], draws.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pred["sd"], draws.std(axis=0, ddof=1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pred["lower"], np.quantile(draws, 0.05, axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pred["upper"], np.quantile(draws, 0.95, axis=0), rtol=1e-12, atol=1e-12)
    assert (pred["sd"] > 0).all()


def test_gblup_cannot_predict_from_genotypes_and_says_what_to_do(fitted):
    sim, _, _ = fitted
    model = bg.GBLUP(sim.phenotypes.iloc[:80], "y", "id", sim.genotypes)
    idata = model.sample(draws=3, burn=0, chains=1, seed=1, progress=False)
    with pytest.raises(
        LookupError,
        match=r"needs marker effects, but this model's genetic term is the Kernel 'g', "
        r".*idata.posterior\['g'\]",
    ):
        model.predict(idata, genotypes=sim.genotypes)
    # The advice holds: individuals of the genotypes without a record have draws of g.
    new_ids = sim.phenotypes["id"].iloc[80:].tolist()
    assert idata.posterior["g"].sel(g_level=new_ids).shape == (1, 3, len(new_ids))


def test_new_genotypes_must_have_every_training_marker(fitted):
    sim, model, idata = fitted
    few = bg.Genotypes(["x", "y"], np.array([[0, 1], [2, 0]]), markers=sim.genotypes.markers[:2])
    with pytest.raises(ValueError, match="Markers of the fitted model absent from the new genotypes"):
        model.predict(idata, genotypes=few)


def test_missing_new_genotypes_are_imputed_with_the_training_mean(fitted):
    sim, model, idata = fitted
    markers = sim.genotypes.markers
    codes = np.full((1, len(markers)), np.nan)
    codes[0, 0] = 2  # one observed genotype, every other marker missing
    new = bg.Genotypes(["x"], codes, markers=markers, drop_monomorphic=False)
    pred = model.predict(idata, genotypes=new)
    alpha0 = idata.posterior["alpha"].sel(marker=markers[0]).values.ravel()
    draws = (2 - sim.genotypes.centre[0]) * alpha0  # missing markers contribute 0 (the mean)
    assert pred["mean"].sel(individual="x").item() == pytest.approx(draws.mean(), abs=1e-12)
    assert pred["sd"].sel(individual="x").item() == pytest.approx(draws.std(ddof=1), rel=1e-9)


def test_breeding_values_of_pedigree_animals():
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=40, n_markers=0, seed=3)
    ped = sim.pedigree_object()
    model = bg.AnimalModel(sim.phenotypes, "y", "id", ped)
    idata = model.sample(draws=50, burn=10, chains=2, seed=2, progress=False)
    pred = model.predict(idata, ids=["A00001", "A00030"])
    np.testing.assert_allclose(
        pred["mean"], idata.posterior["u"].sel(animal=["A00001", "A00030"]).mean(("chain", "draw"))
    )
    other = bg.Genotypes(["A00001", "A00002"], np.array([[0, 1], [2, 0]]))
    with pytest.raises(LookupError, match="no Markers term"):
        model.predict(idata, genotypes=other)


def test_summary_storage_cannot_give_intervals(fitted):
    sim, model, _ = fitted
    idata = model.sample(draws=5, burn=0, chains=1, seed=1, progress=False, store="summary")
    with pytest.raises(ValueError, match="store='full'"):
        model.predict(idata, genotypes=sim.genotypes)


# ----------------------------------------------------------------- InferenceData of another model
def test_marker_draws_of_another_model_are_named_as_such(fitted):
    sim, model, _ = fitted
    other = bg.simulate(
        n_founders=10, n_generations=1, n_offspring=30, n_markers=40, n_qtl=5, genetic_model="markers", seed=4
    )
    other_model = bg.BayesA(other.phenotypes, "y", "id", other.genotypes)
    other_idata = other_model.sample(draws=3, burn=0, chains=1, seed=1, progress=False)
    with pytest.raises(
        ValueError,
        match=r"markers of the InferenceData \(coordinate 'marker' of 'alpha'\) do not "
        r"match the model's: 40 in the InferenceData, 99 in the model; "
        r"in the model only: 'snp00041', 'snp00042'",
    ):
        model.predict(other_idata, genotypes=sim.genotypes)


def test_marker_draws_in_another_order_are_rejected(fitted):
    sim, model, idata = fitted
    reordered = idata.copy()
    reordered.posterior = reordered.posterior.isel(marker=np.arange(idata.posterior.sizes["marker"])[::-1])
    with pytest.raises(ValueError, match="same markers in another order"):
        model.predict(reordered, genotypes=sim.genotypes)


def test_breeding_values_of_another_pedigree_are_named_as_such():
    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=20, n_markers=0, seed=3)
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object())
    other = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=0, seed=4)
    other_idata = bg.AnimalModel(other.phenotypes, "y", "id", other.pedigree_object()).sample(
        draws=3, burn=0, chains=1, seed=1, progress=False
    )
    message = (
        r"animals of the InferenceData \(coordinate 'animal' of 'u'\) do not match the model's "
        r"pedigree: 50 in the InferenceData, 30 in the model; in the InferenceData only: 'A00043'"
    )
    with pytest.raises(ValueError, match=message):
        model.predict(other_idata, ids=["A00001"])
    with pytest.raises(ValueError, match=message):
        model.predict(other_idata)


def test_draws_of_a_model_without_the_term_are_named_as_such(fitted):
    sim, model, _ = fitted
    animal = bg.simulate(n_founders=10, n_generations=1, n_offspring=20, n_markers=0, seed=3)
    animal_idata = bg.AnimalModel(animal.phenotypes, "y", "id", animal.pedigree_object()).sample(
        draws=3, burn=0, chains=1, seed=1, progress=False
    )
    with pytest.raises(ValueError, match="no draws of 'alpha'.*not sampled from this model"):
        model.predict(animal_idata, genotypes=sim.genotypes)


# ----------------------------------------------------------------- a single draw
def test_a_single_draw_gives_nan_sd_without_warnings(fitted):
    sim, model, _ = fitted
    idata = model.sample(draws=1, burn=0, chains=1, seed=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pred = model.predict(idata, genotypes=sim.genotypes)
    alpha = idata.posterior["alpha"].values[0, 0]
    x = sim.genotypes.codes.T - sim.genotypes.centre[None, :]
    np.testing.assert_allclose(pred["mean"], x @ alpha, atol=1e-10)
    np.testing.assert_array_equal(pred["lower"], pred["mean"])
    np.testing.assert_array_equal(pred["upper"], pred["mean"])
    assert np.isnan(pred["sd"]).all()


@pytest.mark.parametrize("shortcut, options", [(bg.BRR, {}), (bg.BayesC, {"pi": 0.3})], ids=["BRR", "BayesC"])
def test_several_traits_predict_w_new_alpha_per_draw_and_trait(fitted, shortcut, options):
    sim, _, _ = fitted
    data = sim.phenotypes.iloc[:80].copy()
    data["y2"] = 0.5 * data["y"] + np.random.default_rng(3).normal(size=len(data))
    model = shortcut(data, ["y", "y2"], "id", sim.genotypes, **options)
    idata = model.sample(draws=15, burn=5, chains=2, seed=4, progress=False)
    new_ids = sim.phenotypes["id"].iloc[80:].tolist()
    rows = sim.genotypes.index(new_ids)
    new = bg.Genotypes(
        new_ids, sim.genotypes.codes[:, rows].T.astype(float), markers=sim.genotypes.markers, drop_monomorphic=False
    )
    pred = model.predict(idata, genotypes=new, prob=0.9)
    assert pred["mean"].dims == ("individual", "trait")
    assert list(pred["individual"].values) == new_ids and list(pred["trait"].values) == ["y", "y2"]
    # By hand, per trait k: every draw of alpha[:, k] (all chains) times the centred new genotypes.
    x = sim.genotypes.codes[:, rows].T - sim.genotypes.centre[None, :]
    alpha = idata.posterior["alpha"].transpose("chain", "draw", "marker", "trait").values
    for k, trait in enumerate(["y", "y2"]):
        draws = alpha[..., k].reshape(-1, x.shape[1]) @ x.T
        got = pred.sel(trait=trait)
        np.testing.assert_allclose(got["mean"], draws.mean(axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got["sd"], draws.std(axis=0, ddof=1), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got["lower"], np.quantile(draws, 0.05, axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got["upper"], np.quantile(draws, 0.95, axis=0), rtol=1e-10, atol=1e-12)


def test_error_marker_model_predicted_without_genotypes_names_the_argument(fitted):
    """Issue 16 item 8 (marker half): it said "The model has no Animal term."."""
    _, model, idata = fitted
    with pytest.raises(ValueError, match=r"This model's genetic values come from the marker term 'markers': predict "
                                         r"needs the genotypes of the individuals to predict, "
                                         r"model\.predict\(idata, genotypes=\.\.\.\)"):  # fmt: skip
        model.predict(idata)
