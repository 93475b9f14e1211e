import numpy as np
import pytest

import bayesgen as bg


def test_simulation_shapes_truth_and_reproducibility():
    a = bg.simulate(
        n_founders=30,
        n_generations=3,
        n_offspring=50,
        n_markers=200,
        n_qtl=20,
        genetic_model="markers",
        missing=0.2,
        seed=7,
    )
    b = bg.simulate(
        n_founders=30,
        n_generations=3,
        n_offspring=50,
        n_markers=200,
        n_qtl=20,
        genetic_model="markers",
        missing=0.2,
        seed=7,
    )
    assert len(a.pedigree) == 30 + 3 * 50 and len(a.phenotypes) == 150  # founders have no record
    assert a.phenotypes["y"].isna().any()
    np.testing.assert_array_equal(a.phenotypes["y"].to_numpy(), b.phenotypes["y"].to_numpy())
    assert a.genotypes.codes.dtype == np.int8
    effects = a.truth["marker_effects"]
    assert (effects != 0).sum() == 20 and set(a.truth["qtl"]) == set(effects.index[effects != 0])
    assert len(a.pedigree_object()) == len(a.pedigree)
    bv = a.truth["breeding_values"]
    np.testing.assert_allclose(a.phenotypes["true_bv"], bv.loc[a.phenotypes["id"]].to_numpy())


def test_gene_dropping_follows_mendel():
    sim = bg.simulate(n_founders=40, n_generations=1, n_offspring=400, n_markers=50, seed=3)
    ped = sim.pedigree
    g = sim.genotypes
    child = ped.iloc[40:]
    c = g.codes[:, g.index(child["id"])]
    s = g.codes[:, g.index(child["sire"])]
    d = g.codes[:, g.index(child["dam"])]
    # A child of two homozygous parents gets exactly their alleles.
    homo = ((s == 0) | (s == 2)) & ((d == 0) | (d == 2))
    np.testing.assert_array_equal(c[homo], (s[homo] + d[homo]) // 2)
    # Each allele is one of the parent's two: child code within the feasible range.
    assert ((c >= (s == 2).astype(int) + (d == 2)) & (c <= (s > 0).astype(int) + (d > 0))).all()


def test_infinitesimal_breeding_values_have_the_chosen_variance():
    sim = bg.simulate(n_founders=4000, n_generations=1, n_offspring=4000, n_markers=0, h2=0.3, sigma2_p=2.0, seed=11)
    bv = sim.truth["breeding_values"].to_numpy()
    founders = bv[:4000]
    sigma2_a = 0.6
    # Sample variance of n normals has sd sigma2 * sqrt(2 / (n - 1)).
    assert abs(founders.var(ddof=1) - sigma2_a) < 4 * sigma2_a * np.sqrt(2 / 3999)
    resid = sim.phenotypes["y"] - sim.phenotypes["true_bv"] - 10.0 - 0.5 * (sim.phenotypes["sex"] == "F")
    assert abs(resid.var(ddof=1) - 1.4) < 4 * 1.4 * np.sqrt(2 / 3999)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"h2": 1.2}, "h2 must be in"),
        ({"genetic_model": "polygenic"}, "genetic_model must be"),
        ({"genetic_model": "markers", "n_qtl": 0}, "n_qtl must be an integer >= 1"),
        ({"genetic_model": "markers", "n_markers": 10, "n_qtl": 11}, "n_qtl must be between 1 and n_markers=10"),
        ({"missing": 1.0}, "missing must be in"),
    ],
)
def test_invalid_simulation_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bg.simulate(**kwargs)


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"n_offspring": -5}, ValueError, "n_offspring must be an integer >= 1, got -5."),
        ({"n_offspring": 0}, ValueError, "n_offspring must be an integer >= 1, got 0."),
        ({"n_generations": "x"}, TypeError, "n_generations must be an integer >= 1, got 'x' (str)."),
        ({"n_generations": 0}, ValueError, "n_generations must be an integer >= 1, got 0."),
        ({"n_founders": 1}, ValueError, "n_founders must be an integer >= 2, got 1."),
        ({"n_founders": 10.0}, TypeError, "n_founders must be an integer >= 2, got 10.0 (float)."),
        ({"n_markers": -1}, ValueError, "n_markers must be an integer >= 0, got -1."),
        ({"n_markers": True}, TypeError, "n_markers must be an integer >= 0, got True (bool)."),
        ({"n_qtl": "5"}, TypeError, "n_qtl must be an integer >= 1, got '5' (str)."),
        ({"h2": "0.4"}, TypeError, "h2 must be a number, got '0.4' (str)."),
        ({"h2": float("nan")}, ValueError, "h2 must be finite, got nan."),
        ({"sigma2_p": 0}, ValueError, "sigma2_p must be > 0, got 0.0."),
        ({"mean": None}, TypeError, "mean must be a number, got None (NoneType)."),
        ({"sex_effect": "0.5"}, TypeError, "sex_effect must be a number, got '0.5' (str)."),
        ({"missing": True}, TypeError, "missing must be a number, got True (bool)."),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0, got -1."),
        ({"seed": 1.5}, TypeError, "seed must be an integer >= 0, got 1.5 (float)."),
    ],
)
def test_simulation_argument_types_and_ranges_are_checked_first(kwargs, error, message):
    with pytest.raises(error) as info:
        bg.simulate(**{"n_founders": 10, "n_generations": 1, "n_offspring": 10, "n_markers": 0, **kwargs})
    assert str(info.value) == message


def test_simulation_accepts_numpy_integers_and_integral_counts():
    sim = bg.simulate(
        n_founders=np.int64(10),
        n_generations=1,
        n_offspring=np.int32(12),
        n_markers=0,
        h2=np.float64(0.3),
        seed=np.int64(4),
    )
    assert len(sim.pedigree) == 22
