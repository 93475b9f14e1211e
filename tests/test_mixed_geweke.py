"""Geweke (2004) joint-distribution tests of traits mixing families (``pytest -m statistical``).

Two traits, the second binary (``family=["gaussian", "threshold"]``), with an animal effect and a
residual covariance whose binary diagonal is fixed at 1 (a conditional inverse-Wishart), some
records missing one trait, under the single-site, joint and collapsed samplers. A planted
error (the conditional inverse-Wishart drawn with 2 extra degrees of freedom) must fail.
Then a Gaussian trait beside two binary ones (their residual block fixed at I), and two binary
traits alone; a planted error (each liability drawn given the Gaussian trait only, ignoring the
other binary trait's liability) must fail. Then a Gaussian trait beside a 3-category ordinal one
(its cut-point drawn by Cowles' move given the Gaussian trait); a planted error (that move's
liabilities taken as N(m, 1), not their conditional variance given the Gaussian trait) must fail.
Then four threshold traits alone, two binary and two ordinal (R = I, each ordinal trait with its
own cut-points); a planted error (each trait's scale move scaling every ordinal trait's
cut-points) must fail. Then a Gaussian trait beside a binary and an ordinal one; the planted
liabilities drawn given the Gaussian trait only must fail. Last, each threshold trait's scale and marginal group moves on complete
records.
"""

import numpy as np
import pytest
from geweke import geweke_test
from test_geweke import SPARSE_CHOLESKY, check, two_trait_prior

import bayesgen as bg
from bayesgen.likelihoods.mixed import Mixed

pytestmark = pytest.mark.statistical

N_MARGINAL = 6000
N_SUCCESSIVE = 20000
#: A 4-category trait's two cut-points mix slowly: independent chains and their between-chain error.
SLOW_CUTPOINTS = dict(n_chains=16, burn=200)
SAMPLERS = [
    "single-site",
    pytest.param("joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
    pytest.param("collapsed", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
]


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(3)
    data["g"] = data["y"]
    data["b"] = (data["y"] + rng.standard_normal(len(data)) > data["y"].median()).astype(float)
    data.loc[data.index[:3], "g"] = np.nan
    data.loc[data.index[3:6], "b"] = np.nan
    return data, sim.pedigree_object()


def pair_model(population, sampler, family=None):
    data, pedigree = population
    return bg.Model(
        data,
        ["g", "b"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        sigma2_e=two_trait_prior(),
        family=["gaussian", "threshold"] if family is None else family,
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_gaussian_binary_pair(population, sampler):
    check(geweke_test(pair_model(population, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41))


class WrongConditionalDegrees(Mixed):
    """Planted error: R | E drawn with df + n + 2."""

    def draw_covariance(self, rng, state, ctx):
        e = ctx.resid[self.observed_rows]
        state["sigma2_e"][:] = self._draw_fixed_block(
            rng, self.prior.df + self.n_observed + 2, self.prior.scale + e.T @ e
        )


def test_planted_wrong_degrees_of_freedom_fails(population):
    model = pair_model(population, "single-site", WrongConditionalDegrees(["gaussian", "threshold"]))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("sigma2_e").any()


# ---------------------------------------------------------------------- a Gaussian and two binary traits
@pytest.fixture(scope="module")
def three_traits(population):
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(5)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["b2"] = (rng.standard_normal(len(data)) - 0.5 * z > 0.2).astype(float)
    data.loc[data.index[6:9], "b2"] = np.nan
    return data, pedigree


def three_trait_prior():
    return bg.InverseWishart(8.0, [[4.0, 1.0, -0.8], [1.0, 3.0, 0.0], [-0.8, 0.0, 3.0]])


def three_trait_model(three_traits, sampler, family=None):
    data, pedigree = three_traits
    return bg.Model(
        data,
        ["g", "b", "b2"],
        [bg.Animal("id", pedigree, prior=three_trait_prior())],
        sigma2_e=three_trait_prior(),
        family=["gaussian", "threshold", "threshold"] if family is None else family,
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_gaussian_and_two_binary_traits(three_traits, sampler):
    check(
        geweke_test(three_trait_model(three_traits, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43)
    )


def test_two_binary_traits(three_traits):
    data, pedigree = three_traits
    model = bg.Model(
        data,
        ["b", "b2"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        family=["threshold", "threshold"],
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=44))


class IgnoresTheOtherLiability(Mixed):
    """Planted error: each binary trait's liability drawn given the Gaussian trait only, as if the
    other binary trait's liability carried nothing (given the Gaussian trait, the two liabilities'
    residuals are correlated)."""

    def _conditioning_traits(self, trait):
        return self._free


def test_planted_liability_ignoring_the_other_binary_trait_fails(three_traits):
    model = three_trait_model(
        three_traits, "single-site", IgnoresTheOtherLiability(["gaussian", "threshold", "threshold"])
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43)
    print(result)
    assert not result.passed


class WrongColumnCovariance(Mixed):
    """Planted error: C = R_fB R_BB^-1 drawn with four times its columns' covariance (4 Psi_BB^-1).
    Twice passed at this length (max |z| 3.43 against 3.73, 2026-12-07): the test sees errors of
    that size in R_fB's spread only from 4x."""

    @staticmethod
    def _columns_factor(psi_bb):
        return np.linalg.cholesky(np.linalg.inv(psi_bb / 4.0))


def test_planted_four_times_the_columns_covariance_fails(three_traits):
    model = three_trait_model(
        three_traits, "single-site", WrongColumnCovariance(["gaussian", "threshold", "threshold"])
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("sigma2_e|rho_e").any()


# ---------------------------------------------------------------------- a Gaussian and an ordinal trait
@pytest.fixture(scope="module")
def with_ordinal(population):
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(8)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["o"] = np.digitize(0.6 * z + 0.8 * rng.standard_normal(len(data)), [-0.4, 0.7]).astype(float)
    data.loc[data.index[3:6], "o"] = np.nan
    return data, pedigree


def ordinal_model(with_ordinal, sampler, ordinal=None):
    data, pedigree = with_ordinal
    return bg.Model(
        data,
        ["g", "o"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        sigma2_e=two_trait_prior(),
        family=["gaussian", bg.Threshold(cutpoint_prior=1.0) if ordinal is None else ordinal],
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_gaussian_ordinal_pair(with_ordinal, sampler):
    check(geweke_test(ordinal_model(with_ordinal, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=45))


class IgnoresTheConditionalVariance(bg.Threshold):
    """Planted error: the cut-point move takes the liabilities as N(m, 1), not N(m, s^2) with s^2
    their residual variance given the Gaussian trait."""

    def _move_cutpoints(self, rng, state, mu, tuning, sd=1.0):
        super()._move_cutpoints(rng, state, mu, tuning)


def test_planted_cutpoint_move_ignoring_the_conditional_variance_fails(with_ordinal):
    model = ordinal_model(with_ordinal, "single-site", IgnoresTheConditionalVariance(cutpoint_prior=1.0))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=45)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("cutpoints").any()


# ---------------------------------------------------------------------- threshold traits alone
@pytest.fixture(scope="module")
def thresholds_alone(three_traits, with_ordinal):
    """Two binary traits and two ordinal ones (3 and 4 categories), each with records missing it."""
    data, pedigree = three_traits
    data = data.assign(o=with_ordinal[0]["o"])
    rng = np.random.default_rng(13)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["o2"] = np.digitize(0.5 * z + rng.standard_normal(len(data)), [-0.6, 0.1, 0.8]).astype(float)
    data.loc[data.index[9:12], "o2"] = np.nan
    return data, pedigree


def four_trait_prior():
    scale = 3.0 * np.eye(4) + 0.5
    return bg.InverseWishart(10.0, scale)


def alone_model(thresholds_alone, sampler, family=None):
    data, pedigree = thresholds_alone
    return bg.Model(
        data,
        ["b", "b2", "o", "o2"],
        [bg.Animal("id", pedigree, prior=four_trait_prior())],
        family=family or ["threshold", "threshold", bg.Threshold(cutpoint_prior=1.0), bg.Threshold(cutpoint_prior=1.0)],
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_four_threshold_traits_alone(thresholds_alone, sampler):
    """Two binary and two ordinal traits (R = I), records missing traits: each ordinal trait's
    cut-points, the liabilities, the animal covariance. The 4-category trait's cut-points mix
    slowly here (one chain under the joint sampler: max |z| 3.75 against 3.86), so 16 chains
    compared through their between-chain standard error, as ``test_threshold_geweke`` does."""
    model = alone_model(thresholds_alone, sampler)
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=49, **SLOW_CUTPOINTS))


def test_planted_scale_move_scaling_every_ordinal_traits_cutpoints_fails(thresholds_alone, monkeypatch):
    """Planted error: each threshold trait's scale move multiplies every ordinal trait's cut-points
    by k (and counts them in its Jacobian), not its own trait's alone."""
    from bayesgen.likelihoods.mixed_scaling import ThresholdTraitScaling

    def power(self, state):
        return float(self.likelihood.n_observed + state["cutpoints"].size)

    def apply(self, state, k):
        state["y"][:, self.trait] *= k
        state["cutpoints"] *= k

    monkeypatch.setattr(ThresholdTraitScaling, "power", power)
    monkeypatch.setattr(ThresholdTraitScaling, "apply", apply)
    model = alone_model(thresholds_alone, "single-site")
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=49, **SLOW_CUTPOINTS)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("cutpoints").any()


# ---------------------------------------------------------------------- a Gaussian, a binary and an ordinal trait
def ordinal_binary_model(thresholds_alone, sampler, family=None):
    data, pedigree = thresholds_alone
    return bg.Model(
        data,
        ["g", "b", "o"],
        [bg.Animal("id", pedigree, prior=three_trait_prior())],
        sigma2_e=three_trait_prior(),
        family=family or ["gaussian", "threshold", bg.Threshold(cutpoint_prior=1.0)],
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_gaussian_a_binary_and_an_ordinal_trait(thresholds_alone, sampler):
    """Given the Gaussian trait the two liabilities are correlated: each is drawn given the other,
    the ordinal trait's cut-point by Cowles' move given both other traits."""
    check(
        geweke_test(
            ordinal_binary_model(thresholds_alone, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=50
        )
    )


def test_planted_ordinal_liability_ignoring_the_binary_one_fails(thresholds_alone):
    family = ["gaussian", "threshold", bg.Threshold(cutpoint_prior=1.0)]
    model = ordinal_binary_model(thresholds_alone, "single-site", IgnoresTheOtherLiability(family))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=50)
    print(result)
    assert not result.passed


# ---------------------------------------------------------------------- each threshold trait's moves
@pytest.fixture(scope="module")
def complete(thresholds_alone):
    """Records with every trait: the marginal group moves of each threshold trait then run too."""
    data, pedigree = thresholds_alone
    return data.dropna(subset=["g", "b", "b2", "o"]), pedigree


def complete_model(complete, traits, families, sampler):
    data, pedigree = complete
    data = data.dropna(subset=traits)  # the second ordinal trait "o2" misses some of these records
    prior = two_trait_prior() if len(traits) == 2 else three_trait_prior()
    return bg.Model(
        data,
        traits,
        [bg.Animal("id", pedigree, prior=prior)],
        sigma2_e=prior,
        family=families,
        sampler=sampler,
    )


def moves_of(model) -> list:
    return [b["block"] for b in model.describe()["sampler"] if b["block"] in ("scale move", "marginal group move")]


COMPLETE_CASES = {
    "gaussian-binary": (["g", "b"], lambda: ["gaussian", "threshold"]),
    "gaussian-ordinal": (["g", "o"], lambda: ["gaussian", bg.Threshold(cutpoint_prior=1.0)]),
    "two-binary": (["b", "b2"], lambda: ["threshold", "threshold"]),
    "binary-two-ordinal": (
        ["b", "o", "o2"],
        lambda: ["threshold", bg.Threshold(cutpoint_prior=1.0), bg.Threshold(cutpoint_prior=1.0)],
    ),
}


@pytest.mark.parametrize(
    "case, sampler",
    [
        ("gaussian-binary", "single-site"),
        pytest.param(
            "gaussian-binary",
            "collapsed",
            marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY)),
        ),
        ("gaussian-ordinal", "single-site"),
        ("two-binary", "single-site"),
        pytest.param(
            "two-binary", "joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))
        ),
        ("binary-two-ordinal", "single-site"),
    ],
)
def test_each_threshold_traits_scale_and_marginal_moves(complete, case, sampler):
    traits, families = COMPLETE_CASES[case]
    model = complete_model(complete, traits, families(), sampler)
    n_thresholds = len(model.likelihood.threshold_traits)
    assert moves_of(model) == ["scale move"] * n_thresholds + ["marginal group move"] * n_thresholds
    chains = SLOW_CUTPOINTS if "o2" in traits else {}
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=47, **chains))


def test_each_threshold_traits_marginal_moves_alone(complete):
    """The marginal group moves without the scale moves, so that they alone move the traits' scales."""
    off = bg.Threshold(scale_move=False)
    model = complete_model(complete, ["b", "b2"], [off, off], "single-site")
    assert moves_of(model) == ["marginal group move"] * 2
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=48))


def test_planted_trait_scale_move_counting_every_traits_residuals_fails(complete, monkeypatch):
    """Planted error: the trait's scale move takes its quadratic from every trait's residuals (as the
    one-trait move does), not the threshold trait's alone. Weaker errors go unseen at this length on
    these 31 records (2026-12-07): leaving out the Jacobian k^-f of C's column (which failed, at 6.06,
    on the 34 records with both g and b), or leaving R unmoved (max |z| 2.01; R is redrawn
    from its conditional right after). The exact target test of test_mixed_families catches the first."""
    from bayesgen.likelihoods.mixed_scaling import ThresholdTraitScaling

    def every_trait(self, state, ctx):
        resid = ctx.resid[self.likelihood.observed_rows]
        return float(np.sum(resid * resid))

    monkeypatch.setattr(ThresholdTraitScaling, "quadratic", every_trait)
    model = complete_model(complete, ["g", "b"], ["gaussian", bg.Threshold(marginal_moves=False)], "single-site")
    assert moves_of(model) == ["scale move"]
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=47)
    print(result)
    assert not result.passed


def test_planted_trait_marginal_move_counting_the_haar_measure_twice_fails(complete, monkeypatch):
    """Planted error: the trait's coordinate of the group action keeps the Haar measure dk/k twice."""
    from bayesgen.terms.location import TraitGroupAction

    honest = TraitGroupAction.log_factor
    monkeypatch.setattr(TraitGroupAction, "log_factor", lambda self, state, m: honest(self, state, m) - np.log(m[0]))
    off = bg.Threshold(scale_move=False)
    model = complete_model(complete, ["b", "b2"], [off, off], "single-site")
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=48)
    print(result)
    assert not result.passed
