r"""Mixed-model association scans (FaST-LMM, EMMAX, GCTA-mlma), one eigendecomposition per kernel.

Per marker j with genotypes x (records), the model is :math:`y = X\beta + x\gamma + g + e`,
:math:`g \sim N(0, \sigma^2_g K)`, :math:`e \sim N(0, \sigma^2_e I)`. With K = USU' and
everything rotated by U' (``bayesgen.classical.eigen``), the records are independent with
variances :math:`\sigma^2 d_i`, :math:`d_i = h^2 s_i + 1 - h^2`, so with W = diag(1/d):

* h² fixed at the null model's estimate (FaST-LMM's default, EMMAX): with
  :math:`A = X'WX`, :math:`a = x'Wx - x'WXA^{-1}X'Wx` and :math:`b = x'Wy - x'WXA^{-1}X'Wy`
  (rotated vectors), :math:`\hat\gamma = b/a`, :math:`\mathrm{rss}_1 = \mathrm{rss}_0 - b^2/a`,
  :math:`\mathrm{se}^2 = \hat\sigma^2_1/a` with :math:`\hat\sigma^2_1 = \mathrm{rss}_1/(n - p - 1)`,
  Wald :math:`(\hat\gamma/\mathrm{se})^2 \sim \chi^2_1` and the ML likelihood ratio at that h²,
  :math:`n\log(\mathrm{rss}_0/\mathrm{rss}_1) \sim \chi^2_1`. Every marker costs O(n) after the
  rotation, done in blocks of int8 codes (never a float copy of all markers).
* ``reestimate=True`` (FaST-LMM "full", GCTA-mlma): h² by Brent's method for each marker's
  model under ML, the likelihood ratio :math:`2(\ell_1 - \ell_0)` of the two maximised ML
  log-likelihoods (exactly what two ``reml(..., reml=False)`` fits give), the Wald test at
  the marker model's own h².

With ``loco=True`` the kernel of the markers on chromosome c is built from the markers on the
other chromosomes (leave one chromosome out): one eigendecomposition per chromosome.
``genomic_control`` is :math:`\lambda = \mathrm{median}(\chi^2)/0.4549`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.stats

from .._deprecation import renamed_arguments
from ..classical.eigen import Rotated

#: Markers decoded to floating point at once.
BLOCK = 2048
CHI2_MEDIAN = float(scipy.stats.chi2.ppf(0.5, 1))


def genomic_control(p_values) -> float:
    """lambda_GC: the median chi-square (1 df) of the p-values over its expected value 0.4549."""
    p = np.asarray(p_values, dtype=float)
    p = p[np.isfinite(p)]
    return float(np.median(scipy.stats.chi2.isf(p, 1)) / CHI2_MEDIAN)


@renamed_arguments(id="column")
def lmm_scan(
    data: pd.DataFrame,
    y: str,
    genotypes,
    kernel=None,
    covariates=(),
    column: str | None = None,
    loco: bool = False,
    reestimate: bool = False,
    reml: bool = True,
    block: int = BLOCK,
) -> pd.DataFrame:
    r"""Association test of every marker under a linear mixed model (module docstring).

    Parameters
    ----------
    data : DataFrame
        One row per record; records whose phenotype is NaN are left out.
    y : str
        The phenotype column.
    genotypes : bayesgen.Genotypes
        Every record's id must have genotypes (int8 codes, missing mean-imputed).
    kernel : DataFrame, optional
        The covariance among ids (labelled index and columns), e.g. ``bg.grm(genotypes)``,
        a pedigree A; default: the GRM of ``genotypes`` (VanRaden). Not with ``loco``.
    covariates : list of str
        Fixed-effect columns (with an intercept), as ``bg.Fixed``.
    column : str, optional
        The column of ids (default: the index of ``data``).
    loco : bool
        Leave-one-chromosome-out GRMs (needs ``chrom`` in ``genotypes.marker_info``).
    reestimate : bool
        Re-estimate h² for every marker (slower: a Brent search per marker).
    reml : bool
        The null model's h² by REML (default) or ML, for the fixed-h² scan.

    Returns
    -------
    DataFrame with ``marker``, ``chrom`` and ``pos`` (when ``marker_info`` has them),
    ``effect`` (allele substitution effect), ``se``, ``p_wald``, ``p_lrt``; ``attrs`` hold
    ``h2`` (the null model's, per chromosome with ``loco``) and ``lambda_gc`` (of ``p_lrt``).
    """
    from ..data.design import fixed_design
    from ..data.genotypes import Genotypes
    from .marker_map import CHROM_COLUMNS, POSITION_COLUMNS

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if y not in data:
        raise ValueError(f"The phenotype column {y!r} is not in data.")
    if not isinstance(genotypes, Genotypes):
        raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
    if int(block) < 1:
        raise ValueError(f"block must be a positive number of markers, got {block!r}.")
    if loco and kernel is not None:
        raise ValueError("loco=True builds its kernels from the genotypes; leave kernel out.")
    values = pd.to_numeric(data[y], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(values)
    if keep.sum() < 3:
        raise ValueError(f"Phenotype column {y!r} has fewer than 3 observed values.")
    frame = data.loc[keep]
    ids = list(frame[column] if column is not None else frame.index)
    from .._validation import normalize_ids

    ids = normalize_ids(ids, column or "data.index")
    rows = genotypes.index(ids)
    x, _ = fixed_design(frame, list(covariates), True)
    response = values[keep]
    info = genotypes.marker_info
    chrom_col = next((c for c in CHROM_COLUMNS if info is not None and c in info), None)
    pos_col = next((c for c in POSITION_COLUMNS if info is not None and c in info), None)
    if loco and chrom_col is None:
        raise ValueError("loco=True needs the markers' chromosomes: genotypes.marker_info with a 'chrom' column.")
    lookup = genotypes.centred_lookup()

    def decoded(markers: np.ndarray) -> np.ndarray:
        """records x markers, centred, missing at 0: one block of codes in floating point."""
        codes = genotypes.marker_codes(markers)[:, rows]
        return np.take_along_axis(lookup[markers], codes.astype(np.int64), axis=1).T

    def grm_parts(markers: np.ndarray):
        """(WW', 2 sum p(1-p)) over ``markers``: VanRaden's GRM is their ratio."""
        out = np.zeros((rows.size, rows.size))
        for start in range(0, markers.size, block):
            w = decoded(markers[start : start + block])
            out += w @ w.T
        return out, 2.0 * float(np.sum(genotypes.centre[markers] / 2 * (1 - genotypes.centre[markers] / 2)))

    all_markers = np.arange(genotypes.n_markers)
    if loco:
        chromosomes = info[chrom_col].to_numpy()
        groups = [(c, np.flatnonzero(chromosomes == c)) for c in pd.unique(chromosomes)]
    else:
        groups = [(None, all_markers)]
    parts, h2s = [], {}
    full_kernel = None
    if loco or kernel is None:
        # every marker's part once; a LOCO kernel subtracts its chromosome's part
        numerator, denominator = grm_parts(all_markers)
    if not loco:
        if kernel is None:
            full_kernel = numerator / denominator
        else:
            if not isinstance(kernel, pd.DataFrame):
                raise TypeError("kernel must be a DataFrame labelled by ids on its index and columns.")
            labels = normalize_ids(list(kernel.index), "kernel.index")
            where = {k: i for i, k in enumerate(labels)}
            missing = [i for i in ids if i not in where]
            if missing:
                raise ValueError(f"Ids of data not in kernel: {missing[:5]} ({len(missing)} ids).")
            at = np.array([where[i] for i in ids])
            full_kernel = kernel.to_numpy(dtype=float)[np.ix_(at, at)]
    for chrom, markers in groups:
        if loco:
            own_numerator, own_denominator = grm_parts(markers)
            k_matrix = (numerator - own_numerator) / (denominator - own_denominator)
        else:
            k_matrix = full_kernel
        rotated = Rotated(k_matrix, response, x)
        h2, _, _, _ = rotated.maximise(reml)
        h2s[chrom if chrom is not None else "all"] = h2
        null_ml = rotated.maximise(False) if reestimate else None
        for start in range(0, markers.size, block):
            chunk = markers[start : start + block]
            g = rotated.basis.T @ decoded(chunk)
            parts.append(_test_block(rotated, g, h2, chunk, null_ml))
    table = pd.concat(parts, ignore_index=True)
    names = np.asarray(genotypes.markers, dtype=object)
    out = pd.DataFrame({"marker": names[table["index"].to_numpy()]})
    if chrom_col is not None:
        out["chrom"] = info[chrom_col].to_numpy()[table["index"].to_numpy()]
    if pos_col is not None:
        out["pos"] = info[pos_col].to_numpy()[table["index"].to_numpy()]
    for column in ("effect", "se", "p_wald", "p_lrt"):
        out[column] = table[column].to_numpy()
    out["neg_log10_p"] = -np.log10(out["p_lrt"].clip(lower=1e-300))
    out.attrs["h2"] = h2s if loco else h2s["all"]
    out.attrs["lambda_gc"] = genomic_control(out["p_lrt"])
    return out


def _test_block(rotated: Rotated, g: np.ndarray, h2: float, index: np.ndarray, null_ml) -> pd.DataFrame:
    """Tests of the rotated markers ``g`` (records x markers) at h2 (or re-estimated)."""
    n, p = rotated.n, rotated.p
    if null_ml is None:
        w = rotated.weights(h2)
        _, rss0, _, _, a_inv = rotated.fit(h2)
        xw = rotated.x * w[:, None]
        xwg = xw.T @ g  # p x m
        xwy = xw.T @ rotated.y  # p
        a = np.einsum("im,i,im->m", g, w, g) - np.einsum("pm,pq,qm->m", xwg, a_inv, xwg)
        b = (g * w[:, None]).T @ rotated.y - xwg.T @ (a_inv @ xwy)
        ok = a > 1e-12 * np.maximum(np.einsum("im,i,im->m", g, w, g), 1e-300)
        safe = np.where(ok, a, 1.0)
        effect = b / safe
        rss1 = rss0 - b * b / safe
        se = np.sqrt(np.clip(rss1, 0, None) / (n - p - 1) / safe)
        z2 = (effect / se) ** 2
        lr = n * np.log(rss0 / np.clip(rss1, 1e-300, None))
        p_wald = scipy.stats.chi2.sf(z2, 1)
        p_lrt = scipy.stats.chi2.sf(np.clip(lr, 0, None), 1)
        bad = ~ok
        effect[bad] = se[bad] = p_wald[bad] = p_lrt[bad] = np.nan
        return pd.DataFrame({"index": index, "effect": effect, "se": se, "p_wald": p_wald, "p_lrt": p_lrt})
    _, null_minus_two, _, _ = null_ml
    rows = []
    for j in range(g.shape[1]):
        alt = Rotated.__new__(Rotated)
        alt.eigenvalues, alt.basis, alt.y = rotated.eigenvalues, None, rotated.y
        alt.x = np.column_stack([rotated.x, g[:, j]])
        alt.n, alt.p = n, p + 1
        try:
            h2_j, minus_two, _, _ = alt.maximise(False)
            beta, rss, _, _, inverse = alt.fit(h2_j)
        except np.linalg.LinAlgError:
            rows.append((index[j], np.nan, np.nan, np.nan, np.nan))
            continue
        sigma2 = rss / (n - p - 1)
        se = float(np.sqrt(sigma2 * inverse[-1, -1]))
        lr = max(null_minus_two - minus_two, 0.0)
        rows.append((index[j], beta[-1], se, scipy.stats.chi2.sf((beta[-1] / se) ** 2, 1), scipy.stats.chi2.sf(lr, 1)))
    return pd.DataFrame(rows, columns=["index", "effect", "se", "p_wald", "p_lrt"])


def plot_qq(table: pd.DataFrame, ax=None, column: str = "p_lrt"):
    """QQ plot of -log10 p against its uniform expectation, with lambda_GC in the title; returns the Axes."""
    import matplotlib.pyplot as plt

    p = np.sort(table[column].dropna().to_numpy())
    expected = (np.arange(1, p.size + 1) - 0.5) / p.size
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4), layout="constrained")
    ax.scatter(-np.log10(expected), -np.log10(p), s=6)
    top = float(-np.log10(expected[0]))
    ax.plot([0, top], [0, top], color="tab:red", linewidth=1)
    ax.set_xlabel("expected -log10 p")
    ax.set_ylabel("observed -log10 p")
    ax.set_title(f"lambda_GC = {genomic_control(p):.3f}")
    return ax
