"""Correlated random regressions: Random(column, slopes=[...], structure="us" | "diag").

Quick tests: construction, recorded variables, the exact Gaussian full conditional of the
coefficients, and one test per user-facing error. Statistical tests (``-m statistical``): the
Geweke joint-distribution test of every conditional (iid and pedigree levels, unstructured
and diagonal covariances), a planted wrong degree of freedom that must fail it, and
sleepstudy against lme4's REML fit.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from geweke import geweke_test

import bayesgen as bg
from bayesgen.priors import HuangWand, InverseWishart
from bayesgen.sampler import Gibbs
from bayesgen.terms.random_regression import RandomRegression

SLEEPSTUDY = Path(__file__).resolve().parents[2] / "shared" / "data" / "sleepstudy.csv"


@pytest.fixture(scope="module")
def longitudinal():
    """12 subjects x 6 visits, one covariate; subject-specific intercepts and slopes."""
    rng = np.random.default_rng(3)
    subjects = np.repeat([f"s{k}" for k in range(12)], 6)
    x = np.tile(np.arange(6.0), 12) + rng.normal(0, 0.2, 72)
    u = rng.multivariate_normal([0, 0], [[1.0, 0.2], [0.2, 0.3]], 12)
    idx = np.repeat(np.arange(12), 6)
    y = 1.0 + 0.5 * x + u[idx, 0] + u[idx, 1] * x + rng.normal(0, 0.7, 72)
    data = pd.DataFrame({"y": y, "x": x, "subject": subjects, "z": rng.normal(size=72)})
    data.loc[[3, 40], "y"] = np.nan
    return data


# ---------------------------------------------------------------------- construction and output
def test_random_with_slopes_builds_a_random_regression(longitudinal):
    term = bg.Random("subject", None, "subj", slopes=["x"])
    assert term.coefficient_names == ["(Intercept)", "x"]  # a random regression: intercept and slope per level
    assert (term.column, term.name, term.slopes, term.structure) == ("subject", "subj", ["x"], "us")
    assert bg.Random("subject", slopes="x", structure="diag").structure == "diag"
    assert isinstance(bg.Random("subject"), bg.Random)  # no slopes: the iid term as before


def test_recorded_variables_and_coords(longitudinal):
    before = longitudinal.copy()
    model = bg.Model(longitudinal, "y", [bg.Fixed(["x"]), bg.Random("subject", slopes=["x"])], sampler="single-site")
    idata = model.sample(draws=30, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    pd.testing.assert_frame_equal(longitudinal, before)  # the user's data is not modified
    post = idata.posterior
    assert post["subject"].dims == ("chain", "draw", "subject_level", "subject_coef")
    assert list(post["subject_coef"].values) == ["(Intercept)", "x"]
    assert list(post["subject_level"].values) == sorted(f"s{k}" for k in range(12))  # as text, like Random
    sigma = post["sigma2_subject"]
    assert sigma.dims == ("chain", "draw", "subject_coef_row", "subject_coef_col")
    np.testing.assert_allclose(sigma.values, np.swapaxes(sigma.values, 2, 3))
    rho = sigma.values[..., 0, 1] / np.sqrt(sigma.values[..., 0, 0] * sigma.values[..., 1, 1])
    np.testing.assert_allclose(post["rho_subject"].values, rho)
    assert "rescale_accept_subject" in idata.sample_stats


def test_diag_records_variances_only(longitudinal):
    model = bg.Model(longitudinal, "y", [bg.Fixed(["x"]), bg.Random("subject", slopes=["x"], structure="diag")])
    idata = model.sample(draws=20, burn=10, chains=1, seed=2, progress=False, check_convergence=False)
    assert idata.posterior["sigma2_subject"].dims == ("chain", "draw", "subject_coef")
    assert "rho_subject" not in idata.posterior


def test_three_coefficients_record_a_correlation_matrix(longitudinal):
    model = bg.Model(longitudinal, "y", [bg.Fixed(), bg.Random("subject", slopes=["x", "z"])])
    idata = model.sample(draws=20, burn=10, chains=1, seed=3, progress=False, check_convergence=False)
    rho = idata.posterior["rho_subject"]
    assert rho.dims == ("chain", "draw", "subject_coef_row", "subject_coef_col")
    np.testing.assert_allclose(rho.values[..., [0, 1, 2], [0, 1, 2]], 1.0)


def test_default_priors_are_half_t_in_the_coefficients_units(longitudinal):
    model = bg.Model(
        longitudinal,
        "y",
        [bg.Random("subject", slopes=["x"]), bg.Random("subject", slopes=["x"], structure="diag", name="d")],
    )
    observed = longitudinal["y"].notna()
    sd_y = longitudinal.loc[observed, "y"].std(ddof=1)
    sd_x = longitudinal.loc[observed, "x"].std(ddof=1)
    us, diag = model.terms[0], model.terms[1]
    assert isinstance(us.prior, HuangWand) and us.prior.df == 3.0
    np.testing.assert_allclose(us.prior.scale, [sd_y, sd_y / sd_x], rtol=1e-6)
    assert [p.to_dict()["family"] for p in diag.prior.components] == ["HalfT", "HalfT"]
    np.testing.assert_allclose([p.scale for p in diag.prior.components], [sd_y, sd_y / sd_x], rtol=1e-6)


# ---------------------------------------------------------------------- the coefficients' full conditional
def _exact_posterior(data, term, sigma, sigma2_e):
    """Posterior mean and covariance of vec(U') given fixed Sigma and sigma2_e (dense algebra)."""
    z = term.design().toarray()
    observed = data["y"].notna().to_numpy()
    prior = np.kron(term.precision.toarray(), np.linalg.inv(sigma))
    precision = z[observed].T @ z[observed] / sigma2_e + prior
    cov = np.linalg.inv(precision)
    return cov @ z[observed].T @ data["y"].to_numpy()[observed] / sigma2_e, cov


@pytest.mark.parametrize("levels", ["iid", "pedigree"])
def test_coefficients_match_their_exact_gaussian_posterior(levels):
    """With Sigma and sigma2_e fixed, U | y is Gaussian: draws match its mean and variances."""
    rng = np.random.default_rng(5)
    pedigree = bg.Pedigree(
        [f"a{k}" for k in range(8)],
        [None, None, "a0", "a0", "a2", "a2", "a4", None],
        [None, None, "a1", "a1", "a3", "a3", "a5", None],
    )
    ids = np.repeat([f"a{k}" for k in range(1, 8)], 4)
    data = pd.DataFrame({"id": ids, "x": rng.normal(size=ids.size)})
    data["y"] = 0.5 * data["x"] + rng.normal(size=ids.size)
    data.loc[5, "y"] = np.nan
    sigma = np.array([[0.8, -0.3], [-0.3, 0.5]])
    kwargs = {"pedigree": pedigree} if levels == "pedigree" else {}
    term = RandomRegression("id", ["x"], prior=sigma, **kwargs)
    model = bg.Model(data, "y", [term], sigma2_e=0.6)
    gibbs = Gibbs(model)
    chain = gibbs.init(np.random.default_rng(6))
    draws = []
    for _ in range(4000):
        gibbs.step(rng, chain)
        draws.append(chain.states[0]["u"].ravel().copy())
    draws = np.array(draws[500:])
    mean, cov = _exact_posterior(data, model.terms[0], sigma, 0.6)
    # Batch-means standard errors (single-site draws are autocorrelated on a pedigree).
    batches = draws[: len(draws) // 50 * 50].reshape(50, -1, draws.shape[1]).mean(axis=1)
    se = batches.std(axis=0, ddof=1) / np.sqrt(50)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4.5 * se)
    np.testing.assert_allclose(draws.var(axis=0), np.diag(cov), rtol=0.12)


# ---------------------------------------------------------------------- errors
def test_missing_slope_column(longitudinal):
    with pytest.raises(ValueError, match="'age'.*not found in data"):
        bg.Model(longitudinal, "y", [bg.Random("subject", slopes=["age"])])


def test_non_numeric_slope_column(longitudinal):
    data = longitudinal.assign(visit=[f"v{k}" for k in range(len(longitudinal))])
    with pytest.raises(TypeError, match=r"Slope column 'visit' must be numeric, got dtype \w+; e.g. 'v0' in row 0"):
        bg.Model(data, "y", [bg.Random("subject", slopes=["visit"])])


def test_constant_slope_column(longitudinal):
    data = longitudinal.assign(dose=2.0)
    with pytest.raises(
        ValueError, match=r"Slope column 'dose' is constant over the records with a phenotype \(all 2\)"
    ):
        bg.Model(data, "y", [bg.Random("subject", slopes=["dose"])])


def test_slope_column_with_missing_values(longitudinal):
    data = longitudinal.copy()
    data.loc[[7, 9], "x"] = np.nan
    with pytest.raises(ValueError, match=r"Slope column 'x' has missing or non-finite values in rows 7, 9"):
        bg.Model(data, "y", [bg.Random("subject", slopes=["x"])])


def test_unknown_covariance_string():
    with pytest.raises(ValueError, match=r"structure must be one of 'us', 'diag' .* got 'unstructured'"):
        bg.Random("subject", slopes=["x"], structure="unstructured")


def test_covariance_without_slopes():
    with pytest.raises(ValueError, match=r"structure='us' applies to random regressions: give the slope columns"):
        bg.Random("subject", structure="us")


def test_empty_slopes():
    with pytest.raises(ValueError, match="slopes is empty"):
        bg.Random("subject", slopes=[])


def test_slopes_not_column_names():
    with pytest.raises(TypeError, match=r"slopes must be a list of column names \(str\), got \[1\]"):
        bg.Random("subject", slopes=[1])


def test_repeated_slope():
    with pytest.raises(ValueError, match="slopes names column 'x' more than once"):
        bg.Random("subject", slopes=["x", "x"])


def test_level_column_as_slope():
    with pytest.raises(ValueError, match="Column 'subject' holds the levels; it cannot also be a slope"):
        bg.Random("subject", slopes=["subject"])


def test_response_as_slope(longitudinal):
    with pytest.raises(ValueError, match="The response 'y' cannot also be a slope covariate"):
        bg.Model(longitudinal, "y", [bg.Random("subject", slopes=["y"])])


def test_diag_prior_list_of_wrong_length(longitudinal):
    with pytest.raises(
        ValueError, match=r"structure='diag', prior must be a list of 2 priors .*\['\(Intercept\)', 'x'\]"
    ):
        bg.Model(longitudinal, "y", [bg.Random("subject", slopes=["x"], structure="diag", prior=[bg.HalfT(3, 1.0)])])


def test_us_prior_of_wrong_dimension(longitudinal):
    with pytest.raises(ValueError, match=r"The prior for sigma2_subject is 3 x 3 but sigma2_subject is 2 x 2"):
        bg.Model(longitudinal, "y", [bg.Random("subject", slopes=["x"], prior=InverseWishart(5, np.eye(3)))])


def test_several_traits_not_supported(longitudinal):
    data = longitudinal.assign(y2=longitudinal["y"] * 2)
    with pytest.raises(ValueError, match=r"slopes=\['x'\]\) fits one trait; the model has 2 \(y, y2\)"):
        bg.Model(data, ["y", "y2"], [bg.Random("subject", slopes=["x"])])


def test_slopes_on_a_subclass():
    with pytest.raises(TypeError, match="Kernel does not take slopes; use bg.RandomRegression"):
        bg.Kernel("id", np.eye(2), ids=["a", "b"], slopes=["x"])


def test_animals_missing_from_the_pedigree(longitudinal):
    pedigree = bg.Pedigree(["s0", "s1"], [None, None], [None, None])
    with pytest.raises(
        ValueError,
        match=r"Animals in column 'subject' not found in the pedigree: 's2', 's3', 's4', 's5', 's6', \.\.\. \(10 in all\)",
    ):
        bg.Model(longitudinal, "y", [RandomRegression("subject", ["x"], pedigree=pedigree)])


# ---------------------------------------------------------------------- statistical
def _geweke_data():
    rng = np.random.default_rng(21)
    sim = bg.simulate(n_founders=8, n_generations=2, n_offspring=12, n_markers=10, seed=21)
    data = sim.phenotypes.set_index("id", drop=False).iloc[:40].copy()
    data["subject"] = [f"s{k}" for k in rng.integers(0, 8, len(data))]
    data["x"] = rng.normal(size=len(data))
    data.loc[data.index[:2], "y"] = np.nan
    return data, sim.pedigree_object()


N_MARGINAL, N_SUCCESSIVE = 5000, 15000


def residual_prior():
    return bg.ScaledInvChi2(df=12.0, scale=0.5)


def covariance_prior():
    # df = 14: finite fourth moments of Sigma, so the squares' z-tests have finite variance.
    return InverseWishart(14.0, np.array([[5.0, 1.5], [1.5, 3.0]]))


class WrongDegreesOfFreedom(InverseWishart):
    """A planted error: Sigma | U drawn with df + L + 2 instead of df + L."""

    def draw_posterior(self, rng, sum_squares, count, aux=None):
        return super().draw_posterior(rng, sum_squares, count + 2, aux)


@pytest.mark.statistical
@pytest.mark.parametrize(
    "case,sampler",
    [
        ("us-iid", "single-site"),
        ("us-iid", "joint"),
        ("us-iid", "collapsed"),
        ("diag-iid", "single-site"),
        ("diag-iid", "collapsed"),
        ("huang-wand-iid", "single-site"),
        ("huang-wand-iid", "collapsed"),
        ("us-pedigree", "single-site"),
        ("us-pedigree", "collapsed"),
    ],
)
def test_geweke(case, sampler):
    data, pedigree = _geweke_data()
    if case == "us-iid":
        term = bg.Random("subject", slopes=["x"], prior=covariance_prior())
    elif case == "diag-iid":
        term = bg.Random(
            "subject", slopes=["x"], structure="diag", prior=[bg.ScaledInvChi2(12.0, 0.4), bg.ScaledInvChi2(12.0, 0.25)]
        )
    elif case == "huang-wand-iid":
        term = bg.Random("subject", slopes=["x"], prior=HuangWand(14.0, [0.7, 0.5]))
    else:
        term = RandomRegression("id", ["x"], prior=covariance_prior(), pedigree=pedigree)
    # No Fixed term: its proper-prior path calls BLAS each step, slow on a busy machine; the
    # term's own intercept carries the mean, and Fixed has its own Geweke cases.
    model = bg.Model(data, "y", [term], sigma2_e=residual_prior(), sampler=sampler)
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=7)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_in_the_collapsed_location_block_with_other_terms():
    """Fixed, an iid term and the random regression in one collapsed block (location protocol)."""
    data, _ = _geweke_data()
    data["herd"] = [f"h{k % 4}" for k in range(len(data))]
    term = bg.Random("subject", slopes=["x"], prior=covariance_prior())
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(["x"], prior=0.25), bg.Random("herd", prior=residual_prior()), term],
        sigma2_e=residual_prior(),
        sampler="collapsed",
    )
    assert [b["block"] for b in model.describe()["sampler"]] == ["collapsed", "residual noise"]
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=8)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_fails():
    data, _ = _geweke_data()
    term = bg.Random("subject", slopes=["x"], prior=WrongDegreesOfFreedom(14.0, [[5.0, 1.5], [1.5, 3.0]]))
    # single-site: the term's own conjugate update of Sigma, where the error is planted
    model = bg.Model(data, "y", [term], sigma2_e=residual_prior(), sampler="single-site")
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=7)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.0 * result.threshold, str(result)
    worst = result.table["z"].abs().idxmax()
    assert "sigma2_subject" in worst or "rho_subject" in worst, str(result)


#: lme4 REML (Reaction ~ Days + (Days | Subject)) and (Reaction ~ Days + (Days || Subject)).
REML_US = {"intercept": 612.10, "slope": 35.07, "covariance": 9.60, "residual": 654.94}
REML_DIAG = {"intercept": 627.57, "slope": 35.86, "residual": 653.58}


@pytest.mark.statistical
@pytest.mark.skipif(not SLEEPSTUDY.exists(), reason=f"{SLEEPSTUDY} not found")
@pytest.mark.parametrize("covariance", ["us", "diag"])
def test_sleepstudy_against_lme4(covariance):
    data = pd.read_csv(SLEEPSTUDY)
    model = bg.Model(
        data, "Reaction", [bg.Fixed(["Days"]), bg.Random("Subject", slopes=["Days"], structure=covariance)]
    )
    idata = model.sample(draws=2000, burn=500, chains=4, seed=1, progress=False)
    sigma = idata.posterior["sigma2_Subject"].stack(s=("chain", "draw")).values
    if covariance == "us":
        reml = REML_US
        draws = {"intercept": sigma[0, 0], "slope": sigma[1, 1], "covariance": sigma[0, 1]}
    else:
        reml = REML_DIAG
        draws = {"intercept": sigma[0], "slope": sigma[1]}
    draws["residual"] = idata.posterior["sigma2_e"].values.ravel()
    for key, value in draws.items():
        median = np.median(value)
        lower, upper = np.quantile(value, [0.025, 0.975])
        print(f"{covariance} {key}: median {median:.2f} (REML {reml[key]}), 95% [{lower:.2f}, {upper:.2f}]")
        assert abs(median - reml[key]) <= 0.2 * abs(reml[key]), key
        assert lower < reml[key] < upper, key


# ---------------------------------------------------------------------- random-regression animal model
@pytest.fixture(scope="module")
def family():
    sim = bg.simulate(n_founders=6, n_generations=2, n_offspring=10, n_markers=5, seed=31)
    data = sim.phenotypes.copy()
    data["age"] = np.random.default_rng(32).uniform(1, 5, len(data))
    return data, sim.pedigree_object()


def test_animal_with_slopes_is_a_random_regression_animal_model(family):
    data, pedigree = family
    term = bg.Animal("id", pedigree, slopes=["age"])
    assert term.slopes == ["age"] and term.pedigree is pedigree and term.genetic
    assert term.name == "animal"
    model = bg.Model(data, "y", [bg.Fixed(), term])
    assert model.terms[1].n_levels == len(pedigree.ids)  # every pedigree animal, records or not
    idata = model.sample(draws=20, burn=10, chains=1, seed=4, progress=False, check_convergence=False)
    post = idata.posterior
    assert post["animal"].dims == ("chain", "draw", "animal_level", "animal_coef")
    sigma = post["sigma2_animal"].values[0]
    x = np.column_stack([np.ones(len(data)), data["age"]])
    average = np.einsum("dab,ab->d", sigma, x.T @ x / len(data))  # mean of x' Sigma x over records
    np.testing.assert_allclose(post["h2"].values[0], average / (average + post["sigma2_e"].values[0]))


def test_animal_slopes_with_maternal(family):
    _, pedigree = family
    with pytest.raises(ValueError, match="Animal takes maternal= or slopes=, not both"):
        bg.Animal("id", pedigree, maternal="dam", slopes=["age"])


def test_animal_covariance_without_slopes(family):
    _, pedigree = family
    with pytest.raises(ValueError, match=r"structure='diag' applies to random regressions: .*Animal\(column, pedigree"):
        bg.Animal("id", pedigree, structure="diag")


def test_animal_slopes_without_a_pedigree():
    with pytest.raises(TypeError, match="pedigree must be a bayesgen.Pedigree, got NoneType"):
        bg.Animal("id", None, slopes=["age"])


def test_list_of_priors_with_us_says_what_to_pass_and_diag_takes_it(longitudinal):
    """Issue 16 item 7: a list of priors is one prior per coefficient; 'us' needs one q x q
    prior, and the error names the choices, before any data is read; 'diag' takes the list."""
    with pytest.raises(TypeError, match=r"With structure='us', prior must be one 2 x 2 prior on the covariance "
                                        r"of \['\(Intercept\)', 'x'\] \(InverseWishart.*HuangWand\(df, \[A_0, \.\.\.\]\)"
                                        r".*got a list of 2 priors\. For one prior per coefficient, without "
                                        r"correlations, pass structure='diag'"):  # fmt: skip
        bg.Random("subject", slopes=["x"], prior=[bg.HalfT(3, 1)] * 2)
    model = bg.Model(
        longitudinal,
        "y",
        [bg.Random("subject", slopes=["x"], structure="diag", prior=[bg.HalfT(3, 1), bg.HalfT(3, 0.5)])],
    )
    diag = model.terms[0]
    assert [p.scale for p in diag.prior.components] == [1.0, 0.5]


def test_one_level_or_one_record_per_level_warns_that_sigma_follows_the_prior(longitudinal):
    """Issue 16, legal but worth a warning: Sigma is then driven by its prior."""
    import warnings

    one_level = longitudinal.assign(subject="s0")
    with pytest.warns(UserWarning, match=r"Random\('subject', slopes=\['x'\]\): only level 's0' of 'subject' has "
                                         r"phenotyped records.*2 x 2 covariance sigma2_subject") as record:  # fmt: skip
        bg.Model(one_level, "y", [bg.Random("subject", slopes=["x"])])
    assert record[0].filename == __file__
    one_record = longitudinal.assign(subject=[f"s{k}" for k in range(len(longitudinal))])
    with pytest.warns(UserWarning, match=r"no level of 'subject' has more than one phenotyped record.*"
                                         r"sigma2_subject is driven by the prior"):  # fmt: skip
        bg.Model(one_record, "y", [bg.Random("subject", slopes=["x"], structure="diag")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bg.Model(longitudinal, "y", [bg.Random("subject", slopes=["x"])])  # 12 subjects x 6 visits: silent
