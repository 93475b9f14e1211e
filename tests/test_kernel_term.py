"""The known-covariance term bg.Kernel (u ~ N(0, sigma2 K)) and the bg.GBLUP shortcut.

With the variances fixed, the posterior of u is Gaussian with the closed form of the mixed
model (flat intercept): E(u | y) = s2 K Z' P y and Var(u | y) = s2 K - s2^2 K Z' P Z K, with
V = s2 Z K Z' + s2e I and P = V^-1 - V^-1 X (X' V^-1 X)^-1 X' V^-1 over the observed records.
It holds for a singular K as well, so both routes are checked against it (4 MCSE).
"""

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean, mcse_sd, z_within

import bayesgen as bg

SIGMA2 = 0.6
SIGMA2_E = 1.0


@pytest.fixture(scope="module")
def population():
    """50 animals of a small pedigree, 40 with records (the last 10 are predicted)."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=10, seed=11)
    data = sim.phenotypes[["id", "y"]].iloc[:40].reset_index(drop=True)
    return data, sim.pedigree_object(), sim


def closed_form(data, K: pd.DataFrame):
    """Posterior mean and sd of u for every id of K (dense algebra; flat intercept)."""
    ids = [str(i) for i in K.index]
    z = np.zeros((len(data), len(ids)))
    z[np.arange(len(data)), [ids.index(str(i)) for i in data["id"]]] = 1.0
    k = K.to_numpy()
    v = SIGMA2 * z @ k @ z.T + SIGMA2_E * np.eye(len(data))
    vi = np.linalg.inv(v)
    x = np.ones((len(data), 1))
    p = vi - vi @ x @ np.linalg.solve(x.T @ vi @ x, x.T @ vi)
    y = data["y"].to_numpy()
    mean = SIGMA2 * k @ z.T @ p @ y
    cov = SIGMA2 * k - SIGMA2**2 * k @ z.T @ p @ z @ k
    return mean, np.sqrt(np.clip(np.diag(cov), 0.0, None))


def check_against_closed_form(idata, name, data, K):
    draws = idata.posterior[name].values  # chain, draw, ids
    assert [str(i) for i in idata.posterior[name].coords[f"{name}_level"].values] == [str(i) for i in K.index]
    mean, sd = closed_form(data, K)
    keep = sd > 1e-6  # a direction K does not span has no variance: nothing to test there
    checks = []
    for j in np.flatnonzero(keep):
        d = draws[..., j]
        checks.append((d.mean(), mean[j], mcse_mean(d)))
        checks.append((d.std(ddof=1), sd[j], mcse_sd(d)))
    estimate, truth, mcse = map(np.array, zip(*checks))
    ok, scores = z_within(estimate, truth, mcse)
    assert ok.all(), f"z-scores {np.round(scores, 2)}"


@pytest.mark.parametrize("sampler", ["single-site", "joint"])
def test_precision_route_with_pedigree_A_matches_blup_and_pev(population, sampler):
    data, pedigree, _ = population
    A = pedigree.relationship()
    term = bg.Kernel("id", A, prior=SIGMA2, name="g")
    assert term.route == "precision"
    model = bg.Model(data, "y", [bg.Fixed(), term], sigma2_e=SIGMA2_E, sampler=sampler)
    idata = model.sample(draws=1500, burn=100, chains=2, seed=7, progress=False, check_convergence=False)
    assert (idata.posterior["sigma2_g"].values == SIGMA2).all()
    assert "h2" in idata.posterior  # genetic by default
    check_against_closed_form(idata, "g", data, A)


def test_precision_route_prior_precision_is_the_pedigree_inverse(population):
    _, pedigree, _ = population
    A = pedigree.relationship()
    model = bg.Model(population[0], "y", [bg.Kernel("id", A, prior=1.0)], sigma2_e=1.0)
    term = model.term(bg.Kernel)
    np.testing.assert_allclose(term.precision.toarray(), pedigree.ainv().toarray(), atol=1e-9)


def low_rank_kernel(sim, n_markers=10):
    """K = W W' / p from p < n centred markers: rank at most p - ... < n (rank deficient)."""
    rng = np.random.default_rng(3)
    ids = list(sim.phenotypes["id"])
    w = rng.integers(0, 3, (len(ids), n_markers)).astype(float)
    w -= w.mean(axis=0)
    k = w @ w.T / n_markers
    return pd.DataFrame(k, index=ids, columns=ids)


@pytest.mark.parametrize("sampler", ["single-site", "collapsed"])
def test_eigen_route_on_rank_deficient_K_matches_closed_form(population, sampler):
    data, _, sim = population
    K = low_rank_kernel(sim)
    term = bg.Kernel("id", K, prior=SIGMA2)
    assert term.route == "eigen" and term.rank <= 10
    model = bg.Model(data, "y", [bg.Fixed(), term], sigma2_e=SIGMA2_E, sampler=sampler)
    idata = model.sample(draws=1500, burn=100, chains=2, seed=8, progress=False, check_convergence=False)
    check_against_closed_form(idata, "id", data, K)


def test_routes_agree_on_a_positive_definite_K_with_sampled_variances(population):
    """Both routes target the same posterior: sigma2 and h2 means agree within MC error."""
    data, pedigree, _ = population
    A = pedigree.relationship()
    means = {}
    for route in ("precision", "eigen"):
        model = bg.Model(
            data,
            "y",
            [bg.Fixed(), bg.Kernel("id", A, route=route, prior=bg.ScaledInvChi2(df=6.0, scale=0.5))],
            sigma2_e=bg.ScaledInvChi2(df=6.0, scale=0.5),
            sampler="single-site",
        )
        idata = model.sample(draws=2000, burn=200, chains=2, seed=9, progress=False, check_convergence=False)
        d = idata.posterior["sigma2_id"].values
        means[route] = (d.mean(), mcse_mean(d))
    (m1, s1), (m2, s2) = means.values()
    assert abs(m1 - m2) <= 4 * np.hypot(s1, s2), means


def test_array_with_ids_and_records_as_dataframe(population):
    data, pedigree, _ = population
    A = pedigree.relationship()
    by_array = bg.Kernel("id", A.to_numpy(), ids=list(A.index), prior=1.0)
    by_frame = bg.Kernel("id", A, prior=1.0)
    assert by_array.kernel_ids == by_frame.kernel_ids
    np.testing.assert_allclose(by_array._kernel_precision.toarray(), by_frame._kernel_precision.toarray())


def test_auto_route_and_forced_eigen(population):
    _, pedigree, sim = population
    A = pedigree.relationship()
    assert bg.Kernel("id", A).route == "precision"
    assert bg.Kernel("id", A, route="eigen").route == "eigen"
    assert bg.Kernel("id", A, route="eigen").rank == len(A)
    assert bg.Kernel("id", low_rank_kernel(sim)).route == "eigen"


def test_gblup_uses_the_genomic_relationship_matrix(population):
    data, _, sim = population
    model = bg.GBLUP(data, "y", "id", sim.genotypes, prior=0.5, sigma2_e=1.0)
    term = model.term(bg.Kernel)
    assert term.name == "g" and term.genetic
    assert term.kernel_ids == [str(i) for i in bg.grm(sim.genotypes).index]
    idata = model.sample(draws=20, burn=5, chains=1, seed=1, progress=False, check_convergence=False)
    assert idata.posterior["g"].shape == (1, 20, sim.genotypes.n_individuals)
    assert "h2" in idata.posterior


def test_gblup_eigen_route_defaults_to_single_site_unless_chosen(population):
    data, _, sim = population
    assert bg.GBLUP(data, "y", "id", sim.genotypes).sampler == "single-site"  # G of 10 markers: rank < 50
    assert bg.GBLUP(data, "y", "id", sim.genotypes, sampler="joint").sampler == "joint"


# ---------------------------------------------------------------------- errors
def labelled(matrix, ids=("a", "b", "c")):
    return pd.DataFrame(np.asarray(matrix, float), index=list(ids), columns=list(ids))


GOOD = [[1.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0]]


def test_error_not_square():
    with pytest.raises(ValueError, match=r"square matrix, got shape \(3, 2\)"):
        bg.Kernel("id", np.ones((3, 2)), ids=["a", "b", "c"])


def test_error_not_symmetric():
    k = np.array(GOOD)
    k[0, 2] = 0.3
    with pytest.raises(ValueError, match=r"not symmetric: K\['a', 'c'\] = 0.3 but K\['c', 'a'\] = 0.0"):
        bg.Kernel("id", labelled(k))


def test_error_not_positive_semidefinite():
    with pytest.raises(ValueError, match=r"not positive semi-definite: eigenvalue -1.0 "):
        bg.Kernel("id", labelled([[1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0]]))


def test_error_no_positive_eigenvalue():
    with pytest.raises(ValueError, match="no positive eigenvalue"):
        bg.Kernel("id", labelled(np.zeros((3, 3))))


def test_error_duplicated_ids():
    with pytest.raises(ValueError, match="ids of K"):
        bg.Kernel("id", np.eye(3), ids=["a", "b", "a"])


def test_error_non_finite():
    k = np.array(GOOD)
    k[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 non-finite entries, the first at \('b', 'b'\): nan"):
        bg.Kernel("id", labelled(k))


def test_error_record_ids_not_in_K():
    data = pd.DataFrame({"id": ["a", "b", "zz"], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"Ids in column 'id' not found in K: .*zz"):
        bg.Model(data, "y", [bg.Kernel("id", labelled(GOOD))])


def test_error_array_without_ids():
    with pytest.raises(ValueError, match="an array K needs ids="):
        bg.Kernel("id", np.eye(3))


def test_error_ids_with_a_dataframe():
    with pytest.raises(ValueError, match="give ids only with an array K"):
        bg.Kernel("id", labelled(GOOD), ids=["a", "b", "c"])


def test_error_wrong_number_of_ids():
    with pytest.raises(ValueError, match=r"2 ids given for a 3 x 3 K"):
        bg.Kernel("id", np.eye(3), ids=["a", "b"])


def test_error_index_and_columns_differ():
    k = pd.DataFrame(np.eye(3), index=["a", "b", "c"], columns=["a", "c", "b"])
    with pytest.raises(
        ValueError, match=r"same ids in the same order; they differ at positions .*index 'b', column 'c'"
    ):
        bg.Kernel("id", k)


def test_error_non_numeric():
    with pytest.raises(TypeError, match="K must be a DataFrame or a numeric array"):
        bg.Kernel("id", [["x", "y"], ["z", "w"]], ids=["a", "b"])


def test_error_empty():
    with pytest.raises(ValueError, match=r"K is empty"):
        bg.Kernel("id", np.zeros((0, 0)), ids=[])


def test_error_unknown_route():
    with pytest.raises(ValueError, match=r"route must be one of 'auto', 'precision', 'eigen', got 'svd'"):
        bg.Kernel("id", labelled(GOOD), route="svd")


def test_error_bad_tolerance():
    with pytest.raises(ValueError, match=r"tolerance must be a number in \(0, 1\), got 2"):
        bg.Kernel("id", labelled(GOOD), tolerance=2)


def test_error_precision_route_on_singular_K():
    singular = [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match=r"route='precision' needs a positive definite K"):
        bg.Kernel("id", labelled(singular), route="precision")


def test_user_matrix_not_modified():
    k = labelled(GOOD)
    before = k.copy()
    data = pd.DataFrame({"id": ["a", "b", "c"], "y": [1.0, 2.0, 3.0]})
    bg.Model(data, "y", [bg.Kernel("id", k, route="eigen")]).sample(
        draws=5, burn=1, chains=1, seed=1, progress=False, check_convergence=False
    )
    pd.testing.assert_frame_equal(k, before)


# ---------------------------------------------------------------------- real data
@pytest.mark.statistical
def test_wheat_env1_with_pedigree_kernel_both_routes_agree(shared_data):
    """wheat env1 (599 lines), K = wheat_A (condition number ~2.6e5: precision route by default).

    Measured (4 chains x 1,000 draws after 500, default priors, seed 2026): sigma2_e 0.570,
    sigma2_A 0.285, h2 0.333 (precision route); 0.571, 0.282, 0.330 (eigen route).
    """
    y = pd.read_csv(shared_data / "wheat_Y.csv")[["line_id", "env1"]]
    A = pd.read_csv(shared_data / "wheat_A.csv.gz", index_col=0)
    summaries = {}
    for route in ("auto", "eigen"):
        term = bg.Kernel("line_id", A, route=route, name="A")
        idata = bg.Model(y, "env1", [bg.Fixed(), term]).sample(
            draws=1000, burn=500, chains=4, seed=2026, progress=False, check_convergence=False
        )
        post = idata.posterior
        summaries[term.route] = {k: (float(post[k].mean()), mcse_mean(post[k].values)) for k in ("sigma2_e", "h2")}
        print(term.route, summaries[term.route])
    assert set(summaries) == {"precision", "eigen"}
    for k in ("sigma2_e", "h2"):
        (m1, s1), (m2, s2) = summaries["precision"][k], summaries["eigen"][k]
        assert abs(m1 - m2) <= 4 * np.hypot(s1, s2), (k, summaries)
    assert 0.4 < summaries["eigen"]["sigma2_e"][0] < 0.75  # env1 has unit phenotypic variance
    assert 0.15 < summaries["eigen"]["h2"][0] < 0.5


@pytest.mark.statistical
def test_wheat_env1_gblup_residual_variance_near_bglr_brr(shared_data):
    """GBLUP is BRR in kernel form: BGLR 1.1.5's BRR gives sigma2_e 0.546 on wheat env1.

    Measured (4 chains x 1,000 draws after 500, default priors, seed 2026): 0.544 (sd 0.046).
    The priors differ, so the check allows about one posterior sd.
    """
    y = pd.read_csv(shared_data / "wheat_Y.csv")[["line_id", "env1"]]
    x = pd.read_csv(shared_data / "wheat_X.csv.gz")
    geno = bg.Genotypes(x["line_id"], x.drop(columns=["line_id"]).to_numpy(np.int8), list(x.columns[1:]))
    model = bg.GBLUP(y, "env1", "line_id", geno)
    assert model.term(bg.Kernel).route == "eigen"
    idata = model.sample(draws=1000, burn=500, chains=4, seed=2026, progress=False, check_convergence=False)
    sigma2_e = float(idata.posterior["sigma2_e"].mean())
    print("sigma2_e", sigma2_e)
    assert abs(sigma2_e - 0.546) < 0.045
