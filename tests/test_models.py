"""Model assembly: input validation with named offenders, missing phenotypes, repeated records."""

import threading
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.sampler import Gibbs
from bayesgen.sampler.driver import run_chain
from bayesgen.sampler.storage import ChainStorage


@pytest.fixture(scope="module")
def small():
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=40, n_markers=60, seed=4, missing=0.1)
    return sim, sim.pedigree_object()


def test_records_absent_from_the_pedigree_are_named(small):
    sim, ped = small
    data = sim.phenotypes.copy()
    data.loc[data.index[3], "id"] = "ghost"
    with pytest.raises(ValueError, match=r"Animals in column 'id' not found in the pedigree: 'ghost'"):
        bg.AnimalModel(data, "y", "id", ped)


def test_records_without_genotypes_are_named(small):
    sim, _ = small
    data = sim.phenotypes.copy()
    data.loc[data.index[0], "id"] = "nobody"
    with pytest.raises(ValueError, match=r"Ids without genotypes: 'nobody'"):
        bg.BayesA(data, "y", "id", sim.genotypes)


def test_non_finite_phenotypes_are_named_but_nan_is_missing(small):
    sim, ped = small
    data = sim.phenotypes.copy()
    data.loc[data.index[[1, 5]], "y"] = [np.inf, -np.inf]
    with pytest.raises(ValueError, match=r"non-finite values in rows 1, 5"):
        bg.AnimalModel(data, "y", "id", ped)
    data = sim.phenotypes.assign(y=sim.phenotypes["y"].astype(object))
    data.loc[data.index[2], "y"] = "tall"
    with pytest.raises(ValueError, match=r"non-numeric values in rows 2"):
        bg.AnimalModel(data, "y", "id", ped)


def test_empty_data_missing_columns_and_all_missing(small):
    sim, ped = small
    with pytest.raises(ValueError, match="data is empty"):
        bg.AnimalModel(sim.phenotypes.iloc[:0], "y", "id", ped)
    with pytest.raises(ValueError, match=r"Column\(s\) 'weight' not found in data"):
        bg.AnimalModel(sim.phenotypes, "weight", "id", ped)
    with pytest.raises(ValueError, match=r"'herd' not found in data"):
        bg.AnimalModel(sim.phenotypes, "y", "id", ped, random=["herd"])
    data = sim.phenotypes.assign(y=np.nan)
    with pytest.raises(ValueError, match="fewer than 2 observed values"):
        bg.AnimalModel(data, "y", "id", ped)


@pytest.mark.parametrize(
    "prior,match",
    [
        (-1.0, "must be finite and > 0"),
        ("big", "must be a ScaledInvChi2"),
        (np.nan, "must be finite and > 0"),
    ],
)
def test_invalid_variance_priors(small, prior, match):
    sim, ped = small
    with pytest.raises((ValueError, TypeError), match=match):
        bg.AnimalModel(sim.phenotypes, "y", "id", ped, prior=prior)


def test_invalid_prior_parameters():
    with pytest.raises(ValueError, match="ScaledInvChi2 df must be finite and >= 0"):
        bg.ScaledInvChi2(-2, 1.0)
    with pytest.raises(ValueError, match="ScaledInvChi2 scale must be finite"):
        bg.ScaledInvChi2(4, np.inf)
    with pytest.raises(ValueError, match="Gamma rate must be finite and > 0"):
        bg.Gamma(1.0, 0.0)
    with pytest.raises(ValueError, match="BayesA df must be finite and > 0"):
        bg.BayesAPrior(df=0)


def test_rank_deficient_fixed_effects_are_named(small):
    sim, ped = small
    data = sim.phenotypes.assign(sex_copy=sim.phenotypes["sex"])
    with pytest.raises(ValueError, match=r"rank-deficient.*sex_copy\[M\]|rank-deficient.*sex\[M\]"):
        bg.AnimalModel(data, "y", "id", ped, fixed=["sex", "sex_copy"])


def test_user_data_is_not_modified(small):
    sim, ped = small
    data = sim.phenotypes.copy()
    before = data.copy()
    bg.AnimalModel(data, "y", "id", ped, fixed=["sex"]).sample(draws=5, burn=0, chains=1, seed=1, progress=False)
    pd.testing.assert_frame_equal(data, before)


def test_missing_phenotypes_are_kept_and_predicted(small):
    sim, ped = small
    model = bg.AnimalModel(sim.phenotypes, "y", "id", ped, fixed=["sex"])
    idata = model.sample(draws=20, burn=5, chains=2, seed=1, progress=False)
    missing = sim.phenotypes.index[sim.phenotypes["y"].isna()]
    assert len(missing) > 0
    assert list(idata.predictions["y"].coords["missing_record"].values) == list(missing)
    assert idata.observed_data["y"].size == sim.phenotypes["y"].notna().sum()
    # mu of a missing record is its linear predictor: intercept + sex effect + u of its animal.
    post = idata.posterior
    rec = missing[0]
    row = sim.phenotypes.loc[rec]
    mu = post["beta"].sel(coef="Intercept") + (row["sex"] == "M") * post["beta"].sel(coef="sex[M]")
    mu = mu + post["u"].sel(animal=row["id"])
    np.testing.assert_allclose(idata.predictions["mu"].sel(missing_record=rec).values, mu.values, atol=1e-9)


def test_repeated_records_per_animal(small):
    sim, ped = small
    twice = pd.concat([sim.phenotypes, sim.phenotypes], ignore_index=True)
    model = bg.AnimalModel(twice, "y", "id", ped)
    idata = model.sample(draws=10, burn=0, chains=1, seed=2, progress=False)
    assert idata.log_likelihood["y"].sizes["record"] == twice["y"].notna().sum()


def test_residual_stays_equal_to_y_minus_fitted(small):
    """The in-place residual updates agree with e = y - sum of fitted values after many sweeps."""
    sim, ped = small
    data = sim.phenotypes.assign(herd=np.arange(len(sim.phenotypes)) % 4)
    for sampler in ("single-site", "joint", "pcg", "collapsed"):
        model = bg.Model(
            data,
            "y",
            [bg.Fixed(["sex"]), bg.Random("herd"), bg.Animal("id", ped), bg.Markers("id", sim.genotypes)],
            sampler=sampler,
        )
        rng = np.random.default_rng(0)
        gibbs = Gibbs(model)
        chain = gibbs.init(rng)
        for _ in range(57):  # fewer than the refresh interval: pure incremental updates
            gibbs.step(rng, chain)
        incremental = chain.ctx.resid.copy()
        gibbs.refresh_residual(chain)
        np.testing.assert_allclose(incremental, chain.ctx.resid, atol=1e-9, err_msg=sampler)
    storage = ChainStorage(model.variables(), 1, "full")
    run_chain(gibbs, rng, chain, storage, 0, 1, 1, threading.Event(), [0], 0)
    assert storage.n == 1


def test_general_model_combines_animal_markers_and_iid_terms(small):
    sim, ped = small
    data = sim.phenotypes.assign(herd=np.arange(len(sim.phenotypes)) % 3)
    model = bg.Model(
        data, "y", [bg.Fixed(["sex"]), bg.Random("herd"), bg.Animal("id", ped), bg.Markers("id", sim.genotypes)]
    )
    idata = model.sample(draws=20, burn=10, chains=2, seed=3, progress=False)
    post = idata.posterior
    for name in ("sigma2_a", "var_g", "sigma2_herd", "sigma2_e", "h2", "scale"):
        assert post[name].dims == ("chain", "draw")
    h2 = (post["sigma2_a"] + post["var_g"]) / (
        post["sigma2_a"] + post["var_g"] + post["sigma2_herd"] + post["sigma2_e"]
    )
    np.testing.assert_allclose(post["h2"].values, h2.values, rtol=1e-12)
    assert list(post["herd"].coords["herd_level"].values) == [0, 1, 2]  # integer ids stay integers


def test_duplicate_term_names_are_an_error(small):
    sim, ped = small
    with pytest.raises(ValueError, match="Duplicate term names: 'id'"):
        bg.Model(sim.phenotypes, "y", [bg.Random("id"), bg.Random("id")])


# ---------------------------------------------------------------- issue 5: reliability of model building


def test_multiindex_records_are_rejected_before_sampling(small):
    sim, ped = small
    data = sim.phenotypes.set_index(["id", "generation"], drop=False)
    with pytest.raises(ValueError, match="data has a MultiIndex"):
        bg.AnimalModel(data, "y", "id", ped)


def test_a_prior_reused_in_two_models_is_not_modified(small):
    """Binding copies terms and priors: the first model's draws do not depend on a second model."""
    sim, _ = small
    prior = bg.BayesAPrior()
    first = bg.Model(sim.phenotypes, "y", [bg.Fixed(), bg.Markers("id", sim.genotypes, prior=prior)])
    before = first.sample(draws=5, burn=0, chains=1, seed=1, progress=False)
    other = sim.phenotypes.assign(y=sim.phenotypes["y"] * 100)
    bg.Model(other, "y", [bg.Fixed(), bg.Markers("id", sim.genotypes, prior=prior)])
    after = first.sample(draws=5, burn=0, chains=1, seed=1, progress=False)
    np.testing.assert_array_equal(before.posterior["alpha"].values, after.posterior["alpha"].values)
    assert prior.scale_prior is None  # the user's object still says "default"
    term = bg.Random("generation")
    bg.Model(sim.phenotypes, "y", [term])
    assert not hasattr(term, "prior")


def test_recorded_names_follow_the_term_name(small):
    sim, ped = small
    model = bg.Model(
        sim.phenotypes,
        "y",
        [
            bg.Fixed(),
            bg.Animal("id", ped),
            bg.Animal("id", ped, name="dom"),
            bg.Markers("id", sim.genotypes),
            bg.Markers("id", sim.genotypes, name="chip2"),
        ],
        sampler="single-site",
    )
    post = model.sample(draws=3, burn=0, chains=1, seed=1, progress=False).posterior
    for name in (
        "u",
        "sigma2_a",
        "dom",
        "sigma2_dom",
        "alpha",
        "var_g",
        "scale",
        "alpha_chip2",
        "var_chip2",
        "scale_chip2",
    ):
        assert name in post, name
    assert post["dom"].dims == ("chain", "draw", "dom_level")
    assert post["alpha_chip2"].dims == ("chain", "draw", "chip2_marker")


def test_complex_phenotypes_are_an_error(small):
    sim, ped = small
    data = sim.phenotypes.assign(y=sim.phenotypes["y"].astype(complex))
    with pytest.raises(TypeError, match="Phenotype column 'y' is complex-valued"):
        bg.AnimalModel(data, "y", "id", ped)


def test_the_response_cannot_be_its_own_covariate(small):
    sim, ped = small
    with pytest.raises(ValueError, match="The response 'y' cannot also be a fixed-effect column"):
        bg.AnimalModel(sim.phenotypes, "y", "id", ped, fixed=["y"])


@pytest.mark.parametrize("df,scale", [("5", 1.0), (True, 1.0), (5.0, "1")])
def test_variance_priors_reject_text_and_booleans(df, scale):
    with pytest.raises(TypeError, match="ScaledInvChi2 (df|scale) must be a number"):
        bg.ScaledInvChi2(df, scale)


@pytest.mark.parametrize("prior", [bg.ScaledInvChi2(4.0, 0.0), bg.ScaledInvChi2(0.0, 0.0)])
def test_improper_priors_on_random_variances_warn(small, prior):
    sim, _ = small
    data = sim.phenotypes.assign(pair=np.arange(len(sim.phenotypes)) % 2)
    with pytest.warns(UserWarning, match="posterior of a random-effect variance is then improper"):
        bg.Model(data, "y", [bg.Fixed(), bg.Random("pair", prior=prior)])


def test_improper_prior_warning_points_at_the_users_line(small):
    """Issue 16 item 13: the warning pointed at sys:1 (a fixed stacklevel past the top of the
    stack); it names this file and line, directly or through a model shortcut."""
    import linecache

    sim, ped = small
    data = sim.phenotypes.assign(pair=np.arange(len(sim.phenotypes)) % 2)
    with pytest.warns(UserWarning, match="is then improper") as record:
        bg.Model(data, "y", [bg.Fixed(), bg.Random("pair", prior=bg.ScaledInvChi2(0.0, 0.0))])
    assert record[0].filename == __file__
    assert "bg.Model(data, " in linecache.getline(__file__, record[0].lineno)
    with pytest.warns(UserWarning, match="is then improper") as record:
        bg.AnimalModel(sim.phenotypes, "y", "id", ped, prior=bg.ScaledInvChi2(0.0, 0.0))
    assert record[0].filename == __file__
    assert "bg.AnimalModel(sim.phenotypes, " in linecache.getline(__file__, record[0].lineno)


def test_improper_residual_prior_is_allowed_silently(small):
    sim, _ = small
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bg.Model(sim.phenotypes, "y", [bg.Fixed(), bg.Random("generation")], sigma2_e=bg.ScaledInvChi2(0, 0))


def test_markers_without_genotyped_phenotyped_records_warn(small):
    sim, _ = small
    phenotyped = set(sim.phenotypes["id"])
    matrix = np.array([[k % 3] * 3 if i not in phenotyped else [np.nan] * 3 for k, i in enumerate(sim.genotypes.ids)])
    geno = bg.Genotypes(sim.genotypes.ids, matrix)  # every phenotyped individual's genotype is missing
    with pytest.warns(UserWarning, match="has an observed genotype, or none varies: the markers cannot explain"):
        bg.Model(sim.phenotypes, "y", [bg.Fixed(), bg.Markers("id", geno)])
    constant = np.array([[k % 3] * 3 if i not in phenotyped else [1.0] * 3 for k, i in enumerate(sim.genotypes.ids)])
    with pytest.warns(UserWarning, match="or none varies"):
        bg.Model(sim.phenotypes, "y", [bg.Fixed(), bg.Markers("id", bg.Genotypes(sim.genotypes.ids, constant))])


def test_markers_name_the_priors_they_accept(small):
    sim, _ = small
    with pytest.raises(TypeError, match=r"Markers prior must be a marker prior \(BayesAPrior"):
        bg.Markers("id", sim.genotypes, prior=bg.ScaledInvChi2(5, 1))


def test_terms_must_come_as_a_list(small):
    sim, _ = small
    with pytest.raises(TypeError, match=r"terms must be a list of bayesgen terms, got Fixed \(wrap a single"):
        bg.Model(sim.phenotypes, "y", bg.Fixed(["sex"]))
