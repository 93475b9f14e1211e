"""The location and likelihood protocols (Core v3): every route for one or several traits.

Quick tests:
* no file under ``bayesgen/sampler``, ``bayesgen/model`` or ``bayesgen/prediction`` tests a term's
  class or reads another term's state (the protocols are the only way in);
* a location term defined here, in the test file, joins the joint and collapsed samplers;
* several traits with missing ones, covariances fixed: the joint route's location draws have the
  mean and variances of the dense posterior of the effects given the observed traits only
  (missing traits integrated out per pattern), within 4 MCSE; the collapsed block's target
  equals the dense restricted likelihood of the observed traits times the priors and the
  Jacobian, up to one constant, at several points (exact, 1e-8).

Statistical (``-m statistical``): Geweke joint-distribution tests of the several-trait routes
(joint, pcg, collapsed, single-site with the GL(t) group move) with missing traits under HuangWand
and inverse-Wishart priors, of the test file's own location term in the joint, pcg and collapsed
samplers, each with several independent chains and a between-chain standard error, and planted
errors that must fail.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from geweke import geweke_test

import bayesgen as bg
from bayesgen.priors import HuangWand, InverseWishart
from bayesgen.sampler import Gibbs
from bayesgen.sampler.collapsed import CollapsedLocations
from bayesgen.sampler.joint import JointLocations
from bayesgen.sampler.parametrisation import CovarianceParametrisation
from bayesgen.sampler.perturbation import PerturbedLocations
from bayesgen.terms import LocationTerm, Variable

PACKAGE = pathlib.Path(bg.__file__).parent
TRAITS = ["y1", "y2"]


# ---------------------------------------------------------------------- the protocols are the only way in
TERM_CLASSES = (
    "Fixed",
    "Random",
    "Animal",
    "Kernel",
    "Markers",
    "MaternalAnimal",
    "RandomRegression",
    "Residual",
    "Gaussian",
)


@pytest.mark.parametrize("folder", ["sampler", "model", "prediction"])
def test_no_type_checks_of_terms_and_no_reach_into_their_state(folder):
    isinstance_of_term = re.compile(r"isinstance\([^)]*\b(" + "|".join(TERM_CLASSES) + r")\b")
    state_entry = re.compile(r"states\[[^\]]*\]\[\"")
    private_field = re.compile(r"\b(term|t|fixed|terms\[[^\]]*\])\._[a-z]")
    offending = []
    for path in sorted((PACKAGE / folder).glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if isinstance_of_term.search(line) or state_entry.search(line) or private_field.search(line):
                offending.append(f"{path.name}:{number}: {line.strip()}")
    assert offending == []


# ---------------------------------------------------------------------- a location term of the test file's own
class KnownPrecision(LocationTerm):
    r"""An iid-like term with a known precision among its levels (a dominance-like kernel):
    :math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes \Sigma)`, P given, one level per record.

    Written against the public protocol only: nothing in the package knows it."""

    genetic = False
    predicts = "levels"

    def __init__(self, column: str, levels: list, precision: np.ndarray, variance):
        self.column, self.name = column, f"kp_{column}"
        self.levels = list(levels)
        self.precision = sp.csr_matrix(precision)
        self.variance = variance

    def bind(self, context) -> None:
        self.n_traits, self.traits = context.n_traits, list(context.traits)
        position = {lv: k for k, lv in enumerate(self.levels)}
        self.record_index = np.array([position[v] for v in context.frame[self.column]])
        self.prior = self.variance

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def effect_name(self):
        return self.name

    @property
    def level_dim(self):
        return f"{self.name}_level"

    def coords(self):
        return self.levels

    def design(self):
        n = self.record_index.size
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.record_index)), shape=(n, self.n_levels))

    def level_precision(self):
        return self.precision

    def effects(self, state):
        return state["u"]

    def variables(self):
        if self.n_traits == 1:
            return [
                Variable(self.name, (self.level_dim,), {self.level_dim: self.levels}, high_dimensional=True),
                Variable(f"sigma2_{self.name}"),
            ]
        matrix = {"trait_row": self.traits, "trait_col": self.traits}
        return [
            Variable(
                self.name,
                (self.level_dim, "trait"),
                {self.level_dim: self.levels, "trait": self.traits},
                high_dimensional=True,
            ),
            Variable(f"sigma2_{self.name}", ("trait_row", "trait_col"), matrix),
        ]

    def init_state(self, rng):
        sigma = self.prior.initial_value(np.eye(self.n_traits))
        return {
            "u": np.zeros((self.n_levels, self.n_traits)),
            "sigma2": np.array(sigma, dtype=float),
            "prior_aux": self.prior.init_aux(rng),
        }

    def draw_prior(self, rng, state):
        state["sigma2"][:] = self.prior.draw_prior(rng, state["prior_aux"])
        z = rng.standard_normal(state["u"].shape)
        chol_p = np.linalg.cholesky(self.precision.toarray())
        state["u"][:] = np.linalg.solve(chol_p.T, z) @ np.linalg.cholesky(state["sigma2"]).T

    def step(self, rng, state, ctx):
        """Single-site route: all effects jointly (dense, few levels), then the covariance."""
        z = self.design().toarray()
        w = ctx.weights[:, 0]
        r_inv = np.linalg.inv(ctx.residual_covariance)
        u = state["u"]
        partial = ctx.resid + z @ u
        precision = np.kron(z.T @ (w[:, None] * z), r_inv) + np.kron(
            self.precision.toarray(), np.linalg.inv(state["sigma2"])
        )
        rhs = ((z.T @ (w[:, None] * partial)) @ r_inv).ravel()
        chol = np.linalg.cholesky(precision)
        draw = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs) + rng.standard_normal(rhs.size))
        u[:] = draw.reshape(u.shape)
        ctx.resid[:] = partial - z @ u
        self.draw_covariance(rng, state)
        return {}

    def record(self, state, ctx):
        sigma = state["sigma2"]
        return {
            self.name: state["u"][:, 0].copy() if self.n_traits == 1 else state["u"].copy(),
            f"sigma2_{self.name}": sigma[0, 0] if self.n_traits == 1 else sigma.copy(),
        }

    def variance(self, state):
        return state["sigma2"]

    def log_prior(self, state):
        return self.prior.log_density(state["sigma2"])


def known_precision(levels):
    """A tridiagonal precision among the levels (neighbours correlated)."""
    q = len(levels)
    return np.eye(q) * 2.2 - np.eye(q, k=1) * 0.9 - np.eye(q, k=-1) * 0.9


@pytest.fixture(scope="module")
def one_trait():
    rng = np.random.default_rng(41)
    data = pd.DataFrame({"grp": [f"g{k}" for k in rng.integers(0, 8, 40)], "y": rng.normal(size=40)})
    data.loc[:1, "y"] = np.nan
    return data


def known_term(prior=None):
    levels = [f"g{k}" for k in range(8)]
    return KnownPrecision("grp", levels, known_precision(levels), prior or bg.ScaledInvChi2(12.0, 0.5))


@pytest.mark.parametrize(
    "sampler,block", [("joint", JointLocations), ("pcg", PerturbedLocations), ("collapsed", CollapsedLocations)]
)
def test_a_location_term_of_the_test_file_joins_the_location_blocks(one_trait, sampler, block):
    model = bg.Model(
        one_trait, "y", [bg.Fixed(prior=0.25), known_term()], sigma2_e=bg.ScaledInvChi2(12, 0.5), sampler=sampler
    )
    (location,) = [b for b in model.blocks if isinstance(b, block)]
    assert [t.name for t in location.terms] == ["beta", "kp_grp"]
    idata = model.sample(draws=20, burn=5, chains=1, seed=1, progress=False, check_convergence=False)
    assert np.isfinite(idata.posterior["sigma2_kp_grp"].values).all()


# ---------------------------------------------------------------------- several traits: exact checks
@pytest.fixture(scope="module")
def two_traits():
    """30 records in 6 groups, two traits; a third of the records miss one trait, one misses both."""
    rng = np.random.default_rng(17)
    groups = np.repeat(np.arange(6), 5)
    y = rng.multivariate_normal([1.0, -1.0], [[1.0, 0.4], [0.4, 0.8]], groups.size)
    data = pd.DataFrame({"y1": y[:, 0], "y2": y[:, 1], "grp": [f"g{k}" for k in groups]})
    data.loc[[0, 3, 7, 12], "y2"] = np.nan
    data.loc[[5, 9, 20], "y1"] = np.nan
    data.loc[14, TRAITS] = np.nan
    return data


R_FIXED = np.array([[0.9, 0.3], [0.3, 0.7]])
G_FIXED = np.array([[0.6, -0.2], [-0.2, 0.5]])


def dense_posterior(model):
    """Mean and covariance of (beta, u) given the observed traits, R and G fixed (dense, flat beta)."""
    fixed, random = model.terms[0], model.terms[1]
    x, z = fixed.design().toarray(), random.design().toarray()
    m = np.hstack([x, z])
    observed = model.observed
    rows, cols = np.nonzero(observed)
    # y_obs entries (r, k): design row (m_r (x) e_k'), covariance R restricted per record.
    design = np.vstack([np.kron(m[r], np.eye(2)[k]) for r, k in zip(rows, cols)])
    covariance = np.zeros((rows.size, rows.size))
    for a, (r1, k1) in enumerate(zip(rows, cols)):
        for b, (r2, k2) in enumerate(zip(rows, cols)):
            if r1 == r2:
                covariance[a, b] = R_FIXED[k1, k2]
    prior_precision = np.zeros((design.shape[1], design.shape[1]))
    p = x.shape[1] * 2
    prior_precision[p:, p:] = np.kron(np.eye(z.shape[1]), np.linalg.inv(G_FIXED))
    r_inv = np.linalg.inv(covariance)
    posterior = np.linalg.inv(design.T @ r_inv @ design + prior_precision)
    y = model.y[rows, cols]
    return posterior @ design.T @ r_inv @ y, posterior


@pytest.mark.parametrize("sampler", ["joint", "pcg"])
def test_joint_route_draws_the_dense_posterior_of_the_effects_with_missing_traits(two_traits, sampler):
    model = bg.Model(
        two_traits, TRAITS, [bg.Fixed(), bg.Random("grp", prior=G_FIXED)], sigma2_e=R_FIXED, sampler=sampler
    )
    mean, covariance = dense_posterior(model)
    gibbs = Gibbs(model)
    rng = np.random.default_rng(3)
    chain = gibbs.init(rng)
    draws = []
    for _ in range(4000):
        gibbs.step(rng, chain)
        draws.append(np.concatenate([chain.states[0]["beta"].ravel(), chain.states[1]["u"].ravel()]))
    draws = np.array(draws)  # independent draws: the effects are redrawn jointly each iteration
    z = (draws.mean(axis=0) - mean) / np.sqrt(np.diag(covariance) / draws.shape[0])
    assert np.abs(z).max() < 4.0, z
    np.testing.assert_allclose(draws.var(axis=0, ddof=1), np.diag(covariance), rtol=0.12)


def dense_restricted_loglik(model, g, r):
    """-0.5 (log|V| + log|X'V^-1X| + y'Py) of the observed traits (flat beta), g and r the covariances."""
    fixed, random = model.terms[0], model.terms[1]
    x, z = fixed.design().toarray(), random.design().toarray()
    rows, cols = np.nonzero(model.observed)
    xo = np.vstack([np.kron(x[r], np.eye(2)[k]) for r, k in zip(rows, cols)])
    zo = np.vstack([np.kron(z[r], np.eye(2)[k]) for r, k in zip(rows, cols)])
    v = zo @ np.kron(np.eye(z.shape[1]), g) @ zo.T
    for a, (r1, k1) in enumerate(zip(rows, cols)):
        for b, (r2, k2) in enumerate(zip(rows, cols)):
            if r1 == r2:
                v[a, b] += r[k1, k2]
    y = model.y[rows, cols]
    vi = np.linalg.inv(v)
    xvx = xo.T @ vi @ xo
    p = vi - vi @ xo @ np.linalg.solve(xvx, xo.T @ vi)
    return -0.5 * (np.linalg.slogdet(v)[1] + np.linalg.slogdet(xvx)[1] + y @ p @ y)


def test_collapsed_target_is_the_restricted_likelihood_of_the_observed_traits(two_traits):
    g_prior, r_prior = InverseWishart(6.0, np.eye(2) * 3.0), HuangWand(4.0, [1.0, 0.8])
    model = bg.Model(
        two_traits, TRAITS, [bg.Fixed(), bg.Random("grp", prior=g_prior)], sigma2_e=r_prior, sampler="collapsed"
    )
    (block,) = [b for b in model.blocks if isinstance(b, CollapsedLocations)]
    assert block.dim == 6 and block.owns_residual_covariance
    chain = Gibbs(model).init(np.random.default_rng(1))
    cross = block.mme.cross_products(np.nan_to_num(model.y))
    factor = block.symbolic.copy()
    packing = CovarianceParametrisation(g_prior, 2)
    differences = []
    for g, r in [
        (G_FIXED, R_FIXED),
        (np.array([[2.0, 0.9], [0.9, 0.6]]), np.array([[0.3, -0.1], [-0.1, 1.4]])),
        (np.array([[0.1, 0.0], [0.0, 0.2]]), np.eye(2)),
    ]:
        phi = np.concatenate([packing.pack(g), packing.pack(r)])
        target = block.log_target(phi, chain.states, factor, cross)
        expected = (
            dense_restricted_loglik(model, g, r)
            + g_prior.log_density(g)
            + r_prior.log_density(r)
            + packing.log_jacobian(phi[:3])
            + packing.log_jacobian(phi[3:])
        )
        differences.append(target - expected)
    np.testing.assert_allclose(differences, differences[0], atol=1e-8)


def test_log_cholesky_jacobian_is_the_determinant_of_the_map():
    """The packing's log-Jacobian against a finite-difference determinant of phi -> vech(Sigma)."""
    packing = CovarianceParametrisation(InverseWishart(5.0, np.eye(3)), 3)
    phi = np.array([0.3, -0.4, 0.1, 0.7, 0.2, -0.5])
    rows, cols = np.tril_indices(3)

    def vech(p):
        return packing.unpack(p, None)[rows, cols]

    step = 1e-6
    jacobian = np.column_stack([(vech(phi + step * e) - vech(phi - step * e)) / (2 * step) for e in np.eye(6)])
    np.testing.assert_allclose(packing.log_jacobian(phi), np.log(abs(np.linalg.det(jacobian))), rtol=1e-6)


# ---------------------------------------------------------------------- statistical: Geweke
N_MARGINAL = 4000
CHAINS, N_SUCCESSIVE, BURN = 16, 10000, 200  # 16 chains x 625 iterations after a burn-in of 200 each


def strong_iw():
    return InverseWishart(12.0, 6.0 * np.array([[1.0, 0.6], [0.6, 1.0]]))


def covariance_prior(kind):
    return HuangWand(14.0, [0.8, 0.6]) if kind == "huang-wand" else InverseWishart(14.0, [[6.0, 1.5], [1.5, 4.0]])


@pytest.mark.statistical
@pytest.mark.parametrize(
    "sampler,prior",
    [
        ("joint", "huang-wand"),
        ("joint", "iw"),
        ("pcg", "huang-wand"),
        ("collapsed", "huang-wand"),
        ("single-site", "huang-wand"),
    ],
)
def test_geweke_several_traits_with_missing_ones(two_traits, sampler, prior):
    """Fixed (normal prior) and an iid term for two traits with three missingness patterns; single-site
    runs the GL(2) group move of the iid term after its sweep. The collapsed block has 6 covariance
    parameters: its engine is HMC (``bayesgen.sampler.collapsed.HIGH_DIMENSION_ENGINE``)."""
    model = bg.Model(
        two_traits, TRAITS, [bg.Random("grp", prior=covariance_prior(prior))], sigma2_e=strong_iw(), sampler=sampler
    )
    if sampler == "single-site":
        assert "group move" in [b["block"] for b in model.describe()["sampler"]]
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, burn=BURN, n_chains=CHAINS, seed=11)
    print(result)
    assert result.passed, str(result)


#: The Metropolis engine's test: 64 chains (16 left its chain means' error too noisy), each as long as above.
METROPOLIS_CHAINS = 64


def huang_wand_two_traits(two_traits, sampler):
    """The several-trait test's model under the HuangWand prior (the planted-error tests' model)."""
    return bg.Model(
        two_traits,
        TRAITS,
        [bg.Random("grp", prior=covariance_prior("huang-wand"))],
        sigma2_e=strong_iw(),
        sampler=sampler,
    )


def metropolis_engine_model(two_traits, monkeypatch):
    import bayesgen.sampler.collapsed as collapsed_module

    monkeypatch.setattr(collapsed_module, "HIGH_DIMENSION_ENGINE", "metropolis")
    model = huang_wand_two_traits(two_traits, "collapsed")
    assert "Metropolis" in type(model.blocks[0].engine).__name__
    return model


def metropolis_geweke(model):
    return geweke_test(
        model,
        n_marginal=4 * N_MARGINAL,
        n_successive=METROPOLIS_CHAINS * (N_SUCCESSIVE // CHAINS),
        burn=BURN,
        n_chains=METROPOLIS_CHAINS,
        seed=11,
    )


@pytest.mark.statistical
def test_geweke_several_traits_collapsed_under_inverse_wishart(two_traits):
    """The collapsed route (HMC) under inverse-Wishart priors, run as the Metropolis engine's test is:
    64 chains and 4 x the marginal draws. With 16 chains it failed at this seed (max |z| 5.12, on
    E[grp[1,0]], a location effect's mean; seed 12 passed at 1.97, 2026-12-06); the same seed with 32
    chains of the same length (the first 16 the same chains) gave 3.76 against 3.95, and with 64
    chains 2.52 against 3.73 (E[grp[1,0]] 1.87, 2026-12-07). So that effect's chain means are
    heavy-tailed (some chains stay long in one region) and 16 chains understate its error: slow
    mixing, not a wrong conditional, on this evidence."""
    model = bg.Model(
        two_traits, TRAITS, [bg.Random("grp", prior=covariance_prior("iw"))], sigma2_e=strong_iw(), sampler="collapsed"
    )
    result = metropolis_geweke(model)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_several_traits_metropolis_engine(two_traits, monkeypatch):
    """The collapsed block's optional Metropolis engine for many covariance parameters
    (``HIGH_DIMENSION_ENGINE = "metropolis"``), adaptation frozen after burn-in. With adaptation
    going on through the kept draws it failed this test (max |z| 5.83, second moments of the
    covariances low), 2026-12-07."""
    result = metropolis_geweke(metropolis_engine_model(two_traits, monkeypatch))
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_in_the_metropolis_engine_fails(two_traits, monkeypatch):
    """A planted error: the independence proposal accepted without its Hastings ratio q(x)/q(y)."""
    from bayesgen.sampler.variance_step import VarianceMetropolis

    monkeypatch.setattr(VarianceMetropolis, "_log_q", lambda self, x, state: 0.0)
    result = metropolis_geweke(metropolis_engine_model(two_traits, monkeypatch))
    print(result)
    assert not result.passed, str(result)


@pytest.mark.statistical
@pytest.mark.parametrize("sampler", ["joint", "pcg", "collapsed"])
def test_geweke_a_location_term_of_the_test_file(one_trait, sampler):
    model = bg.Model(
        one_trait, "y", [bg.Fixed(prior=0.25), known_term()], sigma2_e=bg.ScaledInvChi2(12.0, 0.5), sampler=sampler
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, burn=BURN, n_chains=CHAINS, seed=12)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_in_the_missing_trait_equations_fails(two_traits, monkeypatch):
    """A planted error: each pattern's precision taken from the whole R^-1 (its observed block of
    R^-1 instead of (R_oo)^-1), as if the missing traits were data at the mean."""
    from bayesgen.sampler.mme import MixedModelEquations

    def wrong(self, residual_covariance):
        inverse = np.linalg.inv(residual_covariance)
        out = []
        for p in self.patterns:
            q = np.zeros_like(inverse)
            q[np.ix_(p.observed, p.observed)] = inverse[np.ix_(p.observed, p.observed)]
            r_oo = residual_covariance[np.ix_(p.observed, p.observed)]
            out.append((q, float(np.linalg.slogdet(r_oo)[1])))
        return out

    monkeypatch.setattr(MixedModelEquations, "pattern_precisions", wrong)
    model = bg.Model(
        two_traits, TRAITS, [bg.Random("grp", prior=covariance_prior("iw"))], sigma2_e=strong_iw(), sampler="joint"
    )
    result = geweke_test(
        model, n_marginal=N_MARGINAL, n_successive=2 * N_SUCCESSIVE, burn=BURN, n_chains=2 * CHAINS, seed=11
    )
    print(result)
    assert not result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_in_the_collapsed_residual_jacobian_fails(two_traits, monkeypatch):
    """A planted error: the log-Cholesky parameters of R and G without the Jacobian of Sigma = LL'
    (the target then is the posterior density of the parameters as if they were the covariance)."""
    correct = CovarianceParametrisation.log_jacobian

    def wrong(self, phi):
        return 0.0 if self.kind == "log-cholesky" else correct(self, phi)

    monkeypatch.setattr(CovarianceParametrisation, "log_jacobian", wrong)
    model = bg.Model(
        two_traits, TRAITS, [bg.Random("grp", prior=covariance_prior("iw"))], sigma2_e=strong_iw(), sampler="collapsed"
    )
    result = geweke_test(
        model, n_marginal=N_MARGINAL, n_successive=2 * N_SUCCESSIVE, burn=BURN, n_chains=2 * CHAINS, seed=11
    )
    print(result)
    assert not result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_in_the_hamiltonian_step_fails(two_traits, monkeypatch):
    """A planted error: momenta drawn from N(0, I) while the kinetic energy and the drift use the
    metric M^-1 (the Laplace approximation's covariance), so the Hamiltonian step no longer keeps
    its target. Its trajectory length is adapted in warm-up (``bayesgen.sampler.hmc``): the
    several-trait test above runs that adaptation (200 warm-up iterations per chain)."""
    from bayesgen.sampler.hmc import HamiltonianStep

    original = HamiltonianStep._set_metric

    def wrong(self, state, inverse_metric):
        original(self, state, inverse_metric)
        state["metric_chol"] = np.eye(self.dim)

    monkeypatch.setattr(HamiltonianStep, "_set_metric", wrong)
    model = huang_wand_two_traits(two_traits, "collapsed")
    assert type(model.blocks[0].engine) is HamiltonianStep
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, burn=BURN, n_chains=CHAINS, seed=11)
    print(result)
    assert not result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_in_the_group_move_fails(two_traits, monkeypatch):
    """A planted error: the GL(2) move without the |det M| of its Haar measure and Jacobian."""
    from bayesgen.terms.location import LocationGroupAction

    original = LocationGroupAction.__init__

    def init(self, term, kind=None):
        original(self, term, kind)
        self._power = 4 if self.kind == "full" else self._power

    monkeypatch.setattr(LocationGroupAction, "__init__", init)
    model = huang_wand_two_traits(two_traits, "single-site")
    result = geweke_test(
        model, n_marginal=N_MARGINAL, n_successive=2 * N_SUCCESSIVE, burn=BURN, n_chains=2 * CHAINS, seed=11
    )
    print(result)
    assert not result.passed, str(result)
