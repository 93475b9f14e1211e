"""GWAS from the posterior: window shares and WPPA, per-marker PIP, Manhattan plot."""

import warnings

import arviz as az
import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesgen as bg
from bayesgen.diagnostics import gwas

matplotlib.use("Agg")

MARKERS = ["m1", "m2", "m3", "m4", "m5", "m6"]


def small_model(marker_info=None, y_missing=()):
    """8 individuals x 6 markers, one record each (records 'missing' have y = NaN)."""
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=(8, 6))
    codes[0] = [0, 2, 0, 2, 0, 2]
    codes[1] = [2, 0, 2, 0, 2, 0]  # every marker polymorphic
    codes[2, 3] = -9  # a missing genotype: centred value 0 (the mean) in the kernels
    ids = [f"i{k}" for k in range(8)]
    genotypes = bg.Genotypes(ids, codes, MARKERS, marker_info=marker_info)
    y = rng.normal(size=8)
    y[list(y_missing)] = np.nan
    data = pd.DataFrame({"id": ids, "y": y})
    return bg.BayesA(data, "y", "id", genotypes), genotypes, codes


def hand_idata(alpha, extra=None):
    posterior = {"alpha": alpha}
    dims = {"alpha": ["marker"]}
    for name, values in (extra or {}).items():
        posterior[name] = values
        dims[name] = ["marker"]
    return az.from_dict(posterior=posterior, coords={"marker": MARKERS}, dims=dims)


def hand_shares(codes, centre, alpha, windows, records):
    """Mean share and WPPA by direct numpy arithmetic (float design, draws one by one)."""
    w = np.where(codes[records] < 0, 0.0, codes[records] - centre)  # records x markers; missing = mean
    flat = alpha.reshape(-1, alpha.shape[-1])
    shares = np.empty((len(windows), flat.shape[0]))
    for s, a in enumerate(flat):
        total = np.var(w @ a)
        for k, members in enumerate(windows):
            shares[k, s] = np.var(w[:, members] @ a[members]) / total
    return shares


def test_window_shares_match_direct_arithmetic():
    model, genotypes, codes = small_model(y_missing=[7])
    alpha = np.random.default_rng(1).normal(size=(2, 5, 6))
    table = gwas.windows(hand_idata(alpha), model, size=2, threshold=0.2)
    expected = hand_shares(codes, genotypes.centre, alpha, [[0, 1], [2, 3], [4, 5]], records=np.arange(7))
    assert list(table["first_marker"]) == ["m1", "m3", "m5"]
    assert list(table["last_marker"]) == ["m2", "m4", "m6"]
    assert list(table["n_markers"]) == [2, 2, 2]
    np.testing.assert_allclose(table["share"], expected.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(table["share_sd"], expected.std(axis=1, ddof=1), rtol=1e-10)
    np.testing.assert_array_equal(table["wppa"], (expected > 0.2).mean(axis=1))
    assert ((table["wppa"] >= 0) & (table["wppa"] <= 1)).all()
    assert table.attrs == {"size": 2, "by": "markers", "threshold": 0.2, "draws": 10}


def test_one_window_has_share_one_and_effects_in_one_window_give_it_everything():
    model, _, _ = small_model()
    alpha = np.random.default_rng(2).normal(size=(1, 4, 6))
    whole = gwas.windows(hand_idata(alpha), model, size=6)
    np.testing.assert_allclose(whole["share"], [1.0], rtol=1e-12)
    assert whole["wppa"].tolist() == [1.0]
    alpha[..., :4] = 0.0  # only the last window's markers have effects
    table = gwas.windows(hand_idata(alpha), model, size=2)
    np.testing.assert_allclose(table["share"], [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(table["share"].sum(), 1.0, rtol=1e-12)
    assert table["wppa"].tolist() == [0.0, 0.0, 1.0]


def test_draw_with_no_genetic_variance_gives_zero_shares():
    model, _, _ = small_model()
    alpha = np.zeros((1, 2, 6))
    alpha[0, 1] = 1.0
    table = gwas.windows(hand_idata(alpha), model, size=3, threshold=0.01)
    assert np.isfinite(table["share"]).all()
    assert ((table["wppa"] == 0) | (table["wppa"] == 0.5)).all()


def test_bp_windows_follow_chromosome_and_position():
    # Markers in file order m1..m6; genome order: chrom 2 before 10, positions sorted.
    info = pd.DataFrame(
        {"chrom": ["10", "2", "2", "2", "10", "2"], "pos": [60, 2100, 100, 900, 50, 1500]}, index=MARKERS
    )
    model, genotypes, codes = small_model(marker_info=info)
    alpha = np.random.default_rng(3).normal(size=(1, 3, 6))
    table = gwas.windows(hand_idata(alpha), model, size=1000, by="bp")
    assert table["chrom"].tolist() == ["2", "2", "2", "10"]
    assert table["first_marker"].tolist() == ["m3", "m6", "m2", "m5"]
    assert table["last_marker"].tolist() == ["m4", "m6", "m2", "m1"]
    assert table["start_bp"].tolist() == [100, 1500, 2100, 50]
    assert table["end_bp"].tolist() == [900, 1500, 2100, 60]
    expected = hand_shares(codes, genotypes.centre, alpha, [[2, 3], [5], [1], [4, 0]], records=np.arange(8))
    np.testing.assert_allclose(table["share"], expected.mean(axis=1), rtol=1e-12)
    by_markers = gwas.windows(hand_idata(alpha), model, size=3)  # never across chromosomes
    assert by_markers["first_marker"].tolist() == ["m3", "m2", "m5"]
    assert by_markers["n_markers"].tolist() == [3, 1, 2]


def test_marker_table_pip_from_exact_zeros_indicator_or_undefined():
    model, _, _ = small_model()
    alpha = np.random.default_rng(4).normal(size=(2, 5, 6))
    table = gwas.markers(hand_idata(alpha), model)
    assert table["marker"].tolist() == MARKERS
    np.testing.assert_allclose(table["mean_abs"], np.abs(alpha).mean(axis=(0, 1)))
    np.testing.assert_allclose(table["mean"], alpha.mean(axis=(0, 1)))
    assert table["pip"].isna().all() and "not defined" in table.attrs["pip"]
    alpha[0, :3, 0] = 0.0  # spike-and-slab style exact zeros: 3 of 10 draws
    np.testing.assert_allclose(gwas.markers(hand_idata(alpha), model)["pip"], [0.7, 1, 1, 1, 1, 1])
    delta = (np.random.default_rng(5).uniform(size=alpha.shape) < 0.4).astype(np.int8)
    table = gwas.markers(hand_idata(alpha, {"delta": delta}), model)
    np.testing.assert_allclose(table["pip"], delta.mean(axis=(0, 1)))
    assert "'delta'" in table.attrs["pip"]


def test_manhattan_plot_draws_every_window():
    info = pd.DataFrame({"chrom": [1, 1, 1, 2, 2, 2], "pos": [1, 2, 3, 1, 2, 3]}, index=MARKERS)
    model, _, _ = small_model(marker_info=info)
    idata = hand_idata(np.random.default_rng(6).normal(size=(1, 4, 6)))
    table = gwas.windows(idata, model, size=2)
    ax = gwas.plot_manhattan(table, hline=0.5)
    assert ax.get_ylabel() == "wppa" and [tuple(line.get_ydata()) for line in ax.lines] == [(0.5, 0.5)]
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(table)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"]
    ax = gwas.plot_manhattan(gwas.markers(idata, model))
    assert ax.get_ylabel() == "mean_abs"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_manhattan_threshold_is_renamed_hline_with_a_deprecation_warning():
    """Issue 16 item 16: threshold= drew on the plotted (WPPA) axis, while windows(threshold=)
    is a share of variance; the plot's argument is now hline=, the old name still works."""
    import matplotlib.pyplot as plt

    table = pd.DataFrame({"window": [1, 2], "wppa": [0.2, 0.95]})
    with pytest.warns(DeprecationWarning, match=r"plot_manhattan\(threshold=\) is deprecated: use hline=") as record:
        ax = gwas.plot_manhattan(table, threshold=0.9)
    assert record[0].filename == __file__
    assert [tuple(line.get_ydata()) for line in ax.lines] == [(0.9, 0.9)]
    with pytest.raises(TypeError, match="plot_manhattan got both hline= and threshold="):
        gwas.plot_manhattan(table, hline=0.9, threshold=0.9)
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 2, "by": "cM"}, "by must be one of 'markers', 'bp', got 'cM'"),
        ({"size": 0}, "size must be a positive number, got 0"),
        ({"size": 2.5}, "size must be a whole number of markers with by='markers', got 2.5"),
        ({"size": 2, "threshold": 1.0}, r"threshold must be a number in \(0, 1\), got 1.0"),
        ({"size": 1000, "by": "bp"}, "by='bp' needs marker positions"),
    ],
)
def test_window_argument_errors(kwargs, message):
    model, _, _ = small_model()
    with pytest.raises(ValueError, match=message):
        gwas.windows(hand_idata(np.zeros((1, 2, 6))), model, **kwargs)


def test_errors_name_what_is_wrong():
    model, _, _ = small_model()
    other, _, _ = small_model()
    idata = hand_idata(np.ones((1, 2, 6)))
    with pytest.raises(ValueError, match="term must be one of the model's Markers terms"):
        gwas.windows(idata, model, size=2, term=other.terms[-2])
    summary = az.from_dict(posterior={"sigma2_e": np.ones((1, 2))})
    summary.add_groups({"posterior_summary": xr.Dataset({"alpha_mean": ("marker", np.zeros(6))})})
    with pytest.raises(ValueError, match="posterior_summary lacks 'alpha_sd'"):
        gwas.markers(summary, model)
    table = gwas.windows(idata, model, size=2)
    with pytest.raises(ValueError, match="Column 'pip' not in the table"):
        gwas.plot_manhattan(table, value="pip")
    with pytest.raises(TypeError, match="table must be a DataFrame"):
        gwas.plot_manhattan(table.to_numpy())
    info = pd.DataFrame({"chrom": [1, 1, None, 2, 2, 2], "pos": [1, 2, 3, 1, 2, 3]}, index=MARKERS)
    bad, _, _ = small_model(marker_info=info)
    with pytest.raises(ValueError, match=r"marker_info column 'chrom' has missing chromosomes for markers 'm3'"):
        gwas.windows(idata, bad, size=2)


@pytest.mark.statistical
def test_bayes_a_windows_flag_the_qtl():
    sim = bg.simulate(
        n_founders=100,
        n_generations=2,
        n_offspring=200,
        n_markers=300,
        n_qtl=3,
        h2=0.6,
        genetic_model="markers",
        seed=2,
    )
    model = bg.BayesA(sim.phenotypes, "y", "id", sim.genotypes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = model.sample(draws=300, burn=200, chains=2, seed=1, progress=False)
    table = gwas.windows(idata, model, size=10, threshold=0.05)
    effects = sim.truth["marker_effects"]
    qtl = set(effects.index[effects != 0])
    names = np.asarray(sim.genotypes.markers)
    has_qtl = np.array([bool(qtl & set(names[(k - 1) * 10 : k * 10])) for k in table["window"]])
    # The QTL windows (3 QTL in 2 windows for this seed) hold the top shares and WPPA.
    top = table["share"].rank(ascending=False) <= has_qtl.sum()
    assert (top.to_numpy() == has_qtl).all()
    assert table.loc[has_qtl, "wppa"].min() > 0.95
    assert table.loc[~has_qtl, "wppa"].max() < 0.5
    markers = gwas.markers(idata, model)
    assert set(markers.nlargest(3, "mean_abs")["marker"]) == qtl
