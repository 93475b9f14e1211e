"""One API vocabulary (issue 22, item 4): a walk over the public signatures fails when two
equivalent places name an argument differently, and every deprecated name still works, with a
DeprecationWarning that names its replacement (CHANGELOG.md lists the mapping)."""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen._deprecation import REMOVED_IN
from bayesgen.diagnostics.lmm_scan import lmm_scan

#: Public callables besides bg.__all__ that take the same arguments.
EXTRA = {
    "Model.sample": bg.Model.sample,
    "Model.from_formula": bg.Model.from_formula,
    "Model.predict": bg.Model.predict,
    "Genotypes.from_csv": bg.Genotypes.from_csv,
    "Genotypes.from_dataframe": bg.Genotypes.from_dataframe,
    "lmm_scan": lmm_scan,
}

#: Names that mean one thing: the canonical spelling first, then spellings that must not appear.
SYNONYMS = [
    ("column", {"id", "animal", "id_column", "ids_column"}),
    ("prior", {"variance", "prior_variance", "variance_prior", "sigma2_a", "sigma2_g", "sigma2_u"}),
    ("structure", {"covariance_structure", "cov_structure"}),
    ("chains", {"n_chains", "nchains"}),
    ("draws", {"n_draws", "samples", "n_samples", "iterations", "n_iter"}),
    ("burn", {"burnin", "burn_in", "warmup", "tune"}),
    ("progress", {"progressbar", "progress_bar", "show_progress"}),
    ("seed", {"random_state", "rng_seed"}),
]
#: Justified exceptions: (callable, argument): why.
EXEMPT = {
    # The pedigree file's three columns, named as the file names them (id, sire, dam).
    ("Pedigree.from_csv", "id"): "pedigree file column triple",
    ("Pedigree.from_dataframe", "id"): "pedigree file column triple",
    # Deprecated classes kept for one release with their old argument.
    ("MultiTraitRidgePrior", "covariance"): "deprecated class",
    ("MultiTraitBayesCPrior", "covariance"): "deprecated class",
}
#: The defaults that must agree wherever the argument appears.
SHARED_DEFAULTS = {"chains": None, "progress": True, "intercept": True, "sigma2_e": None, "prob": 0.95, "draws": 1000}
#: Justified different defaults: (callable, argument): why.
DEFAULT_EXEMPT = {("resume", "draws"): "None: the interrupted run's own number of draws"}


def public_signatures():
    out = {}
    for name in bg.__all__:
        obj = getattr(bg, name)
        if not callable(obj):
            continue
        if inspect.isclass(obj):
            if obj.__init__ is object.__init__:
                continue
            out[name] = inspect.signature(obj.__init__)
            for method in ("from_csv", "from_dataframe"):
                if method in vars(obj):
                    out[f"{name}.{method}"] = inspect.signature(getattr(obj, method))
        else:
            out[name] = inspect.signature(obj)
    out.update({name: inspect.signature(f) for name, f in EXTRA.items()})
    return out


SIGNATURES = public_signatures()


@pytest.mark.parametrize("canonical,others", SYNONYMS, ids=[s[0] for s in SYNONYMS])
def test_one_name_per_meaning(canonical, others):
    clashes = [
        f"{where}({p})"
        for where, sig in SIGNATURES.items()
        for p in sig.parameters
        if p in others and (where, p) not in EXEMPT
    ]
    assert not clashes, f"use {canonical}= instead of: {', '.join(clashes)}"


def test_the_walk_sees_the_places_it_checks():
    """The walk covers terms, shortcuts, priors, likelihoods and the sampling functions."""
    for where in (
        "Random",
        "Animal",
        "Kernel",
        "Markers",
        "Fixed",
        "AnimalModel",
        "GBLUP",
        "BayesCPi",
        "RidgePrior",
        "Gaussian",
        "Model.sample",
        "cross_validate",
        "resume",
        "fit",
        "Model.from_formula",
    ):
        assert where in SIGNATURES, where


@pytest.mark.parametrize("argument,default", SHARED_DEFAULTS.items())
def test_the_same_default_wherever_an_argument_appears(argument, default):
    seen = {
        where: sig.parameters[argument].default
        for where, sig in SIGNATURES.items()
        if argument in sig.parameters and sig.parameters[argument].default is not inspect.Parameter.empty
    }
    assert seen, argument
    wrong = {
        where: value for where, value in seen.items() if value != default and (where, argument) not in DEFAULT_EXEMPT
    }
    assert not wrong, f"{argument} defaults to {default!r} elsewhere: {wrong}"


def test_terms_and_shortcuts_name_the_id_column_and_the_variance_prior_alike():
    for term in ("Random", "Animal", "MaternalAnimal", "RandomRegression", "Kernel", "Markers"):
        params = list(SIGNATURES[term].parameters)
        assert params[1] == "column", term
        assert "prior" in params, term
    for term in ("Random", "Animal", "RandomRegression"):
        assert "structure" in SIGNATURES[term].parameters, term
    assert "prior" in SIGNATURES["Fixed"].parameters
    for shortcut in ("AnimalModel", "GBLUP", "BRR", "BayesA", "BayesB", "BayesC", "BayesCPi", "BayesLasso", "BayesR"):
        assert list(SIGNATURES[shortcut].parameters)[2] == "column", shortcut
    for shortcut in ("AnimalModel", "GBLUP", "BRR", "BayesC", "BayesCPi", "BayesR"):
        assert "prior" in SIGNATURES[shortcut].parameters, shortcut
    for prior in ("RidgePrior", "BayesCPrior", "BayesRPrior"):
        assert "prior" in SIGNATURES[prior].parameters, prior
    for likelihood in ("Gaussian", "Censored", "Threshold"):
        assert list(SIGNATURES[likelihood].parameters)[1] == "prior", likelihood


# --------------------------------------------------------------------------- deprecated names
def renamed():
    """(where, wrapper, bound, old, new) for every deprecated argument name; ``bound``: the wrapper is a
    method (``__init__`` or a classmethod) and takes self/cls first."""
    out = []
    for where, obj in [(n, getattr(bg, n)) for n in bg.__all__] + list(EXTRA.items()):
        candidates = [(where, obj, False)]
        if inspect.isclass(obj):
            candidates = [(where, vars(obj).get("__init__"), True)] + [
                (f"{where}.{m}", vars(obj)[m].__func__, True) for m in ("from_csv", "from_dataframe") if m in vars(obj)
            ]
        elif hasattr(obj, "__func__"):  # a classmethod of EXTRA
            candidates = [(where, obj.__func__, True)]
        for label, function, bound in candidates:
            for old, new in (getattr(function, "__renamed_arguments__", None) or {}).items():
                out.append((label, function, bound, old, new))
    return out


RENAMED = renamed()
IDS = [f"{w}-{o}" for w, _, _, o, _ in RENAMED]


def test_every_renamed_argument_is_listed():
    pairs = {(where, old) for where, _, _, old, _ in RENAMED}
    expected = {
        ("Random", "variance"),
        ("Random", "covariance"),
        ("Animal", "variance"),
        ("Animal", "covariance"),
        ("MaternalAnimal", "variance"),
        ("RandomRegression", "variance"),
        ("RandomRegression", "covariance"),
        ("Kernel", "variance"),
        ("Fixed", "prior_variance"),
        ("AnimalModel", "animal"),
        ("AnimalModel", "sigma2_a"),
        ("GBLUP", "id"),
        ("GBLUP", "sigma2_g"),
        ("BRR", "variance"),
        ("BayesC", "variance"),
        ("BayesCPi", "variance"),
        ("BayesR", "variance"),
        ("BayesA", "id"),
        ("BayesB", "id"),
        ("BayesLasso", "id"),
        ("RidgePrior", "variance"),
        ("BayesCPrior", "variance"),
        ("BayesRPrior", "variance"),
        ("Gaussian", "variance"),
        ("Censored", "variance"),
        ("Threshold", "variance"),
        ("Genotypes.from_csv", "id"),
        ("Genotypes.from_dataframe", "id"),
        ("lmm_scan", "id"),
    }
    assert expected <= pairs, expected - pairs


@pytest.mark.parametrize("where,function,bound,old,new", RENAMED, ids=IDS)
def test_each_deprecated_name_warns_and_maps_to_the_new_one(monkeypatch, where, function, bound, old, new):
    sentinel = object()
    seen = {}
    monkeypatch.setattr(function, "__wrapped__", lambda *args, **kwargs: seen.update(kwargs))
    with pytest.warns(DeprecationWarning, match=rf"\({old}=\.\.\.\) is deprecated .* {REMOVED_IN}; use {new}= "):
        function(*([None] if bound else []), **{old: sentinel})
    assert seen[new] is sentinel and old not in seen


@pytest.mark.parametrize("where,function,bound,old,new", RENAMED, ids=IDS)
def test_the_signature_shows_only_the_new_name(where, function, bound, old, new):
    parameters = inspect.signature(function).parameters
    assert new in parameters and old not in parameters


def test_the_old_structure_attribute_warns():
    term = bg.Random("herd", slopes=["x"], structure="diag")
    with pytest.warns(DeprecationWarning, match=r"Random.covariance is deprecated .* use .structure"):
        assert term.covariance == "diag"


def test_old_and_new_name_together_is_an_error():
    with pytest.raises(TypeError, match=r"Random\(\) got both prior= and its deprecated name variance="):
        bg.Random("herd", prior=1.0, variance=1.0)


@pytest.fixture(scope="module")
def small():
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=40, n_markers=30, n_qtl=5, seed=2)
    return sim


def draws(model):
    return model.sample(draws=3, burn=1, chains=1, seed=4, progress=False, check_convergence=False).posterior


def test_old_names_build_the_same_models(small):
    data, ped, geno = small.phenotypes, small.pedigree_object(), small.genotypes
    prior = bg.ScaledInvChi2(4, 0.5)
    with pytest.warns(DeprecationWarning):
        old = bg.AnimalModel(data, "y", animal="id", pedigree=ped, sigma2_a=prior)
    new = bg.AnimalModel(data, "y", column="id", pedigree=ped, prior=prior)
    assert draws(old).equals(draws(new))
    with pytest.warns(DeprecationWarning):
        old = bg.BRR(data, "y", id="id", genotypes=geno, variance=0.01)
    assert draws(old).equals(draws(bg.BRR(data, "y", column="id", genotypes=geno, prior=0.01)))
    with pytest.warns(DeprecationWarning):
        old = bg.Model(data, "y", [bg.Fixed(prior_variance=100.0), bg.Random("generation", variance=0.3)])
    new = bg.Model(data, "y", [bg.Fixed(prior=100.0), bg.Random("generation", prior=0.3)])
    assert draws(old).equals(draws(new))


def test_derived_variances_are_var_and_cor_and_the_old_names_still_select(small):
    data, geno = small.phenotypes, small.genotypes
    post = draws(bg.BRR(data, "y", "id", geno))
    assert "var_g" in post and "sigma2_g" not in post and "sigma2_alpha" in post
    idata = bg.BRR(data, "y", "id", geno).sample(
        draws=30, burn=5, chains=2, seed=1, progress=False, check_convergence=False
    )
    with pytest.warns(DeprecationWarning, match=r"'sigma2_g' is now 'var_g'"):
        table = bg.summary(idata, var_names=["sigma2_g"])
    assert list(table.index) == ["var_g"]
    # GBLUP's sigma2_g is a parameter and keeps its name.
    gblup = draws(bg.GBLUP(data, "y", "id", geno))
    assert "sigma2_g" in gblup


def test_data_errors_are_value_errors(small):
    data, ped = small.phenotypes, small.pedigree_object()
    with pytest.raises(ValueError, match=r"Column\(s\) 'nope' not found in data") as caught:
        bg.Model(data, "y", [bg.Fixed(["nope"])])
    assert not isinstance(caught.value, KeyError)
    # The message prints without the quotes a KeyError adds.
    assert str(caught.value).startswith("Column(s)")
    ghost = data.assign(id=["ghost"] + list(data["id"][1:]))
    with pytest.raises(ValueError, match="Animals in column 'id' not found in the pedigree: 'ghost'"):
        bg.AnimalModel(ghost, "y", "id", ped)


def test_cross_validate_has_the_sampling_defaults(small):
    parameters = inspect.signature(bg.cross_validate).parameters
    sample = inspect.signature(bg.Model.sample).parameters
    for name in ("chains", "progress", "draws"):
        assert parameters[name].default == sample[name].default


def test_no_warning_from_the_new_names(small):
    data, ped = small.phenotypes, small.pedigree_object()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        bg.AnimalModel(data, "y", "id", ped, prior=bg.ScaledInvChi2(4, 0.5))
        bg.Random("g", prior=1.0, slopes=["x"], structure="diag")
        bg.RidgePrior(prior=0.1)
        bg.Gaussian(prior=1.0)
        pd.DataFrame(np.zeros(1))


# --------------------------------------------------------------------------- typed public API
def test_the_public_api_is_typed():
    """Every parameter of bg.__all__'s callables (and of Model.sample, Model.from_formula) is annotated,
    and every public function states what it returns; mypy checks the annotations (.ci/run)."""
    places = {name: getattr(bg, name) for name in bg.__all__ if callable(getattr(bg, name))}
    places.update({"Model.sample": bg.Model.sample, "Model.from_formula": bg.Model.from_formula})
    untyped = []
    for where, obj in places.items():
        function = obj.__init__ if inspect.isclass(obj) else obj
        if function is object.__init__:
            continue
        signature = inspect.signature(function)
        untyped += [
            f"{where}({name})"
            for name, p in signature.parameters.items()
            if name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
        ]
        if not inspect.isclass(obj) and signature.return_annotation is inspect.Signature.empty:
            untyped.append(f"{where} -> ?")
    assert not untyped, untyped


def test_derived_matrices_are_diagnosed_like_the_parameters_they_replace(small):
    """cor_g's diagonal (1) is left out of the convergence report and var_g's lower triangle too,
    as for rho_* and sigma2_*; var_g is among the variances checked for stuck chains."""
    from bayesgen.output.convergence import diagnosed_draws

    data = small.phenotypes.assign(y2=lambda d: d["y"] * 0.3 + np.random.default_rng(1).normal(size=len(d)))
    idata = bg.Model(data, ["y", "y2"], [bg.Fixed(), bg.Markers("id", small.genotypes, prior=bg.RidgePrior())]).sample(
        draws=5, burn=2, chains=2, seed=3, progress=False, check_convergence=False
    )
    names = [n for n in diagnosed_draws(idata) if n.startswith(("var_g", "cor_g"))]
    assert names == ["var_g[y, y]", "var_g[y, y2]", "var_g[y2, y2]", "cor_g[y, y2]"]
