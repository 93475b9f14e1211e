"""sample(init="auto"), the default: REML's start where REML is cheap, the terms' own start elsewhere."""

import sys

import numpy as np
import pytest

import bayesgen as bg
import bayesgen.classical.start as start_module


@pytest.fixture(scope="module")
def sim():
    return bg.simulate(n_founders=20, n_generations=2, n_offspring=40, n_markers=60, seed=3)


def _draws(model, **kwargs):
    return model.sample(draws=15, burn=5, chains=2, seed=4, progress=False, check_convergence=False, **kwargs)


def _same(a, b, name):
    np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)


def test_auto_starts_a_gaussian_location_model_at_reml(sim):
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
    auto = _draws(model)
    assert auto.attrs["init"] == "reml"
    _same(auto, _draws(model, init="reml"), "sigma2_a")
    default = _draws(model, init="default")
    assert default.attrs["init"] == "default"
    assert not np.array_equal(default.posterior["sigma2_a"].values, auto.posterior["sigma2_a"].values)
    resumed = model.sample(draws=3, resume=True, progress=False, check_convergence=False)
    assert resumed.attrs["init"] == "resume"


def test_auto_keeps_the_default_start_where_reml_does_not_apply(sim):
    markers = bg.BayesCPi(sim.phenotypes, "y", "id", sim.genotypes)
    auto = _draws(markers)
    assert auto.attrs["init"] == "default"
    _same(auto, _draws(markers, init="default"), "sigma2_e")
    data = sim.phenotypes.assign(case=sim.phenotypes["y"] > sim.phenotypes["y"].median())
    threshold = bg.Model(data, "case", [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object())], family="threshold")
    assert _draws(threshold).attrs["init"] == "default"


def test_auto_keeps_the_default_start_where_reml_is_costly_or_fails(sim, monkeypatch):
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), fixed=["sex"])
    default = _draws(model, init="default")
    monkeypatch.setattr(start_module, "REML_AUTO_MAX_FLOPS", 0.0)
    costly = _draws(model)
    assert costly.attrs["init"] == "default"
    _same(costly, default, "sigma2_a")
    monkeypatch.undo()

    def failing(*args, **kwargs):
        raise ValueError("planted REML failure")

    monkeypatch.setattr(sys.modules["bayesgen.classical.reml"], "reml_of_problem", failing)
    failed = _draws(model)
    assert failed.attrs["init"] == "default"
    _same(failed, default, "sigma2_a")


def test_init_names_its_values():
    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=10, n_markers=10, seed=1)
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object())
    with pytest.raises(ValueError, match="init must be 'auto', 'default' or 'reml', got 'mode'"):
        model.sample(draws=5, init="mode")
