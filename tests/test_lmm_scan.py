"""bg.gwas.lmm_scan (issue 19): exact per-marker likelihood-ratio tests, LOCO, calibration under the null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import bayesgen as bg


def _population(seed, n, n_kernel, n_test, h2=0.5, effect=0.0):
    """Genotypes at kernel markers (polygenic background) and at unlinked test markers; y with h2."""
    rng = np.random.default_rng(seed)
    m = n_kernel + n_test
    freq = rng.uniform(0.1, 0.9, m)
    codes = rng.binomial(2, freq, size=(n, m)).astype(np.int8)
    ids = [f"i{k}" for k in range(n)]
    w = (codes[:, :n_kernel] - 2 * freq[:n_kernel]) / np.sqrt(n_kernel * 2 * np.mean(freq * (1 - freq)))
    g = w @ rng.normal(size=n_kernel)
    g *= np.sqrt(h2) / g.std()
    y = g + rng.normal(scale=np.sqrt(1 - h2), size=n) + effect * (codes[:, n_kernel] - 2 * freq[n_kernel])
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    y = y + 0.3 * (sex == "M")
    info = pd.DataFrame(
        {"chrom": np.repeat(["1", "2"], [n_kernel, n_test]), "pos": np.arange(m) * 1000},
        index=[f"m{j}" for j in range(m)],
    )
    geno = bg.Genotypes(ids, codes, markers=list(info.index), marker_info=info)
    data = pd.DataFrame({"y": y, "sex": sex}, index=ids)
    return geno, data


def test_each_p_value_equals_an_exact_per_marker_likelihood_ratio_test():
    """reestimate=True: p_lrt is the LRT of two ML fits by AI-REML (marker as a fixed covariate) on the
    same kernel; the fixed-h2 scan's effect and se are the GLS ones at the null h2."""
    geno, data = _population(1, 120, 300, 6, effect=1.0)
    kernel_markers = geno.select(markers=[f"m{j}" for j in range(300)])
    kernel = bg.grm(kernel_markers) + 0.05 * np.eye(120)
    scan = bg.gwas.lmm_scan(
        data,
        "y",
        geno.select(markers=[f"m{j}" for j in range(300, 306)]),
        kernel=kernel,
        covariates=["sex"],
        reestimate=True,
    )
    frame = data.reset_index(names="id")
    null = bg.reml(bg.Model(frame, "y", [bg.Fixed(["sex"]), bg.Kernel("id", kernel)]), reml=False)
    for _, row in scan.iterrows():
        marker = geno.select(markers=[row["marker"]])
        with_snp = frame.assign(snp=marker.codes[0].astype(float))
        alt = bg.reml(bg.Model(with_snp, "y", [bg.Fixed(["sex", "snp"]), bg.Kernel("id", kernel)]), reml=False)
        test = bg.lrt(alt, null)
        assert row["p_lrt"] == pytest.approx(test["p_value"], rel=1e-5, abs=1e-12), (row["marker"], row["p_lrt"], test)
        assert row["effect"] == pytest.approx(alt.blue.loc["beta[snp]", "estimate"], rel=1e-4)
    assert scan["p_lrt"].min() < 1e-3  # the planted marker


def test_fixed_h2_scan_equals_the_gls_fit_at_the_null_h2():
    geno, data = _population(2, 150, 300, 5)
    test_markers = geno.select(markers=[f"m{j}" for j in range(300, 305)])
    kernel = bg.grm(geno.select(markers=[f"m{j}" for j in range(300)]))
    scan = bg.gwas.lmm_scan(data, "y", test_markers, kernel=kernel, covariates=["sex"])
    h2 = scan.attrs["h2"]
    v = h2 * kernel.to_numpy() + (1 - h2) * np.eye(150)
    vi = np.linalg.inv(v)
    base = np.column_stack([np.ones(150), (data["sex"] == "M").to_numpy(float)])
    y = data["y"].to_numpy()

    def rss(x):
        beta = np.linalg.solve(x.T @ vi @ x, x.T @ vi @ y)
        r = y - x @ beta
        return beta, float(r @ vi @ r), np.linalg.inv(x.T @ vi @ x)

    _, rss0, _ = rss(base)
    for j, row in scan.iterrows():
        x = np.column_stack([base, test_markers.codes[j].astype(float)])
        beta, rss1, inverse = rss(x)
        assert row["effect"] == pytest.approx(beta[-1], rel=1e-8)
        assert row["se"] == pytest.approx(np.sqrt(rss1 / (150 - 3) * inverse[-1, -1]), rel=1e-8)
        assert row["p_lrt"] == pytest.approx(scipy.stats.chi2.sf(150 * np.log(rss0 / rss1), 1), rel=1e-7)


def test_loco_uses_the_kernel_of_the_other_chromosomes():
    geno, data = _population(3, 100, 200, 50)
    scan = bg.gwas.lmm_scan(data, "y", geno, covariates=["sex"], loco=True)
    assert set(scan.attrs["h2"]) == {"1", "2"}
    assert list(scan.columns[:3]) == ["marker", "chrom", "pos"]
    chrom2 = geno.select(markers=[f"m{j}" for j in range(200, 250)])
    # chromosome 2's markers are tested against the GRM of chromosome 1 (frequencies of all markers)
    kernel = bg.grm(geno.select(markers=[f"m{j}" for j in range(200)], keep_centre=True))
    direct = bg.gwas.lmm_scan(data, "y", chrom2, kernel=kernel, covariates=["sex"])
    np.testing.assert_allclose(
        scan.loc[scan["chrom"] == "2", "p_lrt"].to_numpy(), direct["p_lrt"].to_numpy(), rtol=1e-6
    )


def test_null_calibration_lambda_and_ks():
    """Unlinked test markers under the null: lambda_GC within 1 +- 0.05 and the KS test not rejected."""
    geno, data = _population(4, 800, 1000, 3000)
    kernel = bg.grm(geno.select(markers=[f"m{j}" for j in range(1000)]))
    tested = geno.select(markers=[f"m{j}" for j in range(1000, 4000)])
    scan = bg.gwas.lmm_scan(data, "y", tested, kernel=kernel, covariates=["sex"])
    assert abs(scan.attrs["lambda_gc"] - 1) < 0.05, scan.attrs["lambda_gc"]
    for column in ("p_lrt", "p_wald"):
        assert scipy.stats.kstest(scan[column], "uniform").pvalue > 0.01
    assert 0.3 < scan.attrs["h2"] < 0.7


def test_bad_input_is_named():
    geno, data = _population(5, 30, 20, 5)
    with pytest.raises(ValueError, match="'z'"):
        bg.gwas.lmm_scan(data, "z", geno)
    with pytest.raises(TypeError, match="Genotypes"):
        bg.gwas.lmm_scan(data, "y", np.zeros((30, 5)))
    with pytest.raises(ValueError, match="loco"):
        bg.gwas.lmm_scan(data, "y", geno, kernel=bg.grm(geno), loco=True)
    with pytest.raises(ValueError, match="i999"):
        bg.gwas.lmm_scan(data.rename(index={"i0": "i999"}), "y", geno)


def test_qq_and_manhattan_plots_of_a_scan(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    geno, data = _population(6, 60, 40, 20)
    scan = bg.gwas.lmm_scan(data, "y", geno, covariates=["sex"])
    ax = bg.gwas.plot_qq(scan)
    assert f"{scan.attrs['lambda_gc']:.3f}" in ax.get_title()
    assert bg.gwas.genomic_control(scan["p_lrt"]) == pytest.approx(scan.attrs["lambda_gc"])
    ax = bg.gwas.plot_manhattan(scan, value="neg_log10_p")
    assert ax.get_ylabel() == "neg_log10_p"
    plt.close("all")
