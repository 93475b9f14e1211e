"""Convergence report and warning (R-hat and bulk ESS of Vehtari et al. 2021, via arviz)."""

import logging
import re
import warnings

import arviz as az
import numpy as np
import pytest

import bayesgen as bg
from bayesgen.output import (
    ConvergenceWarning,
    convergence_report,
    format_convergence,
    scalar_names,
    warn_if_not_converged,
)

CHAINS, DRAWS = 4, 1000


def _iid(rng, chains=CHAINS, draws=DRAWS):
    return rng.standard_normal((chains, draws))


def _stuck(rng, chains=CHAINS, draws=DRAWS):
    """Each chain sits near its own value: between-chain variance dominates."""
    return np.arange(chains, dtype=float)[:, None] + 0.01 * rng.standard_normal((chains, draws))


def _ar1(rng, phi, chains=CHAINS, draws=DRAWS):
    """Stationary AR(1) chains: bulk ESS about chains * draws * (1 - phi) / (1 + phi)."""
    x = np.empty((chains, draws))
    x[:, 0] = rng.standard_normal(chains)
    scale = np.sqrt(1 - phi**2)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + scale * rng.standard_normal(chains)
    return x


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def test_stuck_chains_give_one_warning_naming_the_parameter_with_rhat_and_ess():
    rng = np.random.default_rng(1)
    idata = az.from_dict(
        posterior={"sigma2_a": _stuck(rng), "sigma2_e": _iid(rng), "u": rng.standard_normal((4, 1000, 3))}
    )
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert len(caught) == 1
    message = str(caught[0].message)
    rhat, ess = report.loc["sigma2_a", "r_hat"], report.loc["sigma2_a", "ess_bulk"]
    assert rhat > 1.5 and ess < 50
    assert f"sigma2_a (R-hat {rhat:.4f}, bulk ESS {ess:.0f})" in message
    assert "sigma2_e" not in message and "Vehtari" in message
    assert issubclass(ConvergenceWarning, UserWarning)


def test_iid_normal_draws_give_no_warning():
    rng = np.random.default_rng(2)
    idata = az.from_dict(posterior={"sigma2_a": _iid(rng), "h2": _iid(rng), "rho_ae": _iid(rng)})
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert caught == []
    assert report["ok"].all()
    assert (report["r_hat"] < 1.01).all() and (report["ess_bulk"] > 3000).all()


def test_report_lists_scalars_and_small_vectors_with_its_columns_in_order():
    rng = np.random.default_rng(3)
    idata = az.from_dict(
        posterior={
            "beta": rng.standard_normal((4, 100, 2)),
            "sigma2_e": _iid(rng, draws=100),
            "u": rng.standard_normal((4, 100, 5)),
            "h2": _iid(rng, draws=100),
        },
        coords={"coef": ["Intercept", "Days"]},
        dims={"beta": ["coef"], "u": ["animal_level"]},
    )
    report = convergence_report(idata)
    assert scalar_names(idata) == ["sigma2_e", "h2"]
    # beta's elements are named by their coordinates; u holds per-level effects and is left out.
    assert list(report.index) == ["beta[Intercept]", "beta[Days]", "sigma2_e", "h2"]
    assert list(report.columns) == ["r_hat", "ess_bulk", "ess_tail", "ok"]
    assert report["ok"].dtype == bool


def test_a_stuck_fixed_effect_is_flagged_by_its_coordinate():
    """The case of single-site fixed effects trading off against a random term's mean: beta mixes slowly."""
    rng = np.random.default_rng(9)
    beta = np.stack([_iid(rng), _ar1(rng, phi=0.99)], axis=-1)
    idata = az.from_dict(
        posterior={"beta": beta, "sigma2_e": _iid(rng)}, coords={"coef": ["Intercept", "Days"]}, dims={"beta": ["coef"]}
    )
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert list(report.index[~report["ok"]]) == ["beta[Days]"]
    assert len(caught) == 1
    message = str(caught[0].message)
    ess = report.loc["beta[Days]", "ess_bulk"]
    assert ess < 100 and f"beta[Days] (R-hat {report.loc['beta[Days]', 'r_hat']:.4f}, bulk ESS {ess:.0f})" in message
    assert "beta[Intercept]" not in message and "sigma2_e" not in message


def test_covariance_upper_triangle_and_correlation_strict_upper_triangle():
    rng = np.random.default_rng(10)
    coefs = ["(Intercept)", "Days", "Days2"]
    idata = az.from_dict(
        posterior={"sigma2_S": rng.standard_normal((2, 50, 3, 3)), "rho_S": rng.standard_normal((2, 50, 3, 3))},
        coords={"S_coef_row": coefs, "S_coef_col": coefs},
        dims={"sigma2_S": ["S_coef_row", "S_coef_col"], "rho_S": ["S_coef_row", "S_coef_col"]},
    )
    names = list(convergence_report(idata).index)
    assert names == [
        "sigma2_S[(Intercept), (Intercept)]",
        "sigma2_S[(Intercept), Days]",
        "sigma2_S[(Intercept), Days2]",
        "sigma2_S[Days, Days]",
        "sigma2_S[Days, Days2]",
        "sigma2_S[Days2, Days2]",
        "rho_S[(Intercept), Days]",
        "rho_S[(Intercept), Days2]",
        "rho_S[Days, Days2]",
    ]
    draws = idata.posterior["sigma2_S"].values
    np.testing.assert_array_equal(
        convergence_report(idata).loc["sigma2_S[(Intercept), Days2]", "ess_bulk"],
        az.ess(draws[:, :, 0, 2], method="bulk"),
    )


def test_large_vectors_and_per_level_axes_are_left_out():
    rng = np.random.default_rng(11)
    idata = az.from_dict(
        posterior={
            "alpha": rng.standard_normal((2, 50, 21)),
            "u": rng.standard_normal((2, 50, 3)),
            "a": rng.standard_normal((2, 50, 2)),
            "e": rng.standard_normal((2, 50, 2)),
            "pi": rng.standard_normal((2, 50, 4)),
        },
        dims={"alpha": ["coef"], "u": ["herd_level"], "a": ["marker"], "e": ["record"], "pi": ["bayes_r_class"]},
    )
    assert list(convergence_report(idata).index) == ["pi[0]", "pi[1]", "pi[2]", "pi[3]"]
    # max_size counts values per draw: 21 enters at 21.
    assert len(convergence_report(idata, max_size=21)) == 4 + 21
    assert list(convergence_report(idata, max_size=3).index) == []


def test_each_threshold_flags_on_its_own():
    rng = np.random.default_rng(4)
    # Strongly autocorrelated but well mixed across chains: bulk ESS about 4000 * 0.01 / 1.99 ~ 20.
    slow = _ar1(rng, phi=0.99, draws=1000)
    idata = az.from_dict(posterior={"slow": slow, "fine": _iid(rng)})
    report = convergence_report(idata)
    assert report.loc["slow", "ess_bulk"] < 400 and not report.loc["slow", "ok"]
    assert report.loc["fine", "ok"]
    # Thresholds are parameters: a lax ESS minimum passes the same draws unless R-hat fails.
    lax = convergence_report(idata, rhat_max=2.0, ess_min=1)
    assert lax["ok"].all()
    strict = convergence_report(idata, ess_min=10_000)
    assert not strict["ok"].any()


def test_single_chain_skips_rhat_and_keeps_ess(caplog):
    rng = np.random.default_rng(5)
    idata = az.from_dict(
        posterior={"fine": _iid(rng, chains=1, draws=2000), "slow": _ar1(rng, phi=0.99, chains=1, draws=2000)}
    )
    with caplog.at_level(logging.WARNING, logger="arviz"):
        report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert "Shape validation failed" not in caplog.text  # R-hat is not even attempted
    assert report["r_hat"].isna().all()
    assert report.loc["fine", "ok"] and not report.loc["slow", "ok"]
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "R-hat not computable with one chain" in message
    assert re.search(r"slow \(bulk ESS \d+\)", message) and "fine" not in message


def test_constant_parameter_is_not_flagged():
    """A variance fixed by the user is recorded with identical draws: no Monte Carlo error."""
    rng = np.random.default_rng(6)
    idata = az.from_dict(posterior={"sigma2_e": np.full((4, 500), 2.5), "h2": _iid(rng, draws=500)})
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert caught == [] and report.loc["sigma2_e", "ok"]


@pytest.mark.parametrize("chains", [1, 2])
def test_fewer_than_four_draws_per_chain_are_flagged_without_calling_arviz(caplog, chains):
    rng = np.random.default_rng(8)
    idata = az.from_dict(posterior={"h2": rng.standard_normal((chains, 3)), "sigma2_e": np.full((chains, 3), 1.0)})
    with caplog.at_level(logging.WARNING, logger="arviz"):
        report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert caplog.text == ""
    assert report[["r_hat", "ess_bulk", "ess_tail"]].isna().all().all()
    assert not report.loc["h2", "ok"] and report.loc["sigma2_e", "ok"]  # a constant passes
    message = str(caught[0].message)
    assert "R-hat and ESS need at least 4 draws per chain, got 3" in message
    assert ("h2 (R-hat n/a, bulk ESS n/a)" if chains > 1 else "h2 (bulk ESS n/a)") in message


def test_no_low_dimensional_parameters_give_an_empty_report_and_no_warning():
    idata = az.from_dict(posterior={"u": np.zeros((2, 10, 3))}, dims={"u": ["animal_level"]})
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert report.empty and list(report.columns) == ["r_hat", "ess_bulk", "ess_tail", "ok"] and caught == []


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"rhat_max": 1.0}, "rhat_max must be a number > 1, got 1.0."),
        ({"rhat_max": "1.01"}, "rhat_max must be a number > 1, got '1.01'."),
        ({"ess_min": 0}, "ess_min must be a number > 0, got 0."),
        ({"ess_min": True}, "ess_min must be a number > 0, got True."),
        ({"max_size": 0}, "max_size must be an integer >= 1 (values per draw of a diagnosed vector), got 0."),
        ({"max_size": 2.5}, "max_size must be an integer >= 1 (values per draw of a diagnosed vector), got 2.5."),
    ],
)
def test_bad_thresholds_are_errors_naming_the_argument(kwargs, message):
    idata = az.from_dict(posterior={"h2": np.zeros((2, 10))})
    with pytest.raises(ValueError, match=re.escape(message)):
        convergence_report(idata, **kwargs)


def test_inference_data_without_posterior_is_an_error():
    idata = az.from_dict(observed_data={"y": np.zeros(3)})
    with pytest.raises(ValueError, match="no posterior group"):
        convergence_report(idata)


def test_format_shows_table_verdict_and_wall_time():
    rng = np.random.default_rng(7)
    idata = az.from_dict(posterior={"sigma2_a": _stuck(rng), "h2": _iid(rng)})
    text = format_convergence(convergence_report(idata), seconds=12.345)
    assert text.splitlines()[0] == "Convergence (ok: R-hat <= 1.01 and bulk ESS >= 400; Vehtari et al. 2021):"
    assert "Not converged: sigma2_a." in text and "Sampling wall time: 12.3 s." in text
    one_chain = az.from_dict(posterior={"h2": _iid(rng, chains=1)})
    text = format_convergence(convergence_report(one_chain))
    assert "n/a" in text and "All parameters pass." in text and "wall time" not in text


# ---------------------------------------------------------------------------- a real fit
@pytest.fixture(scope="module")
def animal_model():
    sim = bg.simulate(n_founders=30, n_generations=2, n_offspring=60, n_markers=0, h2=0.4, seed=3)
    return bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])


def _sample_quietly(model, **kwargs):
    """Draws without whatever sample() itself warns, so the check below is the one tested."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.sample(chains=4, seed=1, progress=False, **kwargs)


def test_short_animal_model_run_warns(animal_model):
    idata = _sample_quietly(animal_model, draws=20, burn=0)
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert len(caught) == 1
    flagged = list(report.index[~report["ok"]])
    assert "sigma2_a" in flagged and "h2" in flagged
    for name in flagged:
        assert f"{name} (R-hat" in str(caught[0].message)


def test_long_enough_animal_model_run_does_not_warn(animal_model):
    idata = _sample_quietly(animal_model, draws=2000, burn=300)
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert caught == [], report
    assert list(report.index) == ["beta[Intercept]", "beta[sex[M]]", "sigma2_a", "sigma2_e", "h2"]


def test_cli_prints_the_report_under_the_summary_with_the_wall_time(tmp_path, capsys):
    from bayesgen.cli.main import main

    spec = tmp_path / "spec.toml"
    spec.write_text(
        "[data]\nsimulate = { n_founders = 10, n_generations = 1, n_offspring = 30, n_markers = 0, seed = 1 }\n"
        '[model]\ntype = "animal"\ntrait = "y"\nid = "id"\n[sampler]\ndraws = 10\nburn = 0\nchains = 2\n'
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert main(["fit", str(spec), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    summary_at, report_at = printed.index("r_hat"), printed.index("Convergence (ok: R-hat <= 1.01")
    assert summary_at < report_at
    assert re.search(r"Not converged: .*sigma2_a", printed)
    assert re.search(r"Sampling wall time: \d+\.\d s\.", printed)


# ---------------------------------------------------------------------------- stuck chains
def _metropolis_like(rng, chains=CHAINS, draws=DRAWS, accept=0.6):
    """iid normal proposals kept with probability ``accept``: runs of repeated draws, none long."""
    x = rng.standard_normal((chains, draws))
    for t in range(1, draws):
        keep = rng.random(chains) > accept
        x[keep, t] = x[keep, t - 1]
    return x


def test_a_chain_repeating_one_variance_draw_is_named_with_its_stretch():
    rng = np.random.default_rng(12)
    sigma2_a, sigma2_e = _metropolis_like(rng), _metropolis_like(rng)
    sigma2_a[3, 450:587] = sigma2_a[3, 450]  # chain 3 stuck for 137 iterations, both variances (one step)
    sigma2_e[3, 450:587] = sigma2_e[3, 450]
    h2 = sigma2_a.copy()  # not a variance: its repeats are not counted
    idata = az.from_dict(posterior={"sigma2_a": sigma2_a, "sigma2_e": sigma2_e, "h2": h2})
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert report.attrs["stuck"] == [
        {"parameter": "sigma2_a", "chain": 3, "first_draw": 450, "length": 137},
        {"parameter": "sigma2_e", "chain": 3, "first_draw": 450, "length": 137},
    ]
    # R-hat and ESS alone pass these draws; the stuck stretch flags them.
    assert report.loc["sigma2_a", "r_hat"] <= 1.01 and report.loc["sigma2_a", "ess_bulk"] >= 400
    assert list(report.index[~report["ok"]]) == ["sigma2_a", "sigma2_e"]
    message = str(caught[0].message)
    assert "chain 3 repeated one draw of sigma2_a, sigma2_e for 137 iterations (draws 450-586)" in message
    assert "Stuck: chain 3 repeated one draw of sigma2_a, sigma2_e for 137 iterations" in format_convergence(report)


def test_repeats_up_to_the_threshold_are_not_flagged():
    from bayesgen.output.convergence import STUCK_REPEATS, longest_repeat

    rng = np.random.default_rng(13)
    sigma2_a = _metropolis_like(rng)
    assert longest_repeat(sigma2_a)[0] < 20  # acceptance 0.6: runs stay short
    sigma2_a[1, 100 : 100 + STUCK_REPEATS] = sigma2_a[1, 100]
    assert longest_repeat(sigma2_a) == (STUCK_REPEATS, 1, 100)
    idata = az.from_dict(posterior={"sigma2_a": sigma2_a})
    report, caught = _caught(lambda: warn_if_not_converged(idata))
    assert report.attrs["stuck"] == [] and report["ok"].all() and caught == []
    sigma2_a[1, 100 : 101 + STUCK_REPEATS] = sigma2_a[1, 100]
    assert bg.output.stuck_chains(az.from_dict(posterior={"sigma2_a": sigma2_a}))[0]["length"] == STUCK_REPEATS + 1
