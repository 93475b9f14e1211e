"""The direct-maternal animal model ``bg.Animal(column, pedigree, maternal=dam_column)``.

Quick tests: the design (a record gets a_d[animal] + a_m[dam]; none for an unknown dam),
what is recorded (G with effect coords, rho, h2 as the direct heritability, Willham's total
heritability), one test per error message, and the exact Gaussian posterior of the effects
with G and sigma2_e fixed (both the single-site and the joint route, within 4 MCSE).
Statistical tests (``-m statistical``): Geweke joint-distribution tests of both routes and of
the GL(2) move with two priors, a planted error that must fail, coverage of the posterior
intervals over 36 simulated populations (rho = -0.3), and gryphon's bwt end to end.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean, z_within
from geweke import geweke_test
from scipy.stats import binomtest

import bayesgen as bg
from bayesgen.priors import HuangWand, InverseWishart
from bayesgen.sampler import Gibbs
from bayesgen.terms.maternal import MaternalAnimal, total_heritability

G_FIXED = np.array([[0.5, -0.15], [-0.15, 0.3]])
SIGMA2_E = 0.8


@pytest.fixture(scope="module")
def population():
    """50 animals (10 founders), 40 with records; the records' dam is the pedigree dam; the
    first two records have an unknown dam, the next two a missing phenotype."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=10, seed=11)
    ped_frame = sim.pedigree.set_index("id")
    data = sim.phenotypes[["id", "y"]].copy().reset_index(drop=True)
    data["dam"] = [ped_frame.loc[a, "dam"] for a in data["id"]]
    data.loc[:1, "dam"] = np.nan
    data.loc[2:3, "y"] = np.nan
    return data, sim.pedigree_object()


def fixed_model(data, pedigree, joint=False):
    """Single-site 2 x 2 sweeps, or (joint=True) every effect in one block of the mixed-model equations."""
    return bg.Model(
        data,
        "y",
        [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam", prior=G_FIXED)],
        sigma2_e=SIGMA2_E,
        sampler="joint" if joint else "single-site",
    )


# ---------------------------------------------------------------------- construction and design
def test_animal_with_maternal_builds_the_direct_maternal_term(population):
    data, pedigree = population
    term = bg.Animal("id", pedigree, maternal="dam")
    assert term.coefficient_names == ["direct", "maternal"] and term.maternal == "dam"
    assert bg.Animal("id", pedigree).coefficient_names == [None]
    positional = bg.Animal("id", pedigree, None, "animal", False, maternal="dam")
    assert positional.coefficient_names == ["direct", "maternal"]
    assert positional.expand is False  # expand is kept (it was dropped silently before)
    assert MaternalAnimal("id", pedigree, maternal="dam").coefficient_names == ["direct", "maternal"]


def test_record_gets_direct_effect_plus_dams_maternal_effect(population):
    data, pedigree = population
    model = fixed_model(data, pedigree)
    term = model.terms[1]
    rng = np.random.default_rng(0)
    state = term.init_state(rng)
    state["u"][:] = rng.standard_normal(state["u"].shape)
    fit = term.fitted(state)[:, 0]
    ids = list(pedigree.ids)
    for r, (animal, dam) in enumerate(zip(data["id"], data["dam"])):
        expected = state["u"][ids.index(animal), 0]
        if not pd.isna(dam):
            expected += state["u"][ids.index(dam), 1]
        assert fit[r] == expected
    assert fit[0] == state["u"][ids.index(data["id"][0]), 0]  # unknown dam: no maternal effect


def test_recorded_variables_and_heritabilities(population):
    data, pedigree = population
    data = data.assign(pe=data["dam"].fillna("none"))
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam"), bg.Random("pe")])
    names = {v.name: v for v in model.variables()}
    assert names["u"].dims == ("animal", "effect") and names["u"].coords["effect"] == ["direct", "maternal"]
    assert names["sigma2_a"].dims == ("effect_row", "effect_col")
    assert names["rho_animal"].dims == ()
    gibbs = Gibbs(model)
    rng = np.random.default_rng(3)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    values = gibbs.record(chain)
    g = values[("posterior", "sigma2_a")]
    total = g[0, 0] + g[0, 1] + g[1, 1] + values[("posterior", "sigma2_pe")] + values[("posterior", "sigma2_e")]
    assert values[("posterior", "h2")] == pytest.approx(g[0, 0] / total, rel=1e-12)
    assert values[("posterior", "rho_animal")] == pytest.approx(g[0, 1] / np.sqrt(g[0, 0] * g[1, 1]), rel=1e-12)


def test_total_heritability_is_willhams_formula(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam")])
    idata = model.sample(draws=5, burn=2, chains=1, seed=1, progress=False, check_convergence=False)
    g = idata.posterior["sigma2_a"].values[0]
    sigma2_e = idata.posterior["sigma2_e"].values[0]
    phenotypic = g[:, 0, 0] + g[:, 0, 1] + g[:, 1, 1] + sigma2_e
    expected = (g[:, 0, 0] + 1.5 * g[:, 0, 1] + 0.5 * g[:, 1, 1]) / phenotypic
    np.testing.assert_allclose(total_heritability(idata).values[0], expected, rtol=1e-10)
    np.testing.assert_allclose(idata.posterior["h2"].values[0], g[:, 0, 0] / phenotypic, rtol=1e-10)
    assert list(idata.posterior["sigma2_a"].coords["effect_row"].values) == ["direct", "maternal"]


def test_named_term_and_inputs_untouched(population):
    data, pedigree = population
    before = data.copy()
    term = bg.Animal("id", pedigree, maternal="dam", name="gen")
    model = bg.Model(data, "y", [term])
    pd.testing.assert_frame_equal(data, before)
    assert not hasattr(term, "levels")  # the user's term is not bound
    names = [v.name for v in model.variables()]
    assert {"gen", "sigma2_gen", "rho_gen"} <= set(names)
    assert model.describe()["terms"][0]["maternal"] == "dam"


# ---------------------------------------------------------------------- errors
def test_error_maternal_column_missing(population):
    data, pedigree = population
    with pytest.raises(ValueError, match=r"maternal \(dam\) column 'mother'.*not in data"):
        bg.Model(data, "y", [bg.Animal("id", pedigree, maternal="mother")])


def test_error_dams_not_in_pedigree(population):
    data, pedigree = population
    bad = data.copy()
    bad.loc[5, "dam"] = "X999"
    bad.loc[6, "dam"] = "X998"
    with pytest.raises(ValueError, match=r"Dams in column 'dam' not found in the pedigree: .*X999.*X998"):
        bg.Model(bad, "y", [bg.Animal("id", pedigree, maternal="dam")])


def test_error_animals_not_in_pedigree(population):
    data, pedigree = population
    bad = data.copy()
    bad.loc[7, "id"] = "Z1"
    with pytest.raises(ValueError, match=r"Animals in column 'id' not found in the pedigree: .*Z1"):
        bg.Model(bad, "y", [bg.Animal("id", pedigree, maternal="dam")])


def test_error_missing_animal_id(population):
    data, pedigree = population
    bad = data.copy()
    bad.loc[8, "id"] = None
    with pytest.raises(ValueError, match=r"Column 'id' has missing animal ids in rows \[?8"):
        bg.Model(bad, "y", [bg.Animal("id", pedigree, maternal="dam")])


def test_error_animal_is_its_own_dam(population):
    data, pedigree = population
    bad = data.copy()
    bad.loc[9, "dam"] = bad.loc[9, "id"]
    with pytest.raises(ValueError, match=r"Rows \[?9.*own dam in column 'dam'"):
        bg.Model(bad, "y", [bg.Animal("id", pedigree, maternal="dam")])


def test_error_no_known_dam(population):
    data, pedigree = population
    with pytest.raises(ValueError, match=r"Column 'dam' has no known dam"):
        bg.Model(data.assign(dam=0), "y", [bg.Animal("id", pedigree, maternal="dam")])


def test_error_several_traits(population):
    data, pedigree = population
    with pytest.raises(ValueError, match=r"maternal='dam'\) fits one trait; the model has 2 \(y, y2\)"):
        bg.Model(data.assign(y2=data["y"] * 2 + 1), ["y", "y2"], [bg.Animal("id", pedigree, maternal="dam")])


def test_error_maternal_is_animal_column(population):
    _, pedigree = population
    with pytest.raises(ValueError, match=r"maternal='id' is the animal column itself"):
        bg.Animal("id", pedigree, maternal="id")


def test_error_maternal_not_a_column_name(population):
    _, pedigree = population
    with pytest.raises(TypeError, match=r"maternal must be the name of the column .* got 3"):
        bg.Animal("id", pedigree, maternal=3)


def test_error_prior_of_wrong_dimension(population):
    data, pedigree = population
    with pytest.raises(ValueError, match=r"prior for sigma2_a is 1 x 1 but sigma2_a is 2 x 2"):
        bg.Model(data, "y", [bg.Animal("id", pedigree, maternal="dam", prior=bg.ScaledInvChi2(5, 1.0))])


def test_error_pedigree_type(population):
    with pytest.raises(TypeError, match=r"pedigree must be a bayesgen.Pedigree, got DataFrame"):
        bg.Animal("id", pd.DataFrame(), maternal="dam")


@pytest.mark.parametrize("idata", [None, {"posterior": 1}])
def test_total_heritability_error_not_inference_data(idata):
    """Issue 16 item 10: total_heritability(None) raised an AttributeError."""
    with pytest.raises(
        TypeError,
        match=r"idata must be an arviz\.InferenceData with a posterior group \(from "
        r"model\.sample\(\) on a direct-maternal model\), got (NoneType|dict)",
    ):
        total_heritability(idata)


def test_total_heritability_error_without_maternal_term(population):
    data, pedigree = population
    idata = bg.Model(data, "y", [bg.Animal("id", pedigree)]).sample(
        draws=3, burn=1, chains=1, seed=1, progress=False, check_convergence=False
    )
    with pytest.raises(ValueError, match=r"'sigma2_a' has dims .* not the G matrix of a direct-maternal term"):
        total_heritability(idata)
    with pytest.raises(ValueError, match=r"needs 'sigma2_x' and 'h2'"):
        total_heritability(idata, name="x")


# ---------------------------------------------------------------------- exact conditional posterior
def closed_form(data, pedigree):
    """Posterior mean and sd of (a_d, a_m) per animal with G, sigma2_e fixed and a flat intercept."""
    observed = data["y"].notna().to_numpy()
    d = data[observed]
    ids = list(pedigree.ids)
    q = len(ids)
    z = np.zeros((len(d), 2 * q))
    for r, (animal, dam) in enumerate(zip(d["id"], d["dam"])):
        z[r, 2 * ids.index(animal)] = 1.0
        if not pd.isna(dam):
            z[r, 2 * ids.index(dam) + 1] = 1.0
    a = pedigree.relationship().loc[ids, ids].to_numpy()
    k = np.kron(a, G_FIXED)  # interleaved (direct, maternal) per animal
    v = z @ k @ z.T + SIGMA2_E * np.eye(len(d))
    vi = np.linalg.inv(v)
    x = np.ones((len(d), 1))
    p = vi - vi @ x @ np.linalg.solve(x.T @ vi @ x, x.T @ vi)
    mean = k @ z.T @ p @ d["y"].to_numpy()
    cov = k - k @ z.T @ p @ z @ k
    return mean.reshape(q, 2), np.sqrt(np.diag(cov)).reshape(q, 2)


@pytest.mark.parametrize("joint", [False, True])
def test_effects_match_the_closed_form_posterior(population, joint):
    data, pedigree = population
    mean, sd = closed_form(data, pedigree)
    idata = fixed_model(data, pedigree, joint).sample(
        draws=1500, burn=100, chains=2, seed=4, progress=False, check_convergence=False
    )
    draws = idata.posterior["u"].values  # chain, draw, animal, effect
    for e in (0, 1):
        for k in range(0, len(pedigree), 7):
            ok, z = z_within(draws[:, :, k, e].mean(), mean[k, e], mcse_mean(draws[:, :, k, e]))
            assert ok, (e, k, z)
    # the posterior sds too (to 10%: 3000 draws, sd estimated to ~2%)
    np.testing.assert_allclose(draws.reshape(-1, len(pedigree), 2).std(axis=0), sd, rtol=0.1)


# ---------------------------------------------------------------------- statistical
N_MARGINAL = 4000
N_SUCCESSIVE = 12000


def residual_prior():
    return bg.ScaledInvChi2(df=12.0, scale=0.5)


def g_prior():
    # df = 14: moments of G up to the fourth are finite (the squares' z-tests need their variance).
    return InverseWishart(14.0, np.array([[0.5, -0.15], [-0.15, 0.4]]) * 11.0)


@pytest.mark.statistical
@pytest.mark.parametrize("sampler,prior", [("single-site", "iw"), ("joint", "huang-wand")])
def test_geweke(population, sampler, prior):
    data, pedigree = population
    data = data.assign(pe=data["dam"].fillna("none"))
    variance = g_prior() if prior == "iw" else HuangWand(12.0, (0.7, 0.6))
    model = bg.Model(
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
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=2)
    print(result)
    assert result.passed, str(result)


class WrongDegreesOfFreedom(InverseWishart):
    """Planted error: G's conjugate update counting four effects too many."""

    def draw_posterior(self, rng, sum_squares, count, aux=None):
        return super().draw_posterior(rng, sum_squares, count + 4, aux)


@pytest.mark.statistical
def test_planted_error_fails(population):
    data, pedigree = population
    wrong = WrongDegreesOfFreedom(g_prior().df, g_prior().scale)
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, maternal="dam", prior=wrong)],
        sigma2_e=residual_prior(),
        sampler="single-site",
    )  # the term's own G update
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=2)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.0 * result.threshold, str(result)
    worst = result.table["z"].abs().idxmax()
    assert "sigma2_a" in worst, str(result)


# ---------------------------------------------------------------------- recovery over replications
TRUE_G = np.array([[0.4, -0.3 * np.sqrt(0.4 * 0.3)], [-0.3 * np.sqrt(0.4 * 0.3), 0.3]])
TRUE_SIGMA2_E = 0.5


def simulate_direct_maternal(seed, n_sires=25, n_dams=120, litter=3, g=TRUE_G, sigma2_e=TRUE_SIGMA2_E):
    """Three generations: founders without records; each dam has ``litter`` offspring by a random
    sire; generation-1 daughters are the dams of generation 2. (a_d, a_m) ~ N(0, A (x) G) drawn
    with the Cholesky factor of A; y = 1 + a_d + a_m[dam] + e."""
    rng = np.random.default_rng(seed)
    ids, sires, dams = [], [], []
    males = [f"s0_{k}" for k in range(n_sires)]
    females = [f"d0_{k}" for k in range(n_dams)]
    for a in males + females:
        ids.append(a), sires.append(None), dams.append(None)
    recorded = []
    for generation in (1, 2):
        new_males, new_females = [], []
        for dam in females:
            sire = males[rng.integers(len(males))]
            for _ in range(litter):
                a = f"g{generation}_{len(ids)}"
                ids.append(a), sires.append(sire), dams.append(dam), recorded.append(len(ids) - 1)
                (new_males if rng.random() < 0.5 else new_females).append(a)
        males = list(rng.choice(new_males, size=n_sires, replace=False))
        females = new_females
    pedigree = bg.Pedigree(ids, sires, dams)
    a = pedigree.relationship().loc[ids, ids].to_numpy()
    effects = np.linalg.cholesky(a) @ rng.standard_normal((len(ids), 2)) @ np.linalg.cholesky(g).T
    position = {x: k for k, x in enumerate(ids)}
    y = [
        1.0 + effects[k, 0] + effects[position[dams[k]], 1] + np.sqrt(sigma2_e) * rng.standard_normal()
        for k in recorded
    ]
    data = pd.DataFrame({"animal": [ids[k] for k in recorded], "dam": [dams[k] for k in recorded], "y": y})
    return data, pedigree


N_REPLICATIONS = 36
PROB = 0.9


@pytest.mark.statistical
def test_intervals_cover_the_truth_at_the_nominal_rate():
    """90% central intervals of rho, sigma2_d, sigma2_m and sigma2_e over 36 populations.

    Each count of covering intervals is checked by a two-sided binomial test against 0.9 at
    level 0.01/4 (Bonferroni over the four). With 36 replications the test rejects below 28
    covers (78%) for each; a sampler or prior that shrinks rho to 0 or misplaces a variance
    by a posterior sd would show up below that.
    """
    truth = {"rho": -0.3, "sigma2_d": TRUE_G[0, 0], "sigma2_m": TRUE_G[1, 1], "sigma2_e": TRUE_SIGMA2_E}
    covered = {k: 0 for k in truth}
    for rep in range(N_REPLICATIONS):
        data, pedigree = simulate_direct_maternal(1000 + rep)
        model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("animal", pedigree, maternal="dam")])
        post = model.sample(draws=1000, burn=300, chains=1, seed=rep, progress=False, check_convergence=False).posterior
        draws = {
            "rho": post["rho_animal"].values.ravel(),
            "sigma2_d": post["sigma2_a"].values[..., 0, 0].ravel(),
            "sigma2_m": post["sigma2_a"].values[..., 1, 1].ravel(),
            "sigma2_e": post["sigma2_e"].values.ravel(),
        }
        for key, value in draws.items():
            low, high = np.quantile(value, [(1 - PROB) / 2, (1 + PROB) / 2])
            covered[key] += bool(low <= truth[key] <= high)
    print(covered)
    for key, count in covered.items():
        p = binomtest(count, N_REPLICATIONS, PROB).pvalue
        assert p > 0.01 / len(truth), (key, count, p, covered)


# ---------------------------------------------------------------------- gryphon
@pytest.mark.statistical
def test_gryphon_bwt_direct_maternal(shared_data):
    frame = pd.read_csv(shared_data / "gryphon.csv")
    ped = pd.read_csv(shared_data / "gryphonped.csv")
    pedigree = bg.Pedigree(ped["id"], ped["father"], ped["mother"])
    data = frame.dropna(subset=["bwt"]).reset_index(drop=True)
    data["mother_pe"] = data["mother"].astype(str)
    model = bg.Model(
        data,
        "bwt",
        [
            bg.Fixed(["sex"]),
            bg.Random("byear"),
            bg.Animal("animal", pedigree, maternal="mother"),
            bg.Random("mother_pe"),
        ],
    )
    idata = model.sample(draws=400, burn=200, chains=2, seed=1, progress=False, check_convergence=False)
    post = idata.posterior
    g = post["sigma2_a"].mean(("chain", "draw")).values
    assert np.all(np.isfinite(g)) and g[0, 0] > 0 and g[1, 1] > 0
    assert 0 < float(post["h2"].mean()) < 1
    h2_total = total_heritability(idata)
    assert np.isfinite(h2_total.values).all()
    print(
        "G",
        g,
        "rho",
        float(post["rho_animal"].mean()),
        "h2",
        float(post["h2"].mean()),
        "h2_total",
        float(h2_total.mean()),
    )


def test_maternal_column_of_sires_warns():
    """Issue 16, legal but worth a warning: Animal(..., maternal="sire")."""
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=40, n_markers=0, seed=6)
    data = sim.phenotypes.merge(sim.pedigree[["id", "sire", "dam"]], on="id")
    ped = sim.pedigree_object()
    with pytest.warns(
        UserWarning,
        match=r"Animal\('id', maternal='sire'\): of the \d+ parents in column 'sire', "
        r"\d+ are sires and 0 dams in the pedigree\. A maternal effect",
    ) as record:
        bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", ped, maternal="sire")])
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", ped, maternal="dam")])
