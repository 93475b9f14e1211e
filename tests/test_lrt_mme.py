"""bg.lrt (boundary mixture, fixed effects under ML) and bg.solve_mme (issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import bayesgen as bg
from bayesgen.classical.lrt import boundary_p_value


def _gryphon_model(shared_data):
    gry = pd.read_csv(shared_data / "gryphon.csv").dropna(subset=["bwt"]).reset_index(drop=True)
    gry = gry.assign(sex=gry["sex"].astype(str), byear=gry["byear"].astype(str), mother=gry["mother"].astype(str))
    ped = bg.Pedigree.from_csv(shared_data / "gryphonped.csv", id="id", sire="father", dam="mother")
    return gry, ped


def test_boundary_mixture_p_values():
    assert boundary_p_value(0.0) == 1.0
    assert boundary_p_value(3.84) == pytest.approx(0.5 * scipy.stats.chi2.sf(3.84, 1))
    assert boundary_p_value(2.0, 3) == pytest.approx(
        0.5 * scipy.stats.chi2.sf(2.0, 2) + 0.5 * scipy.stats.chi2.sf(2.0, 3)
    )


def test_lrt_of_a_variance_and_of_a_fixed_effect(shared_data):
    gry, ped = _gryphon_model(shared_data)
    full = bg.reml(bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear")]))
    reduced = bg.reml(bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped)]))
    test = bg.lrt(full, reduced)
    assert test["df"] == 1 and "sigma2_byear" in test["test"]
    assert test["statistic"] == pytest.approx(2 * (full.loglik - reduced.loglik))
    assert test["p_value"] == pytest.approx(0.5 * scipy.stats.chi2.sf(test["statistic"], 1))
    with pytest.raises(ValueError, match="not comparable"):
        bg.lrt(full, bg.reml(bg.Model(gry, "bwt", [bg.Fixed([]), bg.Animal("animal", ped), bg.Random("byear")])))
    ml_full = bg.reml(bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped)]), reml=False)
    ml_reduced = bg.reml(bg.Model(gry, "bwt", [bg.Fixed([]), bg.Animal("animal", ped)]), reml=False)
    fixed = bg.lrt(ml_full, ml_reduced)
    assert fixed["test"] == "fixed effects" and fixed["df"] == 1
    assert fixed["p_value"] == pytest.approx(scipy.stats.chi2.sf(fixed["statistic"], 1))
    assert fixed["p_value"] < 1e-10  # sex matters for birth weight
    with pytest.raises(ValueError, match="both REML or both ML"):
        bg.lrt(full, ml_reduced)


@pytest.mark.statistical
def test_null_distribution_of_the_variance_lrt_is_the_boundary_mixture():
    """sigma2_group = 0 (200 replicates): about half the statistics exactly 0, the rest chi2_1."""
    rng = np.random.default_rng(2019)
    statistics = []
    for _ in range(200):
        data = pd.DataFrame({"group": np.repeat([f"g{k}" for k in range(40)], 10), "y": rng.normal(size=400)})
        full = bg.reml(bg.Model(data, "y", [bg.Fixed([]), bg.Random("group")]))
        reduced = bg.reml(bg.Model(data, "y", [bg.Fixed([])]))
        statistics.append(bg.lrt(full, reduced)["statistic"])
    statistics = np.array(statistics)
    zero = statistics < 1e-6
    # binomial(200, 1/2): sd 0.035; 4 sd
    assert abs(zero.mean() - 0.5) < 4 * 0.5 / np.sqrt(200), zero.mean()
    assert scipy.stats.kstest(statistics[~zero], scipy.stats.chi2(1).cdf).pvalue > 0.01


@pytest.mark.parametrize("method", ["gauss-seidel", "gsru", "pcg"])
def test_every_solver_equals_cholesky(shared_data, method):
    gry, ped = _gryphon_model(shared_data)
    model = bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear"), bg.Random("mother")])
    variances = bg.reml(model).variances
    exact = bg.solve_mme(model, variances)
    out = bg.solve_mme(model, variances, method=method)
    assert out.converged and out.iterations > 1
    assert np.max(np.abs(out.solution - exact.solution)) < 1e-8
    assert list(out.solution.index[:2]) == ["beta[Intercept]", "beta[sex[2]]"]
    assert round(exact.solution["beta[sex[2]]"], 3) == 1.969  # REFERENCES.md


def test_pcg_block_preconditioner_with_two_traits(shared_data):
    gry, ped = _gryphon_model(shared_data)
    data = pd.read_csv(shared_data / "gryphon.csv").assign(sex=lambda d: d["sex"].astype(str))
    data = data.dropna(subset=["bwt", "tarsus"], how="all").reset_index(drop=True)
    model = bg.Model(data, ["bwt", "tarsus"], [bg.Fixed(["sex"]), bg.Animal("animal", ped)])
    variances = bg.reml(model).variances
    exact = bg.solve_mme(model, variances)
    for preconditioner in ("diagonal", "block"):
        out = bg.solve_mme(model, variances, method="pcg", preconditioner=preconditioner)
        assert np.max(np.abs(out.solution - exact.solution)) < 1e-8
    with pytest.raises(ValueError, match="one trait"):
        bg.solve_mme(model, variances, method="gsru")
    with pytest.raises(ValueError, match="sigma2_e"):
        bg.solve_mme(model, variances.drop("sigma2_e[bwt,bwt]"))


# ---------------------------------------------------------------------- sample(init="reml") and the CLI
def test_init_reml_starts_chains_around_reml_reproducibly(shared_data):
    gry, ped = _gryphon_model(shared_data)
    model = bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped)])
    fit = bg.reml(model)
    from bayesgen.classical.start import reml_start
    from bayesgen.sampler.gibbs import Gibbs

    start = reml_start(model, fit)
    gibbs = Gibbs(model)
    chains = [gibbs.init(np.random.default_rng(seed), start) for seed in range(40)]
    values = np.array([c.states[1]["sigma2"][0, 0] for c in chains])
    # drawn from N(estimate, DISPERSION^2 se^2): 40 draws, their mean within 4 standard errors of the
    # mean and their sd within [0.6, 1.4] of DISPERSION se (chi-square with 39 df: 4.3 sd either side)
    from bayesgen.classical.start import DISPERSION

    spread = DISPERSION * fit.se["sigma2_a"]
    assert abs(values.mean() - fit.variances["sigma2_a"]) < 4 * spread / np.sqrt(40)
    assert 0.6 * spread < values.std(ddof=1) < 1.4 * spread
    np.testing.assert_allclose(model.terms[0].effects(chains[0].states[0])[:, 0], fit.blue["estimate"].to_numpy())
    a = model.sample(draws=20, burn=0, chains=2, seed=5, progress=False, init="reml", check_convergence=False)
    b = model.sample(draws=20, burn=0, chains=2, seed=5, progress=False, init="reml", check_convergence=False, cores=1)
    np.testing.assert_array_equal(a.posterior["sigma2_a"].values, b.posterior["sigma2_a"].values)
    with pytest.raises(ValueError, match="init must be"):
        model.sample(draws=5, init="mode")


def test_cli_reml_and_gwas(tmp_path, capsys):
    from pathlib import Path

    from bayesgen.cli.main import main

    models = Path(__file__).resolve().parents[1] / "models"
    out = tmp_path / "reml.csv"
    assert main(["reml", str(models / "animal.toml"), "--output", str(out)]) == 0
    table = pd.read_csv(out, index_col="parameter")
    assert {"sigma2_a", "sigma2_e", "h2"} <= set(table.index)
    assert main(["reml", str(models / "BRR.toml")]) == 2
    assert "GBLUP kernel" in capsys.readouterr().err
    scan = tmp_path / "scan.csv"
    assert main(["gwas", str(models / "GBLUP.toml"), "--top", "2", "--output", str(scan)]) == 0
    result = pd.read_csv(scan)
    assert list(result.columns[:2]) == ["marker", "effect"] and len(result) == 1000
    assert main(["gwas", str(models / "animal.toml")]) == 2


def test_gsru_never_builds_the_mixed_model_equations(shared_data, monkeypatch):
    """GSRU works from the designs and prior precisions: no C, so no M'M (Legarra & Misztal 2008)."""
    gry, ped = _gryphon_model(shared_data)
    model = bg.Model(gry, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear")])
    variances = {"sigma2_a": 2.7, "sigma2_byear": 0.9, "sigma2_e": 2.3}
    exact = bg.solve_mme(model, variances)
    import bayesgen.classical.problem as problem_module

    def refuse(*args, **kwargs):
        raise AssertionError("the mixed-model equations were built")

    monkeypatch.setattr(problem_module, "MixedModelEquations", refuse)
    out = bg.solve_mme(model, variances, method="gsru")
    assert np.max(np.abs(out.solution - exact.solution)) < 1e-8
    with pytest.raises(AssertionError, match="were built"):
        bg.solve_mme(model, variances, method="pcg")
