"""The driver and the InferenceData it returns: reproducibility, structure, storage, interrupt."""

import _thread
import signal
import threading
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesgen as bg


@pytest.fixture(scope="module")
def sim():
    return bg.simulate(n_founders=20, n_generations=2, n_offspring=50, n_markers=80, seed=8, missing=0.1)


@pytest.fixture(scope="module")
def animal_model(sim):
    return bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])


def test_same_seed_same_draws_serial_or_parallel(sim):
    model = bg.BayesA(sim.phenotypes, "y", "id", sim.genotypes, fixed=["sex"])
    serial = model.sample(draws=30, burn=10, chains=3, seed=42, progress=False, cores=1)
    parallel = model.sample(draws=30, burn=10, chains=3, seed=42, progress=False, cores=2)
    again = model.sample(draws=30, burn=10, chains=3, seed=42, progress=False)
    for group in ("posterior", "log_likelihood", "predictions"):
        xr.testing.assert_equal(serial[group], parallel[group])  # exact values; attrs hold a timestamp
        xr.testing.assert_equal(serial[group], again[group])
    other = model.sample(draws=30, burn=10, chains=3, seed=43, progress=False)
    assert not np.array_equal(other.posterior["alpha"].values, serial.posterior["alpha"].values)
    # Chains differ from each other.
    assert not np.array_equal(serial.posterior["alpha"].values[0], serial.posterior["alpha"].values[1])


def test_seed_none_is_recorded_and_reproduces(animal_model):
    idata = animal_model.sample(draws=5, burn=0, chains=2, seed=None, progress=False)
    seed = int(idata.posterior.attrs["seed"])
    again = animal_model.sample(draws=5, burn=0, chains=2, seed=seed, progress=False)
    xr.testing.assert_equal(idata.posterior, again.posterior)


def test_inference_data_names_dims_and_coords(sim, animal_model):
    idata = animal_model.sample(draws=40, burn=10, chains=2, seed=1, progress=False)
    post = idata.posterior
    ped = sim.pedigree_object()
    assert post["u"].dims == ("chain", "draw", "animal")
    assert list(post["u"].coords["animal"].values) == ped.ids  # ancestors without records included
    assert len(ped.ids) > len(sim.phenotypes)
    assert list(post["beta"].coords["coef"].values) == ["Intercept", "sex[M]"]
    for name in ("sigma2_a", "sigma2_e", "h2"):
        assert post[name].dims == ("chain", "draw")
    np.testing.assert_allclose(post["h2"], post["sigma2_a"] / (post["sigma2_a"] + post["sigma2_e"]))
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "record")
    assert idata.observed_data["y"].dims == ("record",)
    np.testing.assert_array_equal(idata.log_likelihood["record"], idata.observed_data["record"])
    attrs = idata.posterior.attrs
    assert attrs["library"] == "bayesgen" and "sigma2_a" in attrs["priors"] and "Animal" in attrs["model"]
    # arviz works with no glue.
    summary = az.summary(idata, var_names=["sigma2_a", "sigma2_e", "h2"])
    assert {"r_hat", "ess_bulk"} <= set(summary.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto-k warnings on a short run are expected
        loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo)


def test_conditional_log_likelihood_is_the_normal_density_of_each_record(sim):
    animal_model = bg.Model(
        sim.phenotypes, "y", [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object())], log_likelihood="conditional"
    )
    idata = animal_model.sample(draws=3, burn=0, chains=1, seed=5, progress=False)
    post = idata.posterior
    obs = animal_model.observed
    x = animal_model.terms[0].x[obs]
    ids = animal_model.data["id"].to_numpy()[obs]
    mu = post["beta"].values[0] @ x.T + post["u"].sel(animal=list(ids)).values[0]
    sigma2 = post["sigma2_e"].values[0][:, None]
    expected = -0.5 * np.log(2 * np.pi * sigma2) - 0.5 * (animal_model.y[obs] - mu) ** 2 / sigma2
    np.testing.assert_allclose(idata.log_likelihood["y"].values[0], expected, atol=1e-8)


def test_marginal_log_likelihood_integrates_out_each_records_own_effect(sim):
    """Default: u_i | u_-i ~ N(u_i - (A^-1 u)_i / A^-1_ii, sigma2_a / A^-1_ii) is integrated out."""
    ped = sim.pedigree_object()
    model = bg.Model(sim.phenotypes, "y", [bg.Fixed(["sex"]), bg.Animal("id", ped)])
    idata = model.sample(draws=3, burn=0, chains=1, seed=5, progress=False)
    post = idata.posterior
    obs = model.observed
    x = model.terms[0].x[obs]
    ids = model.data["id"].to_numpy()[obs]
    ainv = ped.ainv().toarray()
    rows = ped.index(ids)
    for d in range(3):
        u = post["u"].values[0, d]
        mu = x @ post["beta"].values[0, d] + u[rows]
        shift = (ainv @ u)[rows] / np.diag(ainv)[rows]  # each animal has one record here
        variance = post["sigma2_e"].values[0, d] + post["sigma2_a"].values[0, d] / np.diag(ainv)[rows]
        r = model.y[obs] - mu + shift
        expected = -0.5 * np.log(2 * np.pi * variance) - 0.5 * r**2 / variance
        np.testing.assert_allclose(idata.log_likelihood["y"].values[0, d], expected, atol=1e-8)


def test_marginal_log_likelihood_of_an_iid_term_with_one_record_per_level():
    """With P = I, y_r | beta ~ N(x_r beta, sigma2_e + sigma2_u): checked exactly."""
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"y": rng.normal(size=30), "unit": np.arange(30)})
    model = bg.Model(data, "y", [bg.Fixed(), bg.Random("unit")])
    idata = model.sample(draws=4, burn=0, chains=1, seed=1, progress=False)
    post = idata.posterior
    variance = (post["sigma2_e"] + post["sigma2_unit"]).values[0][:, None]
    r = data["y"].to_numpy()[None, :] - post["beta"].values[0, :, :1]
    expected = -0.5 * np.log(2 * np.pi * variance) - 0.5 * r**2 / variance
    np.testing.assert_allclose(idata.log_likelihood["y"].values[0], expected, atol=1e-9)


def test_posterior_predictive_replicates_the_observed_records(animal_model):
    idata = animal_model.sample(draws=50, burn=5, chains=2, seed=3, progress=False)
    rep = idata.posterior_predictive["y"]
    assert rep.dims == ("chain", "draw", "record")
    np.testing.assert_array_equal(rep["record"].values, idata.observed_data["record"].values)
    assert abs(float(rep.mean()) - float(idata.observed_data["y"].mean())) < 0.5


def test_summary_storage_keeps_mean_and_sd_of_high_dimensional_effects(sim, animal_model):
    full = animal_model.sample(draws=50, burn=5, chains=2, seed=9, progress=False)
    summary = animal_model.sample(draws=50, burn=5, chains=2, seed=9, progress=False, store="summary")
    assert "u" not in summary.posterior and "sigma2_a" in summary.posterior
    assert "log_likelihood" not in summary.groups()
    u = full.posterior["u"]
    np.testing.assert_allclose(summary.posterior_summary["u_mean"], u.mean(("chain", "draw")), atol=1e-12)
    np.testing.assert_allclose(summary.posterior_summary["u_sd"], u.std(("chain", "draw"), ddof=1), rtol=1e-9)
    xr.testing.assert_equal(full.posterior["sigma2_a"], summary.posterior["sigma2_a"])


def test_burn_thin_and_draw_counts(animal_model):
    idata = animal_model.sample(draws=7, burn=3, thin=3, chains=2, seed=1, progress=False)
    assert idata.posterior.sizes["draw"] == 7 and idata.posterior.sizes["chain"] == 2
    # Thinning keeps the last iteration of every block of `thin`.
    longer = animal_model.sample(draws=21, burn=3, thin=1, chains=2, seed=1, progress=False)
    np.testing.assert_array_equal(idata.posterior["sigma2_e"], longer.posterior["sigma2_e"][:, 2::3])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"draws": 0}, "draws must be an integer >= 1"),
        ({"thin": 1.5}, "thin must be an integer >= 1"),
        ({"chains": -1}, "chains must be an integer >= 1"),
        ({"store": "some"}, "store must be one of 'auto', 'full', 'summary'"),
    ],
)
def test_invalid_sampler_arguments(animal_model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        animal_model.sample(progress=False, **kwargs)


def test_netcdf_round_trip(tmp_path, animal_model):
    idata = animal_model.sample(draws=10, burn=0, chains=2, seed=3, progress=False)
    path = tmp_path / "fit.nc"
    idata.to_netcdf(str(path))
    back = az.from_netcdf(str(path))
    np.testing.assert_array_equal(back.posterior["u"].values, idata.posterior["u"].values)
    assert list(back.posterior["u"].coords["animal"].values) == list(idata.posterior["u"].coords["animal"].values)


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler for the test: a handler an earlier test's library left installed
    (asyncio's runner cancels its main task on the first SIGINT instead of raising) must not
    swallow the simulated Ctrl-C. A full serial run once waited 20 min here, the interrupt lost."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_returns_the_draws_made_so_far(animal_model):
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.warns(UserWarning, match="Sampling interrupted: returning the first"):
            idata = animal_model.sample(draws=10**7, burn=0, chains=2, seed=1, progress=False)
    finally:
        timer.cancel()
    n = idata.posterior.sizes["draw"]
    assert 0 < n < 10**7
    assert np.isfinite(idata.posterior["sigma2_a"].values).all()
    assert idata.posterior.attrs["interrupted"] == 1


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_keeps_the_chains_that_ran_when_chains_exceed_cores(animal_model):
    """Chains queued behind the running one never start: they are dropped, the others kept."""
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.warns(UserWarning, match=r"of 1 chain\(s\); 2 chain\(s\) that had not started were dropped"):
            idata = animal_model.sample(draws=10**7, burn=0, chains=3, cores=1, seed=1, progress=False)
    finally:
        timer.cancel()
    assert idata.posterior.sizes["chain"] == 1 and idata.posterior.sizes["draw"] > 0
    assert idata.posterior.attrs["interrupted"] == 1


def test_resume_continues_the_chains_exactly(animal_model):
    whole = animal_model.sample(draws=60, burn=10, chains=2, seed=4, progress=False)
    animal_model.sample(draws=25, burn=10, chains=2, seed=4, progress=False)
    rest = animal_model.sample(draws=35, resume=True, progress=False)
    for name in ("sigma2_a", "sigma2_e", "u"):
        np.testing.assert_array_equal(rest.posterior[name].values, whole.posterior[name].values[:, 25:])


def test_resume_needs_an_earlier_run(sim):
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object())
    with pytest.raises(ValueError, match="resume=True needs an earlier sample"):
        model.sample(draws=5, resume=True, progress=False)


def test_sample_stats_hold_per_iteration_information(animal_model):
    idata = animal_model.sample(draws=20, burn=5, chains=2, seed=2, progress=False)
    assert idata.sample_stats["seconds"].dims == ("chain", "draw")
    assert (idata.sample_stats["seconds"].values > 0).all()


def test_marginal_log_likelihood_with_crossed_multi_record_levels_is_exact():
    """log p(y_r | y_-r, phi), record r's two effects integrated out, against dense Gaussian conditioning."""
    rng = np.random.default_rng(8)
    n = 24
    data = pd.DataFrame({"y": rng.normal(size=n), "a": rng.integers(0, 5, n), "b": rng.integers(0, 3, n)})
    data.loc[[2, 7], "y"] = np.nan
    model = bg.Model(data, "y", [bg.Fixed(), bg.Random("a"), bg.Random("b")], sampler="single-site")
    idata = model.sample(draws=2, burn=3, chains=1, seed=4, progress=False)
    post = idata.posterior
    obs = np.flatnonzero(model.observed)
    y = model.y
    for d in range(2):
        beta = post["beta"].values[0, d, 0]
        a, b = post["a"].values[0, d], post["b"].values[0, d]
        s2a, s2b, s2e = (post[k].values[0, d] for k in ("sigma2_a", "sigma2_b", "sigma2_e"))
        expected = []
        for r in obs:
            ia, ib = data["a"][r], data["b"][r]
            # phi: every effect except record r's own two levels, which keep their N(0, sigma2) priors.
            mean = beta + np.where(data["a"] == ia, 0.0, a[data["a"]]) + np.where(data["b"] == ib, 0.0, b[data["b"]])
            za = (data["a"] == ia).to_numpy(float)
            zb = (data["b"] == ib).to_numpy(float)
            cov = s2e * np.eye(n) + s2a * np.outer(za, za) + s2b * np.outer(zb, zb)
            others = np.array([k for k in obs if k != r])
            k = cov[r, others] @ np.linalg.inv(cov[np.ix_(others, others)])
            m = mean[r] + k @ (y[others] - mean[others])
            v = cov[r, r] - k @ cov[others, r]
            expected.append(-0.5 * np.log(2 * np.pi * v) - 0.5 * (y[r] - m) ** 2 / v)
        np.testing.assert_allclose(idata.log_likelihood["y"].values[0, d], expected, atol=1e-9)


def _interrupting_run_chain(monkeypatch, iterations: dict):
    """Make the driver's chain ``c`` stop after ``iterations[c]`` iterations by Ctrl-C, whatever
    the timing: the chain that reaches its count first waits for every chain outside the dict to
    finish, then interrupts the main thread; a chain with count 0 waits for that interrupt
    before it waits for the stop; every chain in the dict then waits for the driver to stop. So
    where each chain stops is deterministic (a first version interrupted at once and lost the
    race on a slow, cold-cache run: the main thread only sees the interrupt after its 0.2 s wait,
    in which the other chains had to reach their counts)."""
    import time

    from bayesgen.sampler import driver

    original = driver.run_chain
    totals: dict = {}  # each started chain's schedule length
    interrupted = threading.Event()

    def interrupt(counts):
        deadline = time.monotonic() + 30.0
        while any(counts[j] < totals[j] for j in totals if j not in iterations):
            assert time.monotonic() < deadline, "the other chains did not finish"
            time.sleep(0.001)
        interrupted.set()
        _thread.interrupt_main()

    class Interrupting:
        def __init__(self, gibbs, index, stop, counts):
            self.gibbs, self.index, self.stop, self.counts, self.done = gibbs, index, stop, counts, 0

        def __getattr__(self, name):
            return getattr(self.gibbs, name)

        def step(self, rng, chain, tuning):
            info = self.gibbs.step(rng, chain, tuning=tuning)
            self.done += 1
            if self.done == iterations[self.index]:  # run_chain checks the stop before the next one
                interrupt(self.counts)
                assert self.stop.wait(10), "the driver did not stop the chains"
            return info

    def run_chain(gibbs, rng, chain, storage, burn, thin, draws, stop, counts, index, *rest):
        totals[index] = burn + draws * thin
        if index in iterations:
            if iterations[index] == 0:  # never starts: wait for the interrupt and the stop, then return
                if not any(iterations.values()):  # no chain to wait for: interrupt here
                    interrupt(counts)
                assert interrupted.wait(30), "no chain reached its count"
                assert stop.wait(10), "the driver did not stop the chains"
            gibbs = Interrupting(gibbs, index, stop, counts)
        return original(gibbs, rng, chain, storage, burn, thin, draws, stop, counts, index, *rest)

    monkeypatch.setattr(driver, "run_chain", run_chain)


def test_resume_after_an_interrupt_finishes_the_burn_in_of_chains_that_had_not(animal_model, monkeypatch):
    """Issue 16 item 2: 4 chains on 2 cores, Ctrl-C while chain 2 is 7 iterations into its
    burn-in and chain 3 has not started. resume=True continues chains 0 and 1 after their 30
    draws, and runs chains 2 and 3 through the rest of their burn-in first: each chain's
    draws are those of one uninterrupted run of the same seed."""
    whole = animal_model.sample(draws=60, burn=20, chains=4, cores=2, seed=11, progress=False)
    with monkeypatch.context() as patch:
        _interrupting_run_chain(patch, {2: 7, 3: 0})
        with pytest.warns(UserWarning, match=r"returning the first 30 draws of 2 chain\(s\)"):
            first = animal_model.sample(draws=30, burn=20, chains=4, cores=2, seed=11, progress=False)
    assert first.posterior.sizes["chain"] == 2
    with pytest.warns(
        UserWarning,
        match=r"chain\(s\) 2, 3 had not finished their burn-in: they run the remaining "
        r"13, 20 iterations of it",
    ):
        rest = animal_model.sample(draws=30, resume=True, progress=False)
    assert rest.posterior.sizes["chain"] == 4
    for name in ("sigma2_a", "sigma2_e", "u"):
        np.testing.assert_array_equal(first.posterior[name].values, whole.posterior[name].values[:2, :30])
        np.testing.assert_array_equal(rest.posterior[name].values[:2], whole.posterior[name].values[:2, 30:])
        np.testing.assert_array_equal(rest.posterior[name].values[2:], whole.posterior[name].values[2:, :30])


def test_resume_rejects_arguments_that_conflict_with_the_run_it_continues(sim):
    """Issue 16 item 6: with resume=True, chains=, seed= and burn= that differ from the run
    being continued are errors naming the argument and both values (before any sampling);
    the same values are accepted; resume must be a bool."""
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object())
    with pytest.raises(TypeError, match=r"resume must be True or False, got 'yes'"):
        model.sample(draws=5, resume="yes", progress=False)
    model.sample(draws=5, burn=3, chains=2, seed=9, progress=False, check_convergence=False)
    for argument, value, before in [("chains", 3, 2), ("seed", 10, 9), ("burn", 0, 3)]:
        with pytest.raises(
            ValueError,
            match=rf"{argument}={value} conflicts with the run resume=True continues, "
            rf"which has {argument}={before}",
        ):
            model.sample(draws=5, resume=True, progress=False, **{argument: value})
    assert model.last_run.n_draws == 5  # nothing ran
    continued = model.sample(draws=5, chains=2, seed=9, burn=3, resume=True, progress=False, check_convergence=False)
    assert continued.posterior.sizes["chain"] == 2
