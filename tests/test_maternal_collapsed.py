"""The direct-maternal term inside the joint and collapsed location blocks.

Quick tests: the collapsed target (restricted likelihood x priors x Jacobian of the
log-Cholesky parameters of G) equals, up to a constant, the dense REML likelihood of
y ~ N(Xb, Z_d A Z_d' g_dd + ... + sigma2_e I) at several parameter values (exact, to 1e-8);
the design [Z_d Z_m]; which block the term joins. Statistical (``-m statistical``): Geweke
joint-distribution tests of ``sampler="collapsed"`` and ``sampler="joint"`` with the maternal
term in the block, and a planted error (a wrong Jacobian of G's parameters) that must fail.
"""

import numpy as np
import pytest
from geweke import geweke_test

import bayesgen as bg
from bayesgen.priors import HuangWand, InverseWishart
from bayesgen.sampler import Gibbs
from bayesgen.sampler.collapsed import CollapsedLocations
from bayesgen.sampler.joint import JointLocations
from bayesgen.sampler.parametrisation import CovarianceParametrisation


@pytest.fixture(scope="module")
def population():
    """50 animals, 40 with records; the first two records have an unknown dam, the next two
    a missing phenotype."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=10, seed=11)
    ped_frame = sim.pedigree.set_index("id")
    data = sim.phenotypes[["id", "y"]].copy().reset_index(drop=True)
    data["dam"] = [ped_frame.loc[a, "dam"] for a in data["id"]]
    data.loc[:1, "dam"] = np.nan
    data.loc[2:3, "y"] = np.nan
    data["pe"] = data["dam"].fillna("none")
    return data, sim.pedigree_object()


def g_prior():
    return InverseWishart(14.0, np.array([[0.5, -0.15], [-0.15, 0.4]]) * 11.0)


def residual_prior():
    return bg.ScaledInvChi2(df=12.0, scale=0.5)


def geweke_model(data, pedigree, sampler, variance):
    return bg.Model(
        data,
        "y",
        [
            bg.Fixed(prior=0.25),
            bg.Animal("id", pedigree, maternal="dam", prior=variance),
            bg.Random("pe", prior=residual_prior()),
        ],
        sigma2_e=residual_prior(),
        sampler=sampler,
    )


def collapsed_block(model):
    return next(b for b in model.blocks if isinstance(b, CollapsedLocations))


# ---------------------------------------------------------------------- quick
def test_design_has_direct_and_maternal_columns_per_animal(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam")])
    term = model.terms[1]
    z = term.design().toarray()
    q = term.n_levels
    assert z.shape == (len(data), 2 * q)
    u = np.random.default_rng(0).standard_normal((q, 2))
    state = {"u": u}
    # columns (animal, effect): animal i's direct effect at 2i, its maternal effect at 2i + 1
    np.testing.assert_array_equal(z @ u.ravel(), term.fitted(state)[:, 0])
    assert z[:2, 1::2].sum() == 0  # unknown dams: no maternal column


def test_auto_puts_the_term_in_the_collapsed_block(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam"), bg.Random("pe")])
    block = collapsed_block(model)
    assert [t.name for t in block.terms] == [t.name for t in model.terms[:3]]
    assert block.dim == 3 + 1 + 1  # G (log-Cholesky), sigma2_pe, sigma2_e
    single = bg.Model(
        data, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam"), bg.Random("pe")], sampler="single-site"
    )
    assert not any(isinstance(b, JointLocations) for b in single.blocks)


def dense_restricted_loglik(model, g, sigma2_pe, sigma2_e):
    """-0.5 (log|V| + log|X'V^-1X| + y'Py) over the observed records (flat prior on the intercept)."""
    term, pe = model.terms[1], model.terms[2]
    observed = model._observed_matrix[:, 0]
    y = np.nan_to_num(model.y)[observed]
    x = model.terms[0].x[observed]
    z = term.design().toarray()[observed]
    q = term.n_levels
    a = np.linalg.inv(term.level_precision().toarray())
    cov = np.kron(a, g)  # effects ordered (animal, effect)
    zp = pe.design().toarray()[observed]
    v = z @ cov @ z.T + sigma2_pe * zp @ zp.T + sigma2_e * np.eye(y.size)
    vi = np.linalg.inv(v)
    xvx = x.T @ vi @ x
    p = vi - vi @ x @ np.linalg.solve(xvx, x.T @ vi)
    assert q == len(model.terms[1].levels)
    return -0.5 * (np.linalg.slogdet(v)[1] + np.linalg.slogdet(xvx)[1] + y @ p @ y)


def test_collapsed_target_is_the_restricted_likelihood_times_priors(population):
    data, pedigree = population
    model = bg.Model(
        data,
        "y",
        [
            bg.Fixed(),
            bg.Animal("id", pedigree, maternal="dam", prior=g_prior()),
            bg.Random("pe", prior=residual_prior()),
        ],
        sigma2_e=residual_prior(),
        sampler="collapsed",
    )
    block = collapsed_block(model)
    gibbs = Gibbs(model)
    chain = gibbs.init(np.random.default_rng(1))
    states = chain.states
    partial = np.nan_to_num(model.y)[:, None]
    cross = block.mme.cross_products(partial)
    factor = block.symbolic.copy()
    points = [
        (np.array([[0.5, -0.1], [-0.1, 0.3]]), 0.2, 0.7),
        (np.array([[1.5, 0.4], [0.4, 0.2]]), 0.05, 1.3),
        (np.array([[0.2, 0.0], [0.0, 0.9]]), 0.6, 0.4),
    ]
    differences = []
    for g, sigma2_pe, sigma2_e in points:
        chol = np.linalg.cholesky(g)
        phi = np.array([np.log(chol[0, 0]), chol[1, 0], np.log(chol[1, 1]), np.log(sigma2_pe), np.log(sigma2_e)])
        target = block.log_target(phi, states, factor, cross)
        expected = (
            dense_restricted_loglik(model, g, sigma2_pe, sigma2_e)
            + g_prior().log_density(g)
            + residual_prior().log_density(np.array([[sigma2_pe]]))
            + residual_prior().log_density(np.array([[sigma2_e]]))
            + 3 * phi[0]
            + 2 * phi[2]
            + phi[3]
            + phi[4]
        )  # Jacobians of G and the log-variances
        differences.append(target - expected)
    np.testing.assert_allclose(differences, differences[0], atol=1e-8)


def test_joint_sampler_runs_the_term_with_its_variance_and_move(population):
    data, pedigree = population
    model = geweke_model(data, pedigree, "joint", g_prior())
    assert any(isinstance(b, JointLocations) and not isinstance(b, CollapsedLocations) for b in model.blocks)
    idata = model.sample(draws=30, burn=10, chains=1, seed=3, progress=False, check_convergence=False)
    assert np.isfinite(idata.posterior["sigma2_a"].values).all()
    assert "rescale_accept_animal" in idata.sample_stats


# ---------------------------------------------------------------------- statistical
N_MARGINAL = 4000
N_SUCCESSIVE = 6000
#: the planted error's z grows as sqrt(iterations): 7.35 at 10,000 (threshold 3.57)
N_SUCCESSIVE_PLANTED = 10000


@pytest.mark.statistical
@pytest.mark.parametrize("sampler,prior", [("collapsed", "iw"), ("collapsed", "huang-wand"), ("joint", "iw")])
def test_geweke(population, sampler, prior):
    data, pedigree = population
    variance = g_prior() if prior == "iw" else HuangWand(12.0, (0.7, 0.6))
    result = geweke_test(
        geweke_model(data, pedigree, sampler, variance), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5
    )
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_planted_error_fails(population, monkeypatch):
    """A Jacobian of G's log-Cholesky parameters missing one factor e^a (2a + 2c for 3a + 2c)."""
    correct = CovarianceParametrisation.log_jacobian

    def wrong(self, phi):
        return correct(self, phi) - (phi[0] if self.kind == "log-cholesky" else 0.0)

    monkeypatch.setattr(CovarianceParametrisation, "log_jacobian", wrong)
    data, pedigree = population
    result = geweke_test(
        geweke_model(data, pedigree, "collapsed", g_prior()),
        n_marginal=N_MARGINAL,
        n_successive=N_SUCCESSIVE_PLANTED,
        seed=5,
    )
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.0 * result.threshold, str(result)
    worst = result.table["z"].abs().idxmax()
    assert "sigma2_a" in worst or "rho" in worst or "h2" in worst, str(result)
