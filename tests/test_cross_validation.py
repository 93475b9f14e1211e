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
    with pytest.raises(ValueError, match=r"single-trait models; this model has traits \['a', 'b'\]"):
        bg.cross_validate(model)


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
