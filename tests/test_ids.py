"""Id labels: integers when every id is an integer, otherwise text; lookups accept either."""

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen._validation import id_labels
from bayesgen.prediction.genetic_values import _summarise


@pytest.mark.parametrize(
    "ids, expected, kind",
    [
        (["1029", "-3", "0"], [1029, -3, 0], "i"),
        (["1029", "007"], ["1029", "007"], "U"),  # "007" is not the canonical text of 7
        (["12", "x"], ["12", "x"], "U"),
        (["1_000", "+5"], ["1_000", "+5"], "U"),
        (["1.5", "2"], ["1.5", "2"], "U"),
        (["99999999999999999999"], ["99999999999999999999"], "U"),  # beyond int64
    ],
)
def test_id_labels(ids, expected, kind):
    labels = id_labels(ids)
    assert labels.dtype.kind == kind and list(labels) == expected
    if kind == "i":
        assert labels.dtype == np.int64


def test_summary_coordinates_keep_integer_ids():
    draws = np.arange(12.0).reshape(4, 3)
    summary = _summarise(draws, ["1029", "1030", "7"], "animal", 0.9)
    assert summary["animal"].dtype == np.int64
    assert summary["mean"].sel(animal=1029).item() == pytest.approx(4.5)
    text = _summarise(draws, np.array(["a", "1", "2"]), "animal", 0.9)
    assert list(text["animal"].values) == ["a", "1", "2"]
    from_ints = _summarise(draws, np.array([5, 6, 7]), "individual", 0.9)
    assert list(from_ints["individual"].values) == [5, 6, 7]


def test_predict_accepts_int_or_str_ids_and_returns_integer_labels():
    ped = bg.Pedigree([1, 2, 3, 4, 1029, 1030], [0, 0, 1, 1, 3, 3], [0, 0, 2, 2, 4, 2])
    data = pd.DataFrame({"id": [1, 2, 3, 4, 1029, 1030, 1029], "y": [1.0, 2.0, 1.5, 0.5, 2.5, 1.0, 2.0]})
    model = bg.AnimalModel(data, "y", "id", ped)
    idata = model.sample(draws=5, burn=0, chains=1, seed=1, progress=False)
    by_int = model.predict(idata, ids=[1029, 3])
    by_text = model.predict(idata, ids=["1029", "3"])
    assert by_int["animal"].dtype == np.int64 and list(by_int["animal"].values) == [1029, 3]
    np.testing.assert_array_equal(by_int["mean"].values, by_text["mean"].values)
    assert by_int["mean"].sel(animal=1029).item() == by_text["mean"].values[0]
    everyone = model.predict(idata)
    assert everyone["mean"].sel(animal=1030).item() == pytest.approx(
        float(idata.posterior["u"].isel(animal=ped.index([1030])[0]).mean())
    )


def test_posterior_coordinates_keep_integer_ids_for_selection():
    """Integer animal ids give integer coordinates: idata.posterior["u"].sel(animal=1029) works."""
    import pandas as pd

    ped = bg.Pedigree([1029, 7, 8, 30], [7, None, None, 7], [8, None, None, 8])
    data = pd.DataFrame({"animal": [1029, 30, 7, 8], "y": [1.0, 2.5, 0.3, 1.9]})
    idata = bg.Model(data, "y", [bg.Fixed(), bg.Animal("animal", ped)]).sample(
        draws=4, burn=0, chains=1, seed=1, progress=False
    )
    assert idata.posterior["u"].sel(animal=1029).shape == (1, 4)
    assert idata.log_likelihood["y"].sizes["record"] == 4


def test_boolean_ids_matched_as_text_warn():
    """Issue 16, legal but worth a warning: True matches the genotype (or pedigree) id 1."""
    import warnings

    genotypes = bg.Genotypes([0, 1, 2, 3], np.array([[0, 1], [1, 2], [2, 0], [1, 1]]), markers=["m1", "m2"])
    data = pd.DataFrame({"id": [True, False, True, False], "y": [1.0, 2.0, 0.5, 1.5]})
    with pytest.warns(
        UserWarning,
        match=r"Column 'id' holds 4 boolean id\(s\) \(True/False\): they are read as "
        r"the ids '1' and '0', so True matches an animal or genotype id 1",
    ) as record:
        bg.Model(data, "y", [bg.Markers("id", genotypes)])
    assert record[0].filename == __file__
    pedigree = bg.Pedigree(["1", "5"], [None, None], [None, None])
    with pytest.warns(UserWarning, match=r"Column 'id' holds 4 boolean id\(s\)"):
        bg.Model(data.assign(id=[True, True, True, True]), "y", [bg.Animal("id", pedigree)])
    with warnings.catch_warnings():  # an iid term's levels are not matched to other ids: silent
        warnings.simplefilter("error")
        bg.Model(data.assign(group=data["id"]), "y", [bg.Random("group")])
