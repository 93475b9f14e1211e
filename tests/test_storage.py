"""Compact InferenceData files (``save``/``load``) and the ``store="auto"`` rule."""

import re
import warnings

import arviz as az
import h5py
import numpy as np
import pytest

import bayesgen as bg
from bayesgen.output import STORE_BUDGET, choose_store, high_dimensional_values, load, resolve_store, save
from bayesgen.output.convergence import scalar_names

QUICKSTART_VALUES = 1100 + 954 + 2 * 46  # u, log-likelihood, mu and y of missing records (models/animal.toml)
GRYPHON_VALUES = 1309 + 394 + 34 + 854  # u, mother, byear, log-likelihood (4 components)


# ---------------------------------------------------------------------------- choose_store
def test_choose_store_is_full_up_to_the_budget_and_summary_above():
    assert choose_store(1000, 250, 100, budget=25_000_000) == "full"  # exactly at the budget
    assert choose_store(1000, 251, 100, budget=25_000_000) == "summary"
    assert choose_store(0, 10**9, 100) == "full"  # nothing high-dimensional to keep
    assert STORE_BUDGET == 25_000_000


def test_choose_store_on_the_quickstart_and_gryphon():
    assert choose_store(QUICKSTART_VALUES, 2000, 4) == "full"
    assert choose_store(GRYPHON_VALUES, 20_000, 2) == "summary"


@pytest.mark.parametrize(
    "args,message",
    [
        ((-1, 10, 2), "n_values_per_draw must be an integer >= 0, got -1."),
        ((10, 0, 2), "draws must be an integer >= 1, got 0."),
        ((10, 10, 2.0), "chains must be an integer >= 1, got 2.0."),
        ((10, True, 2), "draws must be an integer >= 1, got True."),
    ],
)
def test_choose_store_bad_counts_are_errors_naming_the_argument(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        choose_store(*args)


def test_resolve_store_keeps_explicit_modes_and_applies_the_rule_for_auto():
    assert resolve_store("full", GRYPHON_VALUES, 20_000, 2) == "full"
    assert resolve_store("summary", 1, 1, 1) == "summary"
    assert resolve_store("auto", GRYPHON_VALUES, 20_000, 2) == "summary"
    assert resolve_store("auto", QUICKSTART_VALUES, 2000, 4) == "full"
    with pytest.raises(ValueError, match=re.escape("store must be one of 'auto', 'full', 'summary', got 'ful'.")):
        resolve_store("ful", 1, 1, 1)


# ---------------------------------------------------------------------------- save / load
@pytest.fixture(scope="module")
def fit():
    """An animal model with missing records: posterior, log-likelihood, predictions, observed data."""
    sim = bg.simulate(n_founders=30, n_generations=2, n_offspring=60, n_markers=0, h2=0.4, missing=0.1, seed=4)
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
    idata = model.sample(draws=300, burn=100, chains=2, seed=1, progress=False)
    return model, idata


def test_round_trip_keeps_scalar_summary_loo_and_predictions(fit, tmp_path):
    model, idata = fit
    path = save(idata, tmp_path / "fit.nc")
    back = load(path)
    assert set(back.groups()) == set(idata.groups())
    names = scalar_names(idata)
    assert names == ["sigma2_a", "sigma2_e", "h2"]
    # Scalars and fixed effects are stored as float64: summaries identical to the last digit.
    assert az.summary(back, var_names=names + ["beta"]).equals(az.summary(idata, var_names=names + ["beta"]))
    for name in names + ["beta"]:
        np.testing.assert_array_equal(back.posterior[name].values, idata.posterior[name].values)
    # High-dimensional draws are float32: loo and predictions agree to float32 rounding.
    assert back.posterior["u"].dtype == np.float32 and back.log_likelihood["y"].dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto-k warnings of a tiny fit: not what is tested
        loo_before, loo_after = az.loo(idata), az.loo(back)
    assert abs(loo_after.elpd_loo - loo_before.elpd_loo) < 1e-4
    assert abs(loo_after.p_loo - loo_before.p_loo) < 1e-4
    pred_before, pred_after = model.predict(idata), model.predict(back)
    for column in ("mean", "sd", "lower", "upper"):
        np.testing.assert_allclose(pred_after[column].values, pred_before[column].values, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(back.observed_data["y"].values, idata.observed_data["y"].values)
    assert back.attrs["seed"] == idata.attrs["seed"] and back.attrs["model"] == idata.attrs["model"]
    for group in idata.groups():
        for name, variable in idata[group].coords.items():
            np.testing.assert_array_equal(back[group][name].values, variable.values)


def test_saved_file_is_smaller_than_arviz_to_netcdf(fit, tmp_path):
    _, idata = fit
    arviz_file = tmp_path / "arviz.nc"
    idata.to_netcdf(str(arviz_file))
    ours = save(idata, tmp_path / "ours.nc")
    # float32 high-dimensional draws against zlib-compressed float64: 0.58 of the size on this small fit.
    assert ours.stat().st_size < 0.7 * arviz_file.stat().st_size


def test_level_turns_on_shuffle_and_zlib(fit, tmp_path):
    _, idata = fit
    plain = save(idata, tmp_path / "plain.nc")
    packed = save(idata, tmp_path / "packed.nc", level=1)
    with h5py.File(plain) as f:
        assert f["posterior/u"].compression is None and f["posterior/u"].dtype == np.float32
    with h5py.File(packed) as f:
        assert f["posterior/u"].compression == "gzip" and f["posterior/u"].compression_opts == 1
        assert f["posterior/u"].shuffle and f["posterior/sigma2_a"].dtype == np.float64
    assert packed.stat().st_size < plain.stat().st_size
    np.testing.assert_array_equal(load(packed).posterior["u"].values, load(plain).posterior["u"].values)


def test_float32_min_size_none_keeps_float64(fit, tmp_path):
    _, idata = fit
    back = load(save(idata, tmp_path / "f64.nc", float32_min_size=None))
    np.testing.assert_array_equal(back.posterior["u"].values, idata.posterior["u"].values)
    assert back.log_likelihood["y"].dtype == np.float64


def test_summary_store_round_trips(fit, tmp_path):
    model, _ = fit
    idata = model.sample(draws=50, burn=10, chains=2, seed=2, progress=False, store="summary")
    back = load(save(idata, tmp_path / "summary.nc"))
    assert "log_likelihood" not in back.groups() and "u" not in back.posterior
    np.testing.assert_array_equal(back.posterior_summary["u_mean"].values, idata.posterior_summary["u_mean"].values)


def test_save_does_not_modify_the_inference_data(fit, tmp_path):
    _, idata = fit
    save(idata, tmp_path / "fit.nc", level=1)
    assert idata.posterior["u"].dtype == np.float64 and idata.log_likelihood["y"].dtype == np.float64


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"level": 10}, ValueError, "level must be an integer from 0 (no compression) to 9, got 10."),
        ({"level": True}, ValueError, "level must be an integer from 0 (no compression) to 9, got True."),
        (
            {"float32_min_size": 0},
            ValueError,
            "float32_min_size must be an integer >= 1 or None (keep float64), got 0.",
        ),
    ],
)
def test_bad_save_options_are_errors_naming_the_argument(fit, tmp_path, kwargs, error, message):
    _, idata = fit
    with pytest.raises(error, match=re.escape(message)):
        save(idata, tmp_path / "x.nc", **kwargs)
    assert not (tmp_path / "x.nc").exists()


def test_save_needs_inference_data_and_an_existing_folder(fit, tmp_path):
    _, idata = fit
    with pytest.raises(TypeError, match=re.escape("idata must be an arviz.InferenceData, got dict.")):
        save({}, tmp_path / "x.nc")
    missing = tmp_path / "no" / "such"
    with pytest.raises(FileNotFoundError, match=re.escape(f"folder {missing} does not exist")):
        save(idata, missing / "x.nc")


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"No InferenceData file at {tmp_path / 'none.nc'}.")):
        load(tmp_path / "none.nc")


def test_high_dimensional_values_counts_the_flagged_variables_of_a_model(fit):
    model, idata = fit
    n = sum(
        idata[g][name].isel(chain=0, draw=0).size
        for g, name in (
            ("posterior", "u"),
            ("log_likelihood", "y"),
            ("predictions", "mu"),
            ("predictions", "y"),
            ("posterior_predictive", "y"),
        )
    )
    assert high_dimensional_values(model.variables()) == n


# ---------------------------------------------------------------------------- command line
SPEC = """
[data]
simulate = { n_founders = 10, n_generations = 1, n_offspring = 30, n_markers = 0, missing = 0.1, seed = 1 }
[model]
type = "animal"
trait = "y"
id = "id"
[sampler]
draws = 20
burn = 5
chains = 2
seed = 1
"""


def _fit(tmp_path, *options):
    from bayesgen.cli.main import main

    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "fit.nc"
    code = main(["fit", str(spec), "--output", str(out), "--no-progress", *options])
    return code, out


def test_cli_writes_with_save(tmp_path):
    code, out = _fit(tmp_path)
    assert code == 0
    back = load(out)
    assert back.posterior["u"].dtype == np.float32 and back.posterior["sigma2_a"].dtype == np.float64


def test_cli_store_summary_overrides_the_spec(tmp_path):
    code, out = _fit(tmp_path, "--store", "summary")
    assert code == 0
    back = load(out)
    assert "u" not in back.posterior and "u_mean" in back.posterior_summary and "log_likelihood" not in back.groups()


def test_cli_store_auto_prints_its_choice(tmp_path, capsys):
    code, out = _fit(tmp_path, "--store", "auto")
    assert code == 0
    # u of 40 animals, log-likelihood and replicated y of 29 observed records, mu and y of 1 missing
    values = 40 + 2 * 29 + 2 * 1
    assert f"store = 'auto': 2 chains x 20 draws x {values} values" in capsys.readouterr().out
    assert "u" in load(out).posterior


def test_cli_store_rejects_an_unknown_mode(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _fit(tmp_path, "--store", "some")
    assert exit_info.value.code == 2
    assert "argument --store: invalid choice: 'some'" in capsys.readouterr().err


# ---------------------------------------------------------------------------- running PIP
@pytest.fixture(scope="module")
def sparse_markers():
    sim = bg.simulate(
        n_founders=20, n_generations=2, n_offspring=40, n_markers=60, n_qtl=4, h2=0.5, genetic_model="markers", seed=21
    )
    return sim


SPIKE_SLAB = {
    "BayesB": lambda: bg.BayesBPrior(pi=0.2),
    "BayesC": lambda: bg.BayesCPrior(pi=0.2),
    "BayesCpi": lambda: bg.BayesCPrior(pi=bg.Beta(2.0, 8.0)),
    "BayesR": lambda: bg.BayesRPrior(),
}


@pytest.mark.parametrize("prior", list(SPIKE_SLAB), ids=list(SPIKE_SLAB))
def test_running_pip_equals_the_pip_of_full_draws_of_the_same_seed(sparse_markers, prior):
    sim = sparse_markers

    def fit(store):
        model = bg.Model(sim.phenotypes, "y", [bg.Fixed(), bg.Markers("id", sim.genotypes, prior=SPIKE_SLAB[prior]())])
        return model, model.sample(draws=40, burn=5, chains=2, seed=3, progress=False, store=store)

    model, full = fit("full")
    _, summary = fit("summary")
    alpha = full.posterior["alpha"]
    expected = (alpha != 0).mean(("chain", "draw")).values
    assert ((expected > 0) & (expected < 1)).any()  # shares strictly between 0 and 1: the check has teeth
    np.testing.assert_array_equal(summary.posterior_summary["alpha_pip"].values, expected)
    np.testing.assert_allclose(summary.posterior_summary["alpha_mean"], alpha.mean(("chain", "draw")), atol=1e-12)
    table_full = bg.gwas.markers(full, model)
    table_summary = bg.gwas.markers(summary, model)
    np.testing.assert_array_equal(table_summary["pip"], table_full["pip"])
    np.testing.assert_allclose(table_summary["sd"], table_full["sd"], rtol=1e-9)
    assert table_summary["mean_abs"].isna().all()


def test_continuous_priors_keep_no_running_pip(sparse_markers):
    sim = sparse_markers
    model = bg.BRR(sim.phenotypes, "y", "id", sim.genotypes)
    idata = model.sample(draws=10, burn=0, chains=1, seed=1, progress=False, store="summary")
    assert "alpha_mean" in idata.posterior_summary and "alpha_pip" not in idata.posterior_summary
    table = bg.gwas.markers(idata, model)
    assert table["pip"].isna().all() and "continuous prior" in table.attrs["pip"]
    np.testing.assert_array_equal(table["mean"], idata.posterior_summary["alpha_mean"])


def test_running_pip_round_trips_through_save(sparse_markers, tmp_path):
    sim = sparse_markers
    model = bg.BayesC(sim.phenotypes, "y", "id", sim.genotypes, pi=0.2)
    idata = model.sample(draws=10, burn=0, chains=1, seed=1, progress=False, store="summary")
    save(idata, tmp_path / "fit.nc")
    back = load(tmp_path / "fit.nc")
    np.testing.assert_allclose(back.posterior_summary["alpha_pip"], idata.posterior_summary["alpha_pip"], rtol=1e-6)


def test_a_summary_of_other_markers_is_rejected_by_gwas_markers(sparse_markers):
    sim = sparse_markers
    model = bg.BayesC(sim.phenotypes, "y", "id", sim.genotypes, pi=0.2)
    idata = model.sample(draws=3, burn=0, chains=1, seed=1, progress=False, store="summary")
    other = idata.copy()
    other.posterior_summary = other.posterior_summary.isel(marker=slice(0, 10))
    with pytest.raises(
        ValueError,
        match=r"markers of the InferenceData's posterior_summary \(coordinate 'marker' "
        r"of 'alpha_mean': 10\) do not match the model's",
    ):
        bg.gwas.markers(other, model)
