import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.data.design import check_estimable, factor_levels, fixed_design

FRAME = pd.DataFrame(
    {
        "grp": ["a", "a", "m", "m", "m", "z", "z"],
        "sex": ["F", "M", "F", "M", "M", "F", "M"],
        "weight": [1.0, 2.0, 0.5, 1.5, 3.0, 2.5, 1.0],
    }
)


def observed_design(observed, columns=("grp",), intercept=True):
    x, names = fixed_design(FRAME, list(columns), intercept=intercept)
    return x[observed], names, factor_levels(FRAME, list(columns))


def test_treatment_coding_drops_the_first_sorted_level():
    x, names = fixed_design(FRAME, ["grp", "sex", "weight"])
    assert names == ["Intercept", "grp[m]", "grp[z]", "sex[M]", "weight"]
    np.testing.assert_array_equal(x[:, 1], [0, 0, 1, 1, 1, 0, 0])
    assert factor_levels(FRAME, ["grp", "sex", "weight"]) == {"grp": ["a", "m", "z"], "sex": ["F", "M"]}


def test_estimable_design_passes():
    observed = np.ones(len(FRAME), dtype=bool)
    check_estimable(*observed_design(observed, ("grp", "sex", "weight")))


@pytest.mark.parametrize("empty", ["a", "m", "z"])
def test_error_names_the_level_without_observed_records_wherever_it_sorts(empty):
    # With an intercept, the first level ('a') has no column of its own: when none of its
    # records is observed, the intercept equals the sum of the other dummies over the observed
    # records, so the design is rank-deficient although no column is zero.
    observed = FRAME["grp"].to_numpy() != empty
    with pytest.raises(ValueError, match=rf"level '{empty}' of column 'grp' has no record with an observed phenotype"):
        check_estimable(*observed_design(observed))


def test_error_names_an_empty_level_of_a_cell_means_factor():
    observed = FRAME["grp"].to_numpy() != "a"
    with pytest.raises(ValueError, match=r"level 'a' of column 'grp' has no record with an observed phenotype"):
        check_estimable(*observed_design(observed, intercept=False))


def test_error_names_every_empty_level():
    observed = np.isin(FRAME["grp"].to_numpy(), ["m"]) & (FRAME["sex"].to_numpy() == "M")
    with pytest.raises(
        ValueError,
        match=r"level 'a' of column 'grp' .*; level 'z' of column 'grp' .*; "
        r"level 'F' of column 'sex' has no record",
    ):
        check_estimable(*observed_design(observed, ("grp", "sex")))


def test_error_names_columns_that_are_zero_in_every_observed_record():
    x = np.column_stack([np.ones(4), [0.0, 0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"Fixed-effect column\(s\) 'x1' are zero in every record with an observed"):
        check_estimable(x[:2], ["Intercept", "x1"])


def test_error_names_confounded_columns():
    frame = FRAME.assign(sex_copy=FRAME["sex"])
    x, names = fixed_design(frame, ["sex", "sex_copy"])
    with pytest.raises(ValueError, match=r"rank-deficient \(confounded coefficients\): 'sex_copy\[M\]' can be written"):
        check_estimable(x, names, factor_levels(frame, ["sex", "sex_copy"]))
    covariates = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0) + 1])
    with pytest.raises(ValueError, match=r"'twice_plus_one' can be written"):
        check_estimable(covariates, ["Intercept", "x", "twice_plus_one"])


@pytest.fixture(scope="module")
def records():
    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=30, n_markers=0, seed=3)
    return sim.phenotypes, sim.pedigree_object()


@pytest.mark.parametrize("empty", ["a", "z"])
def test_model_names_the_empty_level(records, empty):
    data, ped = records
    data = data.assign(grp=np.where(np.arange(len(data)) % 3 == 0, empty, "m"))
    data.loc[data["grp"] == empty, "y"] = np.nan
    with pytest.raises(ValueError, match=rf"level '{empty}' of column 'grp' has no record with an observed phenotype"):
        bg.AnimalModel(data, "y", "id", ped, fixed=["grp"])


def test_integer_coded_factor_entering_as_covariate_warns_at_the_users_line():
    """Issue 16 item 14: gryphon's sex (1/2) in Fixed(["sex"]) was fitted as a slope, silently."""
    import warnings

    rng = np.random.default_rng(14)
    data = pd.DataFrame({"sex": rng.integers(1, 3, 40), "age": rng.integers(0, 40, 40), "y": rng.normal(size=40)})
    data.loc[:21, "age"] = np.arange(22)  # 22 distinct ages, more than CODED_FACTOR_MAX_LEVELS
    with pytest.warns(UserWarning, match=r"Fixed-effect column 'sex' holds integers with 2 distinct values \(1, 2\) "
                                         r"and enters as a covariate: one slope on its codes.*"
                                         r"data\['sex'\]\.astype\(str\)") as record:  # fmt: skip
        model = bg.Model(data, "y", [bg.Fixed(["sex", "age"])])
    assert [str(w.message).split(" holds")[0] for w in record] == ["Fixed-effect column 'sex'"]  # age: many values
    assert record[0].filename == __file__
    assert model.terms[0].coef_names == ["Intercept", "sex", "age"]
    with warnings.catch_warnings():  # as a factor, or as a float covariate: no warning
        warnings.simplefilter("error")
        factor = bg.Model(data.assign(sex=data["sex"].astype(str)), "y", [bg.Fixed(["sex"])])
        bg.Model(data.assign(sex=data["sex"].astype(float)), "y", [bg.Fixed(["sex"])])
    assert factor.terms[0].coef_names == ["Intercept", "sex[2]"]
