"""Cross-validation: folds, masking, refits, scores and every error message."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg


def mean_model(n=23, n_missing=2, sigma2_e=1.0, **columns):
    """y ~ intercept with a fixed residual variance: mu of a held-out record is the intercept,
    whose posterior given the training records is N(mean(y_train), sigma2_e / n_train)."""
    rng = np.random.default_rng(0)
    y = rng.normal(3.0, 1.0, size=n)
    y[:n_missing] = np.nan
    data = pd.DataFrame({"y": y, **columns}, index=[f"r{k}" for k in range(n)])
    return bg.Model(data, "y", [bg.Fixed([])], sigma2_e=sigma2_e)


def run(model, folds=5, **kwargs):
    kwargs.setdefault("draws", 50)
    kwargs.setdefault("burn", 0)
    kwargs.setdefault("chains", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bg.cross_validate(model, folds, **kwargs)


def test_random_folds_partition_the_observed_records_in_balanced_folds():
    model = mean_model()
    before = model.data.copy()
    table = run(model, folds=5, seed=7)
    predictions = table.attrs["predictions"]
    assert table["fold"].tolist() == [1, 2, 3, 4, 5]
    assert sorted(table["n_test"]) == [4, 4, 4, 4, 5]
    assert sorted(predictions["record"]) == sorted(f"r{k}" for k in range(2, 23))  # observed only, once each
    assert predictions.groupby("fold").size().tolist() == table["n_test"].tolist()
    np.testing.assert_array_equal(predictions["y"], model.data.loc[predictions["record"], "y"])
    pd.testing.assert_frame_equal(model.data, before)  # the user's data is not modified
    assert table.attrs["seed"] == 7


def test_same_seed_same_table_and_repeats_draw_new_partitions():
    model = mean_model()
    first, second = run(model, folds=3, seed=11, repeats=2), run(model, folds=3, seed=11, repeats=2)
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(first.attrs["predictions"], second.attrs["predictions"])
    predictions = first.attrs["predictions"]
    assert first["repeat"].tolist() == [1, 1, 1, 2, 2, 2]
    one = predictions[predictions["repeat"] == 1].set_index("record")["fold"]
    two = predictions[predictions["repeat"] == 2].set_index("record")["fold"]
    assert not one.equals(two.loc[one.index])


def test_scores_are_computed_from_the_predictions():
    model = mean_model(n=40, n_missing=0)
    model.data["y"] = model.y  # unchanged values; the check below recomputes the scores by hand
    table = run(model, folds=4, seed=3)
    predictions = table.attrs["predictions"]
    for _, row in table.iterrows():
        fold = predictions[predictions["fold"] == row["fold"]]
        y, yhat = fold["y"].to_numpy(), fold["mean"].to_numpy()
        assert row["mse"] == pytest.approx(np.mean((y - yhat) ** 2), rel=1e-12)
        if np.ptp(yhat) > 0:
            assert row["accuracy"] == pytest.approx(np.corrcoef(yhat, y)[0, 1], rel=1e-9)
            assert row["slope"] == pytest.approx(np.polyfit(yhat, y, 1)[0], rel=1e-9)


def test_held_out_phenotypes_are_masked_in_the_refit():
    # The intercept's posterior uses only the training records: mean(y_train), sd 1/sqrt(n_train).
    model = mean_model(n=30, n_missing=0)
    table = run(model, folds=3, seed=5, draws=4000)
    predictions = table.attrs["predictions"]
    for _fold, test in predictions.groupby("fold"):
        train = model.data.drop(index=test["record"])["y"]
        sd = 1.0 / np.sqrt(len(train))
        mc_error = sd / np.sqrt(4000)
        np.testing.assert_allclose(test["mean"], train.mean(), atol=5 * mc_error)
        np.testing.assert_allclose(test["sd"], sd, rtol=0.05)
        np.testing.assert_allclose(test["upper"] - test["lower"], 2 * 1.959964 * sd, rtol=0.06)
        assert test["mean"].nunique() == 1  # every held-out record gets the same intercept draws


def test_fold_column_labels_the_folds_and_ids_key_the_predictions():
    sim = bg.simulate(
        n_founders=20, n_generations=1, n_offspring=40, n_markers=30, n_qtl=3, genetic_model="markers", seed=4
    )
    data = sim.phenotypes.copy()
    data["set"] = np.where(np.arange(len(data)) % 2 == 0, "even", "odd")
    model = bg.BayesA(data, "y", "id", sim.genotypes)
    table = run(model, folds="set", seed=2, draws=30, burn=20)
    assert table["fold"].tolist() == ["even", "odd"]
    assert table["n_test"].tolist() == [20, 20]
    predictions = table.attrs["predictions"]
    assert list(predictions.columns) == ["repeat", "fold", "record", "id", "y", "mean", "sd", "lower", "upper"]
    np.testing.assert_array_equal(predictions["id"], data.loc[predictions["record"], "id"])
    np.testing.assert_array_equal(predictions["fold"], data.loc[predictions["record"], "set"])
    assert (predictions["lower"] <= predictions["mean"]).all() and (predictions["mean"] <= predictions["upper"]).all()


@pytest.mark.parametrize(
    "folds, kwargs, error, message",
    [
        (1, {}, ValueError, "folds must be at least 2, got 1"),
        (2.5, {}, TypeError, "folds must be an integer >= 2 or the name of a column of fold labels, got 2.5"),
        (22, {}, ValueError, "folds=22 is more than the 21 records with a phenotype"),
        ("nope", {}, ValueError, "Fold column 'nope' not found in the model's data"),
        ("gap", {}, ValueError, r"Fold column 'gap' has missing values in rows 'r5'"),
        ("late", {}, ValueError, r"Folds of column 'late' with no record with an observed phenotype: 'z'"),
        ("one", {}, ValueError, r"Fold column 'one' has 1 distinct value\(s\)"),
        ("late", {"repeats": 2}, ValueError, "repeats=2 with the fold column 'late'"),
        (5, {"repeats": 0}, ValueError, "repeats must be an integer >= 1, got 0"),
        (5, {"prob": 1.0}, ValueError, r"prob must be in \(0, 1\), got 1.0"),
        (5, {"store": "full"}, TypeError, "cross_validate sets 'store' itself"),
        # issue 16 item 13: it named run_chains(), after the first fold was built
        (
            5,
            {"bogus": 1},
            TypeError,
            r"cross_validate\(\) got unexpected keyword argument\(s\) 'bogus'; besides its "
            r"own, it passes thin, cores, check_convergence to Model.sample",
        ),
    ],
)
def test_errors_before_any_refit(folds, kwargs, error, message):
    gap = ["a", "b"] * 11 + ["a"]
    gap[0] = gap[5] = None  # row r0 has no phenotype: no fold needed
    late = ["z", "z"] + ["a", "b"] * 10 + ["a"]  # fold 'z' holds only the two unphenotyped records
    model = mean_model(gap=gap, late=late, one=["a"] * 23)
    with pytest.raises(error, match=message):
        bg.cross_validate(model, folds, **kwargs)


def test_model_type_and_traits_checked():
    with pytest.raises(TypeError, match="model must be a bayesgen Model, got DataFrame"):
        bg.cross_validate(pd.DataFrame())
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.normal(size=10), "b": rng.normal(size=10)})
    model = bg.Model(data, ["a", "b"], [bg.Fixed([])])
    with pytest.raises(ValueError, match=r"a model of several: pass trait= one of \['a', 'b'\]"):
        bg.cross_validate(model)
    with pytest.raises(ValueError, match=r"trait='c' is not a trait of this model \(\['a', 'b'\]\)"):
        bg.cross_validate(model, trait="c")
    with pytest.raises(ValueError, match="mask must be 'trait' or 'record', got 'animal'"):
        bg.cross_validate(model, trait="a", mask="animal")


@pytest.fixture(scope="module")
def several_traits():
    """A Gaussian trait g, a binary trait d, a 3-category trait o and a right-censored trait c (its
    exact values, NaN where censored, and its lower bound), on a small pedigree."""
    sim = bg.simulate(n_founders=15, n_generations=2, n_offspring=45, n_markers=0, h2=0.5, seed=3, mean=0.0)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(4)
    z = data["y"].to_numpy()
    data["g"] = z + 0.5 * rng.standard_normal(len(data))
    data["d"] = (z + rng.standard_normal(len(data)) > 0.2).astype(float)
    data["o"] = np.digitize(z + rng.standard_normal(len(data)), [-0.5, 0.7]).astype(float)
    cut = np.quantile(z, 0.7)
    data["c"] = np.where(z > cut, np.nan, z)
    data["lower"] = np.where(z > cut, cut, np.nan)
    data.loc[data.index[:3], "g"] = np.nan
    return data, sim.pedigree_object()


def several_model(several_traits, traits, families):
    data, pedigree = several_traits
    bounds = ("lower", "upper") if "censored" in families else None
    if bounds:
        data = data.assign(upper=np.nan)
    return bg.Model(data, traits, [bg.Fixed(), bg.Animal("id", pedigree)], family=families, bounds=bounds)


@pytest.mark.parametrize(
    "traits, families, target, columns",
    [
        (["g", "c"], ["gaussian", "censored"], "g", ("accuracy", "slope", "mse")),
        (["g", "d"], ["gaussian", "threshold"], "d", ("auc", "log_score")),
        (["d", "o"], ["threshold", "threshold"], "o", ("auc", "log_score")),
        (["c", "d"], ["censored", "threshold"], "c", ("accuracy", "slope", "mse")),
    ],
)
@pytest.mark.parametrize("mask", ["trait", "record"])
def test_one_trait_of_several_is_scored(several_traits, traits, families, target, columns, mask):
    """The target trait's observed records are split into folds and scored by its own family's
    columns; the table says which trait; the same seed gives the same table."""
    model = several_model(several_traits, traits, families)
    k = traits.index(target)
    table = run(model, folds=2, seed=5, draws=20, burn=10, trait=target, mask=mask)
    assert list(table.columns) == ["repeat", "fold", "n_test", *columns]
    assert table.attrs["trait"] == target
    predictions = table.attrs["predictions"]
    has = ~np.isnan(model.y[:, k])
    assert table["n_test"].sum() == has.sum() and len(predictions) == has.sum()
    np.testing.assert_array_equal(predictions["y"], model.y[model.data.index.get_indexer(predictions["record"]), k])
    assert np.all(np.isfinite(table[list(columns[1:] if columns[0] == "auc" else columns)].to_numpy()))
    again = run(model, folds=2, seed=5, draws=20, burn=10, trait=target, mask=mask)
    pd.testing.assert_frame_equal(table, again)


def test_masked_data_hides_the_target_trait_or_the_whole_record(several_traits):
    """mask="trait": the held-out records lose the target's phenotype only (and, for the censored
    trait, its bounds); a threshold trait comes back as its ordered categories. mask="record":
    every trait. The user's data is not modified."""
    model = several_model(several_traits, ["g", "c", "d"], ["gaussian", "censored", "threshold"])
    data = model.data
    before = data.copy()
    held_out = np.zeros(len(data), dtype=bool)
    held_out[[5, 6, 40]] = True
    names, likelihood = ["g", "c", "d"], model.likelihood
    only_d = likelihood.masked_data(data, names, model.y, held_out, [2])
    assert only_d["d"].dtype == "category" and only_d["d"].cat.ordered
    assert only_d["d"].isna().to_numpy()[held_out].all() and not only_d["d"].isna().to_numpy()[~held_out].any()
    pd.testing.assert_frame_equal(only_d.drop(columns="d"), data.drop(columns="d"))
    only_c = likelihood.masked_data(data, names, model.y, held_out, [1])
    assert only_c.loc[held_out, ["c", "lower"]].isna().all().all()
    # the training records as they were: exact values, and the censored ones NaN with their bounds
    pd.testing.assert_frame_equal(only_c.loc[~held_out, ["c", "lower"]], data.loc[~held_out, ["c", "lower"]])
    assert data.loc[~held_out, "lower"].notna().sum() > 20
    pd.testing.assert_series_equal(only_c["d"], data["d"])
    everything = likelihood.masked_data(data, names, model.y, held_out, [0, 1, 2])
    assert everything.loc[held_out, ["g", "c", "lower"]].isna().all().all() and everything["d"].isna()[held_out].all()
    pd.testing.assert_frame_equal(data, before)


def test_a_threshold_trait_among_several_is_scored_with_its_own_cutpoints(several_traits):
    """Two ordinal traits: each is scored with its own slice of the model's cut-point draws."""
    data, pedigree = several_traits
    data = data.assign(o2=np.digitize(data["g"].fillna(0.0), [-1.0, 0.0, 1.0]).astype(float))
    model = bg.Model(data, ["o", "o2"], [bg.Animal("id", pedigree)], family=["threshold", "threshold"])
    likelihood = model.likelihood
    rng = np.random.default_rng(0)
    mu, cutpoints = rng.standard_normal((30, 8)), np.sort(rng.uniform(0.2, 2.0, (30, 3)), axis=1)
    observed = rng.integers(0, 3, 8)
    first = likelihood.cv_scores(mu, observed, 0, cutpoints=cutpoints)
    assert first == likelihood._thresholds[0].cv_scores(mu, observed, cutpoints=cutpoints[:, :1])
    second = likelihood.cv_scores(mu, observed, 1, cutpoints=cutpoints)
    assert second == likelihood._thresholds[1].cv_scores(mu, observed, cutpoints=cutpoints[:, 1:])
    assert first != second


@pytest.mark.statistical
def test_wheat_bayes_a_five_fold_accuracy(shared_data):
    """Wheat env1, BayesA under BGLR's priors: 5 random folds give accuracy about 0.5
    (BGLR's held-out fifth about 0.48, issue 8); prints the table."""
    x = pd.read_csv(shared_data / "wheat_X.csv.gz")
    y = pd.read_csv(shared_data / "wheat_Y.csv")
    genotypes = bg.Genotypes(x["line_id"], x.drop(columns="line_id"))
    model = bg.BayesA(y, "env1", "line_id", genotypes, priors="bglr")
    table = run(model, folds=5, seed=1, draws=1000, burn=500, chains=2)
    print(table.round(3).to_string())
    print(f"mean accuracy {table['accuracy'].mean():.3f}")
    assert table["n_test"].sum() == 599
    assert 0.4 < table["accuracy"].mean() < 0.6
    assert (table["accuracy"] > 0.25).all()


def test_a_censored_traits_training_records_stay_censored_in_the_refits(several_traits, monkeypatch):
    """Each refit reads the training records as the model did: censored ones censored in their
    windows (not exact at their bounds), the held-out ones missing."""
    from bayesgen.prediction import cross_validation

    data, pedigree = several_traits
    model = bg.Model(
        data.assign(upper=np.nan),
        "c",
        [bg.Fixed(), bg.Animal("id", pedigree)],
        family="censored",
        bounds=("lower", "upper"),
    )
    censored = data["lower"].notna().to_numpy()
    refits = []
    honest = cross_validation._test_draws

    def spy(refit, test, target, **kwargs):
        refits.append((refit.likelihood.n_censored, test))
        return honest(refit, test, target, **kwargs)

    monkeypatch.setattr(cross_validation, "_test_draws", spy)
    run(model, folds=2, seed=3, draws=10, burn=5)
    assert len(refits) == 2
    for n_censored, test in refits:
        held_out = np.isin(np.arange(len(data)), test)
        assert n_censored == int((censored & ~held_out).sum()) > 10
