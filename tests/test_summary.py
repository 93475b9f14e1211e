"""bg.summary: the low-dimensional parameters with intervals, MCSE, ESS and R-hat (issue 16 item 15)."""

import re

import arviz as az
import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.output import convergence_report
from bayesgen.output.summary import format_summary


@pytest.fixture(scope="module")
def animal_fit():
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=50, n_markers=0, seed=3)
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
    return model.sample(draws=200, burn=50, chains=2, seed=1, progress=False, check_convergence=False)


def test_summary_rows_are_the_low_dimensional_parameters(animal_fit):
    table = bg.summary(animal_fit)
    # the rows the convergence report diagnoses: scalars and fixed effects, not the 120 breeding values
    assert (
        list(table.index)
        == list(convergence_report(animal_fit).index)
        == ["beta[Intercept]", "beta[sex[M]]", "sigma2_a", "sigma2_e", "h2"]
    )
    assert list(table.columns) == ["mean", "sd", "2.5%", "97.5%", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
    assert animal_fit.posterior["u"].sizes["animal"] == 120
    assert table.attrs == {"prob": 0.95, "chains": 2, "draws": 200}


def test_summary_values_are_those_of_the_draws(animal_fit):
    table = bg.summary(animal_fit, prob=0.9)
    draws = animal_fit.posterior["beta"].sel(coef="sex[M]").values
    row = table.loc["beta[sex[M]]"]
    assert row["mean"] == pytest.approx(draws.mean(), rel=1e-12)
    assert row["sd"] == pytest.approx(draws.std(ddof=1), rel=1e-12)
    assert (row["5%"], row["95%"]) == pytest.approx(tuple(np.quantile(draws, [0.05, 0.95])), rel=1e-12)
    assert row["ess_bulk"] == pytest.approx(float(az.ess(draws, method="bulk")), rel=1e-12)
    assert row["ess_tail"] == pytest.approx(float(az.ess(draws, method="tail")), rel=1e-12)
    assert row["r_hat"] == pytest.approx(float(az.rhat(draws, method="rank")), rel=1e-12)
    assert row["mcse_mean"] == pytest.approx(float(az.mcse(draws, method="mean")), rel=1e-12)


def test_summary_of_a_two_trait_fit_gives_matrix_elements():
    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=50, n_markers=0, seed=8)
    data = sim.phenotypes.assign(y2=0.5 * sim.phenotypes["y"] + np.random.default_rng(1).normal(size=100))
    model = bg.Model(data, ["y", "y2"], [bg.Fixed(), bg.Animal("id", sim.pedigree_object())])
    idata = model.sample(draws=20, burn=10, chains=2, seed=1, progress=False, check_convergence=False)
    table = bg.summary(idata, var_names=["sigma2_a", "rho_animal", "h2"])
    assert list(table.index) == [
        "sigma2_a[y, y]",
        "sigma2_a[y, y2]",
        "sigma2_a[y2, y2]",
        "rho_animal[y, y2]",
        "h2[y]",
        "h2[y2]",
    ]
    expected = idata.posterior["sigma2_a"].sel(trait_row="y", trait_col="y2").values.mean()
    assert table.loc["sigma2_a[y, y2]", "mean"] == pytest.approx(expected, rel=1e-12)


def test_fixed_variance_and_too_few_draws_give_undefined_diagnostics():
    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=30, n_markers=0, seed=2)
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), sigma2_e=0.5)
    idata = model.sample(draws=30, burn=5, chains=2, seed=1, progress=False, check_convergence=False)
    row = bg.summary(idata).loc["sigma2_e"]
    assert row["mean"] == 0.5 and row["sd"] == 0 and np.isnan(row[["ess_bulk", "r_hat", "mcse_mean"]]).all()
    short = model.sample(draws=3, burn=0, chains=2, seed=1, progress=False, check_convergence=False)
    assert np.isnan(bg.summary(short)["r_hat"]).all() and np.isfinite(bg.summary(short)["mean"]).all()


def test_format_summary_prints_significant_digits():
    """The CLI printed BayesA's scale (about 3e-4) as 0.000."""
    table = pd.DataFrame(
        {"mean": [0.000301234, 12.3456], "sd": [4.5e-5, 0.5], "ess_bulk": [812.4, np.nan], "r_hat": [1.00234, np.nan]},
        index=pd.Index(["scale", "mu"], name="parameter"),
    )
    text = format_summary(table)
    assert re.search(r"scale\s+0\.0003012\s+4\.5e-05\s+812\s+1\.0023", text), text
    assert re.search(r"mu\s+12\.35\s+0\.5\s+n/a\s+n/a", text), text


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"var_names": "u"}, ValueError, r"'u' has dims \('chain', 'draw', 'animal'\): summary covers low-dimensional"),
        ({"var_names": ["nope"]}, ValueError, r"var_names \['nope'\] are not posterior variables"),
        ({"var_names": []}, TypeError, r"var_names must be a variable name or a non-empty list"),
        ({"prob": 1.0}, ValueError, r"prob must be a number in \(0, 1\), got 1\.0"),
        ({"max_size": 0}, ValueError, r"max_size must be an integer >= 1, got 0"),
    ],
)
def test_summary_errors_name_the_argument(animal_fit, kwargs, error, message):
    with pytest.raises(error, match=message):
        bg.summary(animal_fit, **kwargs)
    with pytest.raises(TypeError, match=r"idata must be an arviz\.InferenceData with a posterior group"):
        bg.summary(None)


def test_summary_when_arviz_is_imported_before_bayesgen():
    """arviz imported first keeps numba, and its mcse then returns a (1,) array (found by the docs'
    first example): bg.summary reads every statistic as one float either way."""
    import subprocess
    import sys

    code = (
        "import arviz\nimport bayesgen as bg\n"
        "sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=10, n_markers=10, seed=1)\n"
        "m = bg.AnimalModel(sim.phenotypes, 'y', 'id', sim.pedigree_object())\n"
        "idata = m.sample(draws=40, burn=10, chains=2, seed=1, progress=False, check_convergence=False)\n"
        "print(bg.summary(idata).shape[0] > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("True")
