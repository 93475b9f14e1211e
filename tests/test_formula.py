"""Model formulas (bayesgen.model.formula): the same draws as the equivalent list of terms, for every
term kind; every formula error names its token; the repr prints the formula back; specs take
``model.formula``."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesgen as bg
from bayesgen.model.formula import FormulaError

SAMPLE = dict(draws=4, burn=2, chains=1, seed=11, progress=False, check_convergence=False)


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=60, n_markers=40, n_qtl=10, seed=3)
    rng = np.random.default_rng(0)
    data = sim.phenotypes.merge(sim.pedigree[["id", "dam"]], on="id", how="left")
    n = len(data)
    data["herd"] = rng.choice(["h1", "h2", "h3", "h4", "h5"], size=n)
    data["x"] = rng.normal(size=n)
    data["z"] = rng.normal(size=n)
    data["y2"] = data["y"] * 0.5 + rng.normal(size=n)
    data.index = [f"r{k}" for k in range(n)]
    return data, sim.pedigree_object(), sim.genotypes


def same_draws(formula_model, term_model):
    a = formula_model.sample(**SAMPLE)
    b = term_model.sample(**SAMPLE)
    assert list(a.posterior.data_vars) == list(b.posterior.data_vars)
    xr.testing.assert_equal(a.posterior, b.posterior)
    return a


def test_fixed_and_iid_random_terms_match_the_term_list(population):
    data, _, _ = population
    formula = bg.Model.from_formula("y ~ sex + x + (1|herd)", data)
    terms = bg.Model(data, "y", [bg.Fixed(["sex", "x"]), bg.Random("herd")])
    same_draws(formula, terms)


def test_no_intercept(population):
    data, _, _ = population
    same_draws(
        bg.Model.from_formula("y ~ 0 + sex + (1|herd)", data),
        bg.Model(data, "y", [bg.Fixed(["sex"], intercept=False), bg.Random("herd")]),
    )
    same_draws(
        bg.Model.from_formula("y ~ sex - 1 + (1|herd)", data),
        bg.Model(data, "y", [bg.Fixed(["sex"], intercept=False), bg.Random("herd")]),
    )


def test_formulaic_fixed_part_is_its_model_matrix(population):
    import formulaic

    data, _, _ = population
    matrix = pd.DataFrame(formulaic.model_matrix("1 + sex + x:sex + np.exp(z)", data))
    term = bg.Fixed(matrix=matrix.to_numpy(dtype=float), names=list(matrix.columns), intercept=False)
    idata = same_draws(
        bg.Model.from_formula("y ~ sex + x:sex + np.exp(z) + (1|herd)", data),
        bg.Model(data, "y", [term, bg.Random("herd")]),
    )
    assert len(idata.posterior["beta"].coords["coef"]) == matrix.shape[1]


@pytest.mark.parametrize("bar,structure,intercept", [("|", "us", True), ("||", "diag", True), ("|", "us", False)])
def test_random_slopes(population, bar, structure, intercept):
    data, _, _ = population
    left = "1 + x" if intercept else "0 + x + z"
    slopes = ["x"] if intercept else ["x", "z"]
    same_draws(
        bg.Model.from_formula(f"y ~ x + ({left} {bar} herd)", data),
        bg.Model(
            data, "y", [bg.Fixed(["x"]), bg.Random("herd", slopes=slopes, structure=structure, intercept=intercept)]
        ),
    )


def test_animal_and_maternal(population):
    data, pedigree, _ = population
    same_draws(
        bg.Model.from_formula("y ~ sex + animal(id)", data, pedigree=pedigree),
        bg.Model(data, "y", [bg.Fixed(["sex"]), bg.Animal("id", pedigree)]),
    )
    founders = data["dam"].isna()
    kept = data[~founders]
    same_draws(
        bg.Model.from_formula("y ~ 1 + maternal(id, dam) + (1|dam)", kept, pedigree=pedigree),
        bg.Model(kept, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam"), bg.Random("dam")]),
    )


@pytest.mark.parametrize(
    "name,prior",
    [
        ("BayesA", lambda: bg.BayesAPrior()),
        ("BayesB", lambda: bg.BayesBPrior()),
        ("BayesC", lambda: bg.BayesCPrior()),
        ("BayesCpi", lambda: bg.BayesCPrior(pi=bg.Beta(5.5, 5.5))),
        ("BRR", lambda: bg.RidgePrior()),
        ("BayesLasso", lambda: bg.LassoPrior()),
        ("BayesR", lambda: bg.BayesRPrior()),
    ],
)
def test_markers_with_each_prior_name(population, name, prior):
    data, _, genotypes = population
    same_draws(
        bg.Model.from_formula(f'y ~ sex + markers(id, prior="{name}")', data, genotypes=genotypes),
        bg.Model(data, "y", [bg.Fixed(["sex"]), bg.Markers("id", genotypes, prior=prior())]),
    )


def test_markers_default_prior_and_the_shortcut(population):
    data, _, genotypes = population
    same_draws(
        bg.Model.from_formula("y ~ sex + markers(id, prior='BayesCpi')", data, genotypes=genotypes),
        bg.BayesCPi(data, "y", "id", genotypes, fixed=["sex"]),
    )
    same_draws(
        bg.Model.from_formula("y ~ markers(id)", data, genotypes=genotypes),
        bg.Model(data, "y", [bg.Fixed(), bg.Markers("id", genotypes)]),
    )


def test_kernel_from_kernels_and_from_the_callers_variables(population):
    data, _, genotypes = population
    G = bg.grm(genotypes)
    G = G + 0.05 * np.eye(len(G))  # noqa: N806 (a matrix)
    terms = bg.Model(data, "y", [bg.Fixed(), bg.Kernel("id", G, name="g")])
    same_draws(bg.Model.from_formula("y ~ kernel(id, K, name='g')", data, kernels={"K": G}), terms)
    same_draws(bg.Model.from_formula("y ~ kernel(id, G, name='g')", data), terms)


def test_several_traits_cbind_and_a_list_of_formulas(population):
    data, pedigree, _ = population
    terms = bg.Model(data, ["y", "y2"], [bg.Fixed(["sex"]), bg.Animal("id", pedigree)])
    same_draws(bg.Model.from_formula("cbind(y, y2) ~ trait + trait:sex + animal(id)", data, pedigree=pedigree), terms)
    same_draws(bg.Model.from_formula(["y ~ sex + animal(id)", "y2 ~ sex + animal(id)"], data, pedigree=pedigree), terms)


def test_fit_is_from_formula_then_sample(population):
    data, pedigree, _ = population
    idata = bg.fit("y ~ sex + (1|herd) + animal(id)", data, pedigree=pedigree, sampler="single-site", **SAMPLE)
    model = bg.Model(
        data, "y", [bg.Fixed(["sex"]), bg.Random("herd"), bg.Animal("id", pedigree)], sampler="single-site"
    )
    xr.testing.assert_equal(idata.posterior, model.sample(**SAMPLE).posterior)


def test_priors_by_term_or_variance_name(population):
    data, pedigree, _ = population
    priors = {"herd": bg.ScaledInvChi2(4, 0.3), "sigma2_a": 0.5, "sigma2_e": bg.ScaledInvChi2(5, 0.6), "beta": 100.0}
    same_draws(
        bg.Model.from_formula("y ~ sex + (1|herd) + animal(id)", data, pedigree=pedigree, priors=priors),
        bg.Model(
            data,
            "y",
            [
                bg.Fixed(["sex"], prior=100.0),
                bg.Random("herd", prior=bg.ScaledInvChi2(4, 0.3)),
                bg.Animal("id", pedigree, prior=0.5),
            ],
            sigma2_e=bg.ScaledInvChi2(5, 0.6),
        ),
    )
    with pytest.raises(ValueError, match=r"priors has 'sigma2_hrd', which names no term of the formula"):
        bg.Model.from_formula("y ~ (1|herd)", data, priors={"sigma2_hrd": 1.0})
    with pytest.raises(ValueError, match=r"priors gives 'herd' twice"):
        bg.Model.from_formula("y ~ (1|herd)", data, priors={"herd": 1.0, "sigma2_herd": 1.0})


def test_repr_prints_the_formula_back(population):
    data, pedigree, genotypes = population
    model = bg.Model.from_formula(
        "y~sex+ x:sex +(1+x||herd)+animal( id )+markers(id, prior='BRR')", data, pedigree=pedigree, genotypes=genotypes
    )
    assert model.formula == "y ~ sex + x:sex + (1 + x || herd) + animal( id ) + markers(id, prior='BRR')"
    assert repr(model).startswith(f"Model({model.formula}; ")
    again = bg.Model.from_formula(model.formula, data, pedigree=pedigree, genotypes=genotypes)
    assert again.formula == model.formula
    several = bg.Model.from_formula(["y ~ sex", "y2 ~ sex"], data)
    assert several.formula == "cbind(y, y2) ~ sex"


ERRORS = [
    ("y sex", "y sex", "needs one '~'"),
    ("y ~ x ~ z", "~", "has one '~'"),
    (" ~ x", "~", "response"),
    ("y ~ ", "~", "terms"),
    ("y ~ sex + (1|nope)", "nope", "grouping column 'nope' is not a column of data"),
    ("y ~ sex + (1 + w|herd)", "w", "slope column 'w' is not a column"),
    ("y ~ sex + (1|)", "(1|)", "needs a grouping column"),
    ("y ~ (|herd)", "(|herd)", "needs '1' (or slopes)"),
    ("y ~ (1||herd)", "(1||herd)", "needs slopes"),
    ("y ~ (0|herd)", "(0|herd)", "neither an intercept nor slopes"),
    ("y ~ (1|herd|x)", "herd|x", "One '|'"),
    ("y ~ (1 - x|herd)", "x", "Only the intercept can be removed"),
    ("y ~ (1|herd:sex)", "herd:sex", "Expected a column name"),
    ("y ~ sex + animal(id", "(", "Unbalanced '('"),
    ("y ~ sex) + x", ")", "Unbalanced ')'"),
    ("y ~ sex + 'x", "'", "Unclosed quote"),
    ("y ~ sex + nope", "nope", "fixed-effect column 'nope'"),
    ("y ~ sex + np.log(nothere)", "np.log(nothere)", "cannot be evaluated"),
    ("y ~ sex - x", "x", "Only the intercept can be removed"),
    ("y ~ sex - (1|herd)", "(1|herd)", "cannot be removed"),
    ("y ~ sex - animal(id)", "animal(id)", "cannot be removed"),
    ("y ~ sex + ", "+", "Empty term"),
    ("y ~ + sex", "~", "Empty term"),
    ("nope ~ sex", "nope", "response 'nope'"),
    ("cbind(y) ~ sex", "cbind(y)", "two responses"),
    ("cbind(y, y) ~ sex", "y", "appears twice"),
    ("cbind(y, ) ~ sex", ",", "Empty response"),
    ("y ~ trait:sex", "trait", "one response"),
    ("y ~ animal(nope)", "nope", "id column 'nope'"),
    ("y ~ animal(id, 2)", "animal(id, 2)", "takes 1 argument"),
    ("y ~ animal(id, prior='x')", "prior=", "takes no prior="),
    ("y ~ animal(id, name=3)", "name=", "quoted string"),
    ("y ~ animal(id + 1)", "id + 1", "must be a column name"),
    ("y ~ maternal(id, mum)", "mum", "dam column 'mum'"),
    ("y ~ markers(id, prior='BayesZ')", "'BayesZ'", "Unknown marker prior"),
    ("y ~ kernel(id, KK)", "KK", "No matrix named 'KK'"),
    ("y ~ kernel(id, K[0])", "K[0]", "name of a matrix"),
    ("y ~ (1|herd) + (1 + x|herd)", "(1 + x|herd)", "both named 'herd'"),
    ("y ~ animal(id) + maternal(id, dam)", "maternal(id, dam)", "both named 'animal'"),
]


@pytest.mark.parametrize("formula,token,message", ERRORS)
def test_every_formula_error_names_its_token(population, formula, token, message):
    data, pedigree, genotypes = population
    with pytest.raises(FormulaError) as caught:
        bg.Model.from_formula(formula, data, pedigree=pedigree, genotypes=genotypes, kernels={"K": np.eye(2)})
    err = caught.value
    assert err.token == token, (err.token, str(err))
    assert message in str(err)
    assert repr(token) in str(err) or not token.strip() or token == formula  # the token is named ...
    lines = str(err).splitlines()  # ... and pointed at, under the formula
    assert lines[-2].strip() == formula.strip() and lines[-1].strip().startswith("^")
    assert isinstance(err, ValueError)


def test_missing_pedigree_or_genotypes_names_the_term(population):
    data, _, _ = population
    with pytest.raises(FormulaError, match=r"animal\(\) needs the pedigree") as caught:
        bg.Model.from_formula("y ~ animal(id)", data)
    assert caught.value.token == "animal(id)"
    with pytest.raises(FormulaError, match=r"markers\(\) needs the genotypes") as caught:
        bg.Model.from_formula("y ~ markers(id)", data)
    assert caught.value.token == "markers(id)"


def test_a_list_of_formulas_needs_the_same_terms(population):
    data, _, _ = population
    with pytest.raises(FormulaError, match=r"same terms as the first \('sex'\)") as caught:
        bg.Model.from_formula(["y ~ sex", "y2 ~ sex + x"], data)
    assert caught.value.token == "sex + x"
    with pytest.raises(FormulaError, match=r"'y' appears twice in the list"):
        bg.Model.from_formula(["y ~ sex", "y ~ sex"], data)


def test_formula_must_be_text(population):
    data, _, _ = population
    with pytest.raises(TypeError, match="formula must be a string"):
        bg.Model.from_formula(3, data)


def test_data_is_not_modified(population):
    data, pedigree, _ = population
    before = data.copy()
    bg.Model.from_formula("y ~ sex + x:sex + (1 + x|herd) + animal(id)", data, pedigree=pedigree)
    pd.testing.assert_frame_equal(data, before)


def test_spec_with_a_formula(tmp_path):
    from bayesgen.cli.model_types import SpecError
    from bayesgen.cli.spec import load_spec

    body = """
[data]
simulate = {{ n_founders = 20, n_generations = 2, n_offspring = 40, n_markers = 30, n_qtl = 5, seed = 1 }}
[model]
formula = "{formula}"
[priors]
{priors}
[sampler]
draws = 5
"""
    path = tmp_path / "spec.toml"
    path.write_text(
        body.format(
            formula="y ~ sex + animal(id) + markers(id, prior='BRR')",
            priors="sigma2_a = { df = 4, scale = 0.5 }\nsigma2_e = 1.0",
        )
    )
    spec = load_spec(path)
    assert spec.model.formula == "y ~ sex + animal(id) + markers(id, prior='BRR')"
    animal = next(t for t in spec.model.terms if isinstance(t, bg.Animal))
    assert repr(animal.variance_prior_arg) == repr(bg.ScaledInvChi2(4, 0.5))
    path.write_text(body.format(formula="y ~ sex + (1|nope)", priors=""))
    with pytest.raises(SpecError, match=r"model.formula: The grouping column 'nope' is not a column of data"):
        load_spec(path)
    path.write_text(body.format(formula="y ~ sex + animal(id", priors=""))
    with pytest.raises(SpecError, match=r"model.formula: Unbalanced '\('"):
        load_spec(path)
    path.write_text(body.format(formula="y ~ sex", priors="").replace("[model]\n", '[model]\ntype = "animal"\n'))
    with pytest.raises(SpecError, match=r"model.formula replaces model.type"):
        load_spec(path)
