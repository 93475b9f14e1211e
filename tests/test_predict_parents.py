"""Model.predict(idata, parents=...): animals born after the fit, from their parents' draws.

Exact checks replay the Mendelian sampling terms from the seed: per draw,
u_new - (u_sire + u_dam)/2 = sqrt(D) L z, L the Cholesky factor of the drawn covariance. The
statistical check compares the route with the one BLUPF90 and JWAS users take: the new animals in
the pedigree at the fit, without records.
"""

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.prediction.parents import new_animals, parent_value_draws


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=30, n_generations=2, n_offspring=60, n_markers=200, seed=3)
    return sim


def _draws(idata, name):
    return idata.posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).values


@pytest.fixture(scope="module")
def animal_fit(population):
    model = bg.Model(population.phenotypes, "y", [bg.Fixed("sex"), bg.Animal("id", population.pedigree_object())])
    idata = model.sample(draws=60, chains=2, seed=5, progress=False, check_convergence=False)
    return model, idata


def test_one_new_animal_replays_its_mendelian_sampling_exactly(population, animal_fit):
    model, idata = animal_fit
    ids = list(population.pedigree["id"])
    sire, dam = ids[-1], ids[-2]
    out = model.predict(idata, parents={"calf": (sire, dam)}, seed=11)
    u = _draws(idata, "u")
    labels = [str(v) for v in idata.posterior["animal"].values]
    parent_mean = 0.5 * (u[:, labels.index(sire)] + u[:, labels.index(dam)])
    ped = population.pedigree_object()
    f = ped.inbreeding()
    d = 0.5 - 0.25 * (f[sire] + f[dam])
    z = np.random.default_rng(11).standard_normal((u.shape[0], 1))[:, 0]
    expected = parent_mean + np.sqrt(d * _draws(idata, "sigma2_a")) * z
    np.testing.assert_allclose(out["mean"].values, [expected.mean()], rtol=1e-12)
    np.testing.assert_allclose(out["sd"].values, [expected.std(ddof=1)], rtol=1e-12)
    assert list(out["animal"].values) == ["calf"]


def test_unknown_parents_and_a_new_parent(population, animal_fit):
    """An animal of unknown parents has D = 1; a grandchild inherits from its new parent's draws."""
    model, idata = animal_fit
    ids = list(population.pedigree["id"])
    new = pd.DataFrame({"id": ["g2", "g1", "stray"], "sire": ["g1", ids[-1], None], "dam": [ids[-3], ids[-2], np.nan]})
    out = model.predict(idata, parents=new, seed=2)
    assert [str(v) for v in out["animal"].values] == ["g2", "g1", "stray"]
    # the same animals listed in another order give the same values (drawn parents first, then offspring)
    again = model.predict(idata, parents=new.iloc[[1, 2, 0]], seed=2)
    np.testing.assert_array_equal(again["mean"].sel(animal=["g2", "g1", "stray"]).values, out["mean"].values)
    # each animal's values minus its parents' mean, over sqrt(D sigma2_a), are the seed's normals
    _, values, *_ = parent_value_draws(model.terms[1], idata, new, seed=2)
    u = _draws(idata, "u")
    labels = [str(v) for v in idata.posterior["animal"].values]
    sd = np.sqrt(_draws(idata, "sigma2_a"))
    table = population.pedigree
    f = bg.Pedigree(
        list(table["id"]) + list(new["id"]),
        list(table["sire"]) + list(new["sire"]),
        list(table["dam"]) + list(new["dam"]),
    ).inbreeding()
    g2, g1, stray = values[:, 0, 0], values[:, 1, 0], values[:, 2, 0]
    z_g1 = (g1 - 0.5 * (u[:, labels.index(ids[-1])] + u[:, labels.index(ids[-2])])) / (
        sd * np.sqrt(0.5 - 0.25 * (f[ids[-1]] + f[ids[-2]]))
    )
    z_g2 = (g2 - 0.5 * (g1 + u[:, labels.index(ids[-3])])) / (sd * np.sqrt(0.5 - 0.25 * (f["g1"] + f[ids[-3]])))
    z_stray = stray / sd  # D = 1
    normals = np.random.default_rng(2).standard_normal((3, u.shape[0]))
    found = sorted(np.argmin([np.abs(z - n).max() for n in normals]) for z in (z_g1, z_g2, z_stray))
    assert found == [0, 1, 2]
    for z in (z_g1, z_g2, z_stray):
        assert min(np.abs(z - n).max() for n in normals) < 1e-9


def test_same_seed_same_values_and_another_seed_differs(animal_fit, population):
    model, idata = animal_fit
    ids = list(population.pedigree["id"])
    a = model.predict(idata, parents={"x": (ids[-1], ids[-2])}, seed=4)
    b = model.predict(idata, parents={"x": (ids[-1], ids[-2])}, seed=4)
    c = model.predict(idata, parents={"x": (ids[-1], ids[-2])}, seed=5)
    assert a.equals(b)
    assert not a.equals(c)


def test_several_traits_draw_the_mendelian_term_with_the_covariance(population):
    frame = population.phenotypes.copy()
    frame["y2"] = frame["y"] * 0.5 + np.random.default_rng(0).normal(size=len(frame))
    model = bg.Model(frame, ["y", "y2"], [bg.Fixed("sex"), bg.Animal("id", population.pedigree_object())])
    idata = model.sample(draws=30, chains=1, seed=2, progress=False, check_convergence=False)
    founders = list(population.pedigree["id"])[:2]  # unrelated, non-inbred: D = 1/2
    out = model.predict(idata, parents={"calf": tuple(founders)}, seed=9)
    assert out["mean"].dims == ("animal", "trait")
    u = _draws(idata, "u")  # draws x animals x traits
    labels = [str(v) for v in idata.posterior["animal"].values]
    mean = 0.5 * (u[:, labels.index(founders[0])] + u[:, labels.index(founders[1])])
    sigma = _draws(idata, "sigma2_a")
    z = np.random.default_rng(9).standard_normal((u.shape[0], 2))
    expected = mean + np.sqrt(0.5) * np.einsum("sij,sj->si", np.linalg.cholesky(sigma), z)
    np.testing.assert_allclose(out["mean"].values[0], expected.mean(axis=0), rtol=1e-12)


def test_direct_maternal_values_are_inherited_together(population):
    frame = population.phenotypes.copy()
    frame["dam"] = population.pedigree.set_index("id").loc[frame["id"], "dam"].values
    ped = population.pedigree_object()
    model = bg.Model(frame, "y", [bg.Fixed("sex"), bg.Animal("id", ped, maternal="dam")])
    idata = model.sample(draws=20, chains=1, seed=2, progress=False, check_convergence=False)
    ids = list(population.pedigree["id"])
    out = model.predict(idata, parents={"calf": (ids[-1], ids[-2])})
    assert out["mean"].dims == ("animal", "effect")
    assert list(out["effect"].values) == ["direct", "maternal"]


def test_single_step_gblup_and_regression(population):
    geno = population.genotypes
    ped = population.pedigree_object()
    keep = list(geno.ids)[::3]
    with pytest.raises(ValueError, match="j_covariate=False"):  # every phenotyped animal genotyped
        bg.Model(population.phenotypes, "y", [bg.Fixed("sex"), bg.SingleStep("id", ped, geno, method="bayes")])
    frame = population.phenotypes
    ids = list(population.pedigree["id"])
    for method in ("ssgblup", "bayes"):
        term = bg.SingleStep("id", ped, geno.select(ids=keep), method=method)
        model = bg.Model(frame, "y", [bg.Fixed("sex"), term])
        idata = model.sample(draws=20, chains=1, seed=1, progress=False, check_convergence=False)
        out = model.predict(idata, parents={"calf": (ids[-1], ids[-2])})
        assert np.isfinite(out["mean"].values).all()


def test_errors_name_what_is_wrong(population, animal_fit):
    model, idata = animal_fit
    ids = list(population.pedigree["id"])
    with pytest.raises(ValueError, match="already in the fitted pedigree"):
        model.predict(idata, parents={ids[0]: (None, None)})
    with pytest.raises(ValueError, match="'nobody'"):
        model.predict(idata, parents={"calf": ("nobody", ids[0])})
    with pytest.raises(ValueError, match="missing 'dam'"):
        model.predict(idata, parents=pd.DataFrame({"id": ["a"], "sire": [ids[0]]}))
    with pytest.raises(TypeError, match="parents= must be"):
        model.predict(idata, parents=[("a", ids[0], ids[1])])
    with pytest.raises(ValueError, match="from their parents only"):
        model.predict(idata, parents={"calf": (ids[0], ids[1])}, genotypes=population.genotypes)
    with pytest.raises(ValueError, match="neither ids= nor at="):
        model.predict(idata, parents={"calf": (ids[0], ids[1])}, ids=[ids[0]])
    with pytest.raises(ValueError, match="duplicate|Duplicate"):
        new_animals(pd.DataFrame({"id": ["a", "a"], "sire": [None, None], "dam": [None, None]}))
    iid = bg.Model(population.phenotypes, "y", [bg.Fixed("sex"), bg.Random("id")])
    fit = iid.sample(draws=5, chains=1, seed=1, progress=False, check_convergence=False)
    with pytest.raises(LookupError, match="genetic term on a pedigree"):
        iid.predict(fit, parents={"calf": (ids[0], ids[1])})


def test_parents_frame_is_not_modified(population, animal_fit):
    model, idata = animal_fit
    ids = list(population.pedigree["id"])
    new = pd.DataFrame({"id": ["a"], "sire": [ids[-1]], "dam": [ids[-2]]})
    before = new.copy()
    model.predict(idata, parents=new)
    pd.testing.assert_frame_equal(new, before)


@pytest.mark.statistical
def test_agrees_with_new_animals_in_the_pedigree_at_the_fit(population):
    """Predicting after the fit and sampling the new animals inside the fit (no records) target the
    same posterior: means and sds agree within Monte Carlo error (4 MCSE of the difference)."""
    ped = population.pedigree
    ids = list(ped["id"])
    new = pd.DataFrame({"id": ["c1", "c2", "c3"], "sire": [ids[-1], ids[-5], "c1"], "dam": [ids[-2], None, ids[-7]]})
    extended = bg.Pedigree(
        list(ped["id"]) + list(new["id"]), list(ped["sire"]) + list(new["sire"]), list(ped["dam"]) + list(new["dam"])
    )
    frame = population.phenotypes
    after_model = bg.Model(frame, "y", [bg.Fixed("sex"), bg.Animal("id", population.pedigree_object())])
    within_model = bg.Model(frame, "y", [bg.Fixed("sex"), bg.Animal("id", extended)])
    after = after_model.sample(draws=3000, chains=2, seed=21, progress=False, check_convergence=False)
    within = within_model.sample(draws=3000, chains=2, seed=22, progress=False, check_convergence=False)
    predicted = after_model.predict(after, parents=new, seed=3)
    import arviz as az

    sampled = within.posterior["u"].sel(animal=["c1", "c2", "c3"])
    mcse = az.mcse(within, var_names=["u"]).u.sel(animal=["c1", "c2", "c3"]).values
    ess = az.ess(within, var_names=["u"]).u.sel(animal=["c1", "c2", "c3"]).values
    # the predicted mean's error: the parents' draws are autocorrelated too; bound it by the same ESS
    sd_pred = predicted["sd"].values
    se = np.sqrt(mcse**2 + sd_pred**2 / ess)
    z = (predicted["mean"].values - sampled.mean(("chain", "draw")).values) / se
    assert np.all(np.abs(z) < 4.0), z
    ratio = predicted["sd"].values / sampled.std(("chain", "draw"), ddof=1).values
    assert np.all(np.abs(ratio - 1) < 0.1), ratio


def test_single_step_regression_takes_genotypes_and_parents_together(population):
    """New genotyped animals take their genomic values (as predict(genotypes=...)); their new offspring
    inherit those; genotyped animals absent from parents= come after its animals."""
    geno = population.genotypes
    ped = population.pedigree_object()
    ids = list(population.pedigree["id"])
    term = bg.SingleStep("id", ped, geno.select(ids=list(geno.ids)[::3]), method="bayes")
    model = bg.Model(population.phenotypes, "y", [bg.Fixed("sex"), term])
    idata = model.sample(draws=20, chains=1, seed=1, progress=False, check_convergence=False)
    codes = geno.codes[:, :2].T  # the genotypes of two animals, as if of two new ones
    new_geno = bg.Genotypes(["gnew", "gother"], codes, list(geno.markers), drop_monomorphic=False)
    parents = pd.DataFrame({"id": ["calf", "gnew"], "sire": ["gnew", None], "dam": [ids[-1], None]})
    out = model.predict(idata, parents=parents, genotypes=new_geno, seed=3)
    assert [str(v) for v in out["animal"].values] == ["calf", "gnew", "gother"]
    genomic = model.predict(idata, genotypes=new_geno)
    np.testing.assert_allclose(out["mean"].sel(animal=["gnew", "gother"]).values, genomic["mean"].values, rtol=1e-12)
    u = _draws(idata, "u")
    labels = [str(v) for v in idata.posterior["animal"].values]
    from bayesgen.prediction.genetic_values import genomic_value_draws

    g, _ = genomic_value_draws(model.terms[1], idata, new_geno)
    parent_mean = 0.5 * (g[:, 0, 0] + u[:, labels.index(ids[-1])])
    z = np.random.default_rng(3).standard_normal((u.shape[0], 1))[:, 0]
    d = 0.5 - 0.25 * ped.inbreeding()[ids[-1]]  # both parents known (gnew: a non-inbred founder)
    expected = parent_mean + np.sqrt(d * _draws(idata, "sigma2_epsilon")) * z
    np.testing.assert_allclose(out["mean"].sel(animal="calf").item(), expected.mean(), rtol=1e-10)


def _ssgblup_pair(population, new_animals_ids):
    """Genotypes and pedigrees for ssGBLUP without the new animals and with them (genotyped, no record),
    all on one centring: the new animals are genotyped animals of the simulation re-labelled as
    founders ("new_<id>")."""
    geno, table = population.genotypes, population.pedigree
    kept = [a for a in list(geno.ids)[::3] if a not in new_animals_ids]
    labels = [f"new_{a}" for a in new_animals_ids]
    codes = np.vstack([geno.select(ids=kept).codes.T, geno.select(ids=list(new_animals_ids)).codes.T])
    combined = bg.Genotypes(kept + labels, codes, list(geno.markers), drop_monomorphic=False)
    fit_geno = combined.select(ids=kept, keep_centre=True)
    new_geno = combined.select(ids=labels, keep_centre=True)
    fit_ped = bg.Pedigree(table["id"], table["sire"], table["dam"])
    in_fit_ped = bg.Pedigree(
        list(table["id"]) + labels,
        list(table["sire"]) + [None] * len(labels),
        list(table["dam"]) + [None] * len(labels),
    )
    return fit_ped, in_fit_ped, fit_geno, combined, new_geno, labels


def test_ssgblup_new_genotyped_animals_condition_on_the_extended_relationships(population):
    """W and S of u_x | u_g equal the dense formulas from G_w built with the new animals inside it."""
    new_ids = list(population.genotypes.ids)[1:3]
    fit_ped, in_fit_ped, fit_geno, combined, new_geno, labels = _ssgblup_pair(population, new_ids)
    term = bg.SingleStep("id", fit_ped, fit_geno, tune=None)
    ids_g = term.genotyped_ids
    everyone = bg.grm(combined, ids=ids_g + labels).to_numpy()  # VanRaden on the common centring
    a = in_fit_ped.relationship(ids_g + labels).to_numpy()
    g_w = 0.95 * everyone + 0.05 * a
    n = len(ids_g)
    weights = g_w[n:, :n] @ np.linalg.inv(g_w[:n, :n])
    conditional = g_w[n:, n:] - weights @ g_w[:n, n:]
    found = term.genotype_conditional(new_geno, in_fit_ped)
    np.testing.assert_allclose(found.weights, weights, atol=1e-8)
    np.testing.assert_allclose(found.conditional, conditional, atol=1e-8)
    assert found.conditioning == ids_g


def test_ssgblup_predicts_genotypes_and_parents(population):
    new_ids = list(population.genotypes.ids)[1:3]
    fit_ped, _, fit_geno, _, new_geno, labels = _ssgblup_pair(population, new_ids)
    model = bg.Model(population.phenotypes, "y", [bg.Fixed("sex"), bg.SingleStep("id", fit_ped, fit_geno)])
    idata = model.sample(draws=20, chains=1, seed=1, progress=False, check_convergence=False)
    out = model.predict(idata, genotypes=new_geno, seed=1)
    assert [str(v) for v in out["individual"].values] == labels
    assert model.predict(idata, genotypes=new_geno, seed=1).equals(out)
    both = model.predict(idata, genotypes=new_geno, parents={"calf": (labels[0], None)}, seed=1)
    assert [str(v) for v in both["animal"].values] == ["calf", *labels]
    ungenotyped = list(population.genotypes.ids)[4]  # in the pedigree, not genotyped at the fit
    with pytest.raises(ValueError, match=f"not genotyped at the fit: '{ungenotyped}'"):
        model.predict(idata, genotypes=population.genotypes.select(ids=[ungenotyped]))


@pytest.mark.statistical
def test_ssgblup_genotyped_new_animals_agree_with_the_fit_that_holds_them(population):
    """New genotyped founders predicted after the fit, and the same animals genotyped in the fit
    without a record (one centring, tune=None, so G_w is the same matrix): the posteriors agree
    (means within 4 MC standard errors, sds within 10%)."""
    import arviz as az

    new_ids = list(population.genotypes.ids)[1:3]
    fit_ped, in_fit_ped, fit_geno, combined, new_geno, labels = _ssgblup_pair(population, new_ids)
    frame = population.phenotypes
    after_model = bg.Model(frame, "y", [bg.Fixed("sex"), bg.SingleStep("id", fit_ped, fit_geno, tune=None)])
    within_model = bg.Model(frame, "y", [bg.Fixed("sex"), bg.SingleStep("id", in_fit_ped, combined, tune=None)])
    after = after_model.sample(draws=2000, chains=2, seed=31, progress=False, check_convergence=False)
    within = within_model.sample(draws=2000, chains=2, seed=32, progress=False, check_convergence=False)
    predicted = after_model.predict(after, genotypes=new_geno, seed=4)
    sampled = within.posterior["u"].sel(animal=labels)
    mcse = az.mcse(within, var_names=["u"]).u.sel(animal=labels).values
    ess = az.ess(within, var_names=["u"]).u.sel(animal=labels).values
    se = np.sqrt(mcse**2 + predicted["sd"].values ** 2 / ess)
    z = (predicted["mean"].values - sampled.mean(("chain", "draw")).values) / se
    assert np.all(np.abs(z) < 4.0), z
    ratio = predicted["sd"].values / sampled.std(("chain", "draw"), ddof=1).values
    assert np.all(np.abs(ratio - 1) < 0.1), ratio
