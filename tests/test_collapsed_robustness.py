"""Issue 15: the collapsed variance step never crashes a run and never sticks.

Quick: a failing factorisation of a candidate is rejected and counted in ``sample_stats``; a
chain stopped by a numerical error loses no draws (the driver keeps them, warns naming the
chain, iteration and error, and records it in the attrs), while any other error still ends the
run; the joint route stops its chain with a clear error; the direct-maternal joint block falls
back to its single-site sweep for that iteration and counts it.

Statistical (``-m statistical``): Geweke joint-distribution tests of the collapsed step with
several independent successive-conditional chains (between-chain standard error), a planted
error (the independence proposal's density left out of the Hastings ratio) that must fail, and
the issue's reproducers on the reference data (skipped without ../shared): gryphon's
four-component model at the seed that stuck worst before, the near-improper MCMCglmm-style
priors, and the small crossed model whose runs died.
"""

import json
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.kernels.cholesky import NotPositiveDefiniteError, SparseCholesky
from bayesgen.output.convergence import longest_repeat
from bayesgen.sampler import Gibbs
from bayesgen.sampler.collapsed import CollapsedLocations
from bayesgen.sampler.variance_step import VarianceMetropolis


@pytest.fixture(scope="module")
def population():
    """~40 phenotyped animals of a 50-animal pedigree, two crossed factors, 2 missing phenotypes."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=10, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(12)
    data["herd"] = [f"h{k}" for k in rng.integers(0, 5, len(data))]
    data["pen"] = [f"p{k}" for k in rng.integers(0, 4, len(data))]
    data.loc[data.index[:2], "y"] = np.nan
    return data, sim.pedigree_object()


def crossed_model(data, sampler="collapsed"):
    return bg.Model(data, "y", [bg.Fixed(), bg.Random("herd"), bg.Random("pen")], sampler=sampler)


def not_positive_definite():
    return NotPositiveDefiniteError(
        "matrix is not positive definite: pivot 0 (row 0 of C) is -1.0 (forced)", pivot=0, row=0, remainder=-1.0
    )


def _called_by_the_engine() -> bool:
    """Whether the factorisation was asked for a Metropolis candidate (not the current value)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "_evaluate" and frame.f_code.co_filename.endswith("variance_step.py"):
            return True
        frame = frame.f_back
    return False


# ---------------------------------------------------------------------- quick
def test_a_failing_factorisation_is_rejected_and_counted(population, monkeypatch):
    data, _ = population
    original = SparseCholesky.factorize
    raised = {"candidates": 0, "calls": 0}

    def flaky(self, values, **options):
        raised["calls"] += 1
        if raised["calls"] % 5 == 0 and _called_by_the_engine():
            raised["candidates"] += 1
            raise not_positive_definite()
        return original(self, values, **options)

    monkeypatch.setattr(SparseCholesky, "factorize", flaky)
    model = crossed_model(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no chain may stop
        idata = model.sample(draws=300, burn=0, chains=1, seed=3, progress=False, check_convergence=False)
    rejected = idata.sample_stats["rejected_factorisations"].values
    assert rejected.sum() == raised["candidates"] > 30  # every forced failure counted, in the iteration it hit
    assert idata.posterior.sizes["draw"] == 300 and np.isfinite(idata.posterior["sigma2_herd"]).all()
    assert "failed_chains" not in idata.attrs


def test_collapsed_step_reports_the_acceptance_of_each_move(population):
    data, _ = population
    idata = crossed_model(data).sample(draws=200, burn=100, chains=1, seed=4, progress=False, check_convergence=False)
    stats = idata.sample_stats
    for name in ("accept_variances_rw", "accept_variances_independent", "rejected_factorisations"):
        assert name in stats
    assert 0.1 < float(np.nanmean(stats["accept_variances_independent"])) <= 1.0
    assert 0.05 < float(np.nanmean(stats["accept_variances_rw"])) < 0.8


def test_same_seed_same_draws_serial_or_parallel_with_adaptation_after_burn_in(population):
    data, _ = population
    model = crossed_model(data)
    serial = model.sample(draws=150, burn=50, chains=2, seed=8, cores=1, progress=False, check_convergence=False)
    parallel = model.sample(draws=150, burn=50, chains=2, seed=8, cores=2, progress=False, check_convergence=False)
    for name in ("sigma2_herd", "sigma2_pen", "sigma2_e", "herd"):
        np.testing.assert_array_equal(serial.posterior[name].values, parallel.posterior[name].values)
    np.testing.assert_array_equal(
        serial.sample_stats["accept_variances_rw"].values, parallel.sample_stats["accept_variances_rw"].values
    )


def _fail_chain(monkeypatch, chain: int, iteration: int, error):
    """Make chain ``chain`` raise ``error`` at its iteration ``iteration`` (chains tagged in init order)."""
    init, step = Gibbs.init, Gibbs.step
    tags = {"next": 0}

    def tagged_init(self, rng, start=None):
        state = init(self, rng) if start is None else init(self, rng, start)
        state.rng_state["test_chain"] = tags["next"]
        tags["next"] += 1
        return state

    def failing_step(self, rng, state, tuning=False):
        if state.rng_state.get("test_chain") == chain and state.ctx.iteration == iteration:
            raise error
        return step(self, rng, state, tuning)

    monkeypatch.setattr(Gibbs, "init", tagged_init)
    monkeypatch.setattr(Gibbs, "step", failing_step)


@pytest.mark.parametrize(
    "iteration,kept_chains,kept_draws",
    [(130, [0, 1, 2, 3], 80), (60, [0, 1, 3], 100)],
    ids=["late-failure-trims", "early-failure-leaves-the-chain-out"],
)
def test_a_numerical_failure_stops_one_chain_and_keeps_every_other_draw(
    population, monkeypatch, iteration, kept_chains, kept_draws
):
    data, _ = population
    _fail_chain(monkeypatch, 2, iteration, not_positive_definite())
    model = crossed_model(data)
    with pytest.warns(
        UserWarning,
        match=rf"chain 2 stopped at iteration {iteration} after {iteration - 50} of 100 "
        r"draws \(NotPositiveDefiniteError: matrix is not positive definite",
    ):
        idata = model.sample(draws=100, burn=50, chains=4, seed=5, progress=False, cores=2, check_convergence=False)
    assert idata.posterior.sizes["chain"] == len(kept_chains) and idata.posterior.sizes["draw"] == kept_draws
    failed = json.loads(idata.attrs["failed_chains"])
    assert failed == [
        {
            "chain": 2,
            "iteration": iteration,
            "draws": iteration - 50,
            "error": "NotPositiveDefiniteError: matrix is not positive definite: pivot 0 (row 0 of C) is -1.0 (forced)",
        }
    ]
    assert json.loads(idata.attrs["chains_kept"]) == kept_chains
    # the chains that did not fail ran to the end: their draws are the same as without the failure
    monkeypatch.undo()
    clean = model.sample(draws=100, burn=50, chains=4, seed=5, progress=False, check_convergence=False)
    for position, chain in enumerate(kept_chains):
        if chain != 2:
            np.testing.assert_array_equal(
                idata.posterior["sigma2_herd"].values[position],
                clean.posterior["sigma2_herd"].values[chain, :kept_draws],
            )


def test_other_errors_still_end_the_run(population, monkeypatch):
    data, _ = population
    _fail_chain(monkeypatch, 1, 20, KeyError("a bug"))
    with pytest.raises(KeyError, match="a bug"):
        crossed_model(data).sample(draws=50, burn=10, chains=2, seed=5, progress=False, check_convergence=False)


def test_every_chain_failing_before_a_draw_is_an_error(population, monkeypatch):
    data, _ = population
    _fail_chain(monkeypatch, 0, 3, not_positive_definite())
    with pytest.raises(
        RuntimeError,
        match=r"Every chain stopped before keeping a draw \(chain 0 at iteration 3: "
        r"NotPositiveDefiniteError",
    ):
        crossed_model(data).sample(draws=50, burn=10, chains=1, seed=5, progress=False, check_convergence=False)


def test_joint_route_stops_the_chain_naming_the_block(population, monkeypatch):
    data, _ = population
    original = SparseCholesky.factorize
    calls = {"n": 0}

    def failing(self, values, **options):
        calls["n"] += 1
        if (
            calls["n"] == 71 + 30
        ):  # chain 1 (one after the other; 70 iterations and a first factor before), iteration 30
            raise not_positive_definite()
        return original(self, values, **options)

    monkeypatch.setattr(SparseCholesky, "factorize", failing)
    with pytest.warns(
        UserWarning,
        match=r"chain 1 stopped at iteration 30 after 20 of 60 draws "
        r"\(NotPositiveDefiniteError: the joint location block \['beta', 'herd', 'pen'\] cannot "
        r"draw its effects: C is not numerically positive definite at \{herd: ",
    ):
        # init="default": the count above is of the sampler's factorisations (REML's start would add its own)
        idata = crossed_model(data, "joint").sample(
            draws=60, burn=10, chains=2, cores=1, seed=6, progress=False, check_convergence=False, init="default"
        )
    assert idata.posterior.sizes["chain"] == 1 and idata.posterior.sizes["draw"] == 60


# ---------------------------------------------------------------------- statistical
N_MARGINAL = 4000
N_CHAINS = 20
N_PER_CHAIN = 400


def geweke_crossed(data):
    prior = bg.ScaledInvChi2(df=12.0, scale=0.5)
    return bg.Model(
        data,
        "y",
        [
            bg.Fixed(prior=0.25),
            bg.Random("herd", prior=prior),
            bg.Random("pen", prior=bg.ScaledInvChi2(df=12.0, scale=0.5)),
        ],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="collapsed",
    )


@pytest.mark.statistical
def test_geweke_collapsed_step_several_chains(population):
    from geweke import geweke_test

    data, _ = population
    result = geweke_test(
        geweke_crossed(data),
        n_marginal=N_MARGINAL,
        n_successive=N_CHAINS * N_PER_CHAIN,
        burn=200,
        seed=21,
        n_chains=N_CHAINS,
    )
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_missing_proposal_density_fails(population, monkeypatch):
    """The independence proposal's densities left out of the Hastings ratio: the draws follow
    pi x q instead of pi, so the variances' moments move (towards the proposal's centre)."""
    from geweke import geweke_test

    monkeypatch.setattr(VarianceMetropolis, "_log_q", lambda self, x, state: 0.0)
    data, _ = population
    result = geweke_test(
        geweke_crossed(data),
        n_marginal=N_MARGINAL,
        n_successive=N_CHAINS * N_PER_CHAIN,
        burn=200,
        seed=21,
        n_chains=N_CHAINS,
    )
    print(result)
    assert not result.passed
    worst = result.table["z"].abs().idxmax()
    assert "sigma2" in worst, str(result)


# ---------------------------------------------------------------------- the reproducers
def _gryphon(shared_data):
    gry = pd.read_csv(shared_data / "gryphon.csv")
    bwt = gry.dropna(subset=["bwt"]).reset_index(drop=True)
    bwt = bwt.assign(sex=bwt["sex"].astype(str), byear=bwt["byear"].astype(str), mother=bwt["mother"].astype(str))
    ped = bg.Pedigree.from_csv(shared_data / "gryphonped.csv", id="id", sire="father", dam="mother")
    return bwt, ped


def _variances_and_h2(idata) -> dict:
    return {
        name: values.transpose("chain", "draw").values
        for name, values in idata.posterior.data_vars.items()
        if (name.startswith("sigma2_") or name == "h2") and values.ndim == 2
    }


def _assert_mixed(idata, ess_min, repeat_max=None):
    import arviz as az

    for name, values in _variances_and_h2(idata).items():
        rhat, ess = float(az.rhat(values, method="rank")), float(az.ess(values, method="bulk"))
        assert rhat <= 1.01 and ess >= ess_min, (name, rhat, ess)
        if repeat_max is not None and name != "h2":
            assert longest_repeat(values)[0] <= repeat_max, (name, longest_repeat(values))


@pytest.mark.statistical
def test_gryphon_four_components_at_the_seed_that_stuck(shared_data):
    """Seed 3 gave bulk ESS 9, R-hat 1.35 and a chain frozen for 137 iterations before issue 15."""
    bwt, ped = _gryphon(shared_data)
    model = bg.Model(bwt, "bwt", [bg.Fixed(["sex"]), bg.Animal("animal", ped), bg.Random("byear"), bg.Random("mother")])
    assert isinstance(model.blocks[0], CollapsedLocations)
    idata = model.sample(draws=1000, chains=4, seed=3, progress=False, check_convergence=False)
    _assert_mixed(idata, ess_min=400, repeat_max=20)


@pytest.mark.statistical
def test_gryphon_four_components_under_near_improper_priors(shared_data):
    """MCMCglmm-style priors: ScaledInvChi2(0.002, 1) on each random-effect variance and 1/sigma2_e:
    R-hat <= 1.01 and bulk ESS >= 10% of 4 x 4,000 draws (before: R-hat 1.05-1.11, ESS 40-109)."""
    bwt, ped = _gryphon(shared_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning about near-improper random-effect priors
        model = bg.Model(
            bwt,
            "bwt",
            [
                bg.Fixed(["sex"]),
                bg.Animal("animal", ped, prior=bg.ScaledInvChi2(0.002, 1.0)),
                bg.Random("byear", prior=bg.ScaledInvChi2(0.002, 1.0)),
                bg.Random("mother", prior=bg.ScaledInvChi2(0.002, 1.0)),
            ],
            sigma2_e=bg.ScaledInvChi2(0.0, 0.0),
        )
    idata = model.sample(draws=4000, chains=4, seed=1, progress=False, check_convergence=False)
    _assert_mixed(idata, ess_min=0.1 * 4 * 4000)


@pytest.mark.statistical
def test_small_crossed_model_that_crashed_completes():
    """17 records, two crossed factors of 5 and 4 levels without effect: seed 2 died on main with
    "matrix is not positive definite" (a proposal of sigma2_e near 0); now such candidates are rejected,
    and every chain runs to its end.

    How many candidates fail depends on the exact trajectory, which rounding in the installed
    numpy/scipy/BLAS moves over 80,000 iterations: 2 with the libraries of 2026-12-06, none with
    numpy 2.4.6 and scipy 1.17.1 (the same draws from the code before and after the threshold
    moves, 2026-12-07). So this test asks only that the run completes; that a failing factorisation
    is rejected and counted is ``test_a_failing_factorisation_is_rejected_and_counted``."""
    rng = np.random.default_rng(2015)
    a = np.concatenate([np.arange(5), rng.integers(0, 5, 12)])
    b = np.concatenate([np.arange(4), rng.integers(0, 4, 13)])
    data = pd.DataFrame({"y": 10.0 + rng.standard_normal(17), "A": [f"a{k}" for k in a], "B": [f"b{k}" for k in b]})
    model = bg.Model(data, "y", [bg.Fixed([]), bg.Random("A"), bg.Random("B")])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no chain may stop
        warnings.simplefilter("ignore", bg.output.ConvergenceWarning)
        idata = model.sample(draws=20000, burn=1000, chains=4, cores=1, seed=2, progress=False)
    assert idata.posterior.sizes["chain"] == 4 and idata.posterior.sizes["draw"] == 20000
    assert "failed_chains" not in idata.attrs and np.isfinite(idata.posterior["sigma2_e"]).all()
