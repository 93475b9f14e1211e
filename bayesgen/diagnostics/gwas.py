r"""Genome-wide association from the posterior of a marker model: windows and markers.

Window shares follow Fernando & Garrick (2013, "Bayesian methods applied to GWAS"): for a
window w of markers, per posterior draw s, the window's genetic values
:math:`g_w^{(s)} = W_w \alpha_w^{(s)}` over the phenotyped records and their share of the
genetic variance :math:`q_w^{(s)} = \mathrm{var}(g_w^{(s)}) / \mathrm{var}(W \alpha^{(s)})`
(variances over records, divisor n, as ``var_g``). The table reports the posterior mean
of :math:`q_w` and the window posterior probability of association
:math:`\mathrm{WPPA}_w = P(q_w > \text{threshold} \mid y)`, estimated by the share of draws.
Shares need not sum to 1: windows in linkage disequilibrium covary, and
:math:`\mathrm{var}(\sum_w g_w) = \sum_w \mathrm{var}(g_w) + \sum_{w \ne v} \mathrm{cov}(g_w, g_v)`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import preview
from ..data._genotype_kernels import decode_rows
from .marker_map import CHROM_COLUMNS, POSITION_COLUMNS

#: Column names accepted in ``Genotypes.marker_info`` for the chromosome and the bp position.
#: Draws x records held at once while accumulating genetic values (bounds temporary memory).
BLOCK_VALUES = 4_000_000
WINDOW_UNITS = ("markers", "bp")


def windows(idata, model, *, size, by: str = "markers", threshold: float = 0.01, term=None) -> pd.DataFrame:
    """Posterior share of genetic variance and WPPA per window of markers.

    Parameters
    ----------
    idata : arviz.InferenceData
        From ``model.sample(...)`` with full draws of the marker effects (``store="full"``,
        or "auto" when they fit).
    model : Model
        The fitted model; its Markers term gives the training genotypes of the
        phenotyped records (int8 codes, centred with the training allele frequencies).
    size : int or float
        Window length: a number of consecutive markers (``by="markers"``) or of base pairs
        (``by="bp"``; markers in [k size, (k+1) size) on a chromosome share a window).
    by : {"markers", "bp"}
        "bp" needs ``marker_info`` (chromosome and position) on the genotypes, as
        ``read_plink`` gives. Windows never span two chromosomes; with chromosome and
        position, markers are ordered by them first.
    threshold : float in (0, 1)
        WPPA is the posterior probability that the window's share exceeds it.
    term : Markers, optional
        Which marker term (default: the model's first).

    Returns
    -------
    pandas.DataFrame
        One row per window: ``window`` (1, 2, ...), ``chrom`` (if known), ``first_marker``,
        ``last_marker``, ``n_markers``, ``start_bp`` and ``end_bp`` (positions of the first
        and last marker, if known), ``share`` (posterior mean), ``share_sd``, ``wppa``.
        A draw whose total genetic variance is 0 (every effect 0) gives every window a share of 0.
    """
    if by not in WINDOW_UNITS:
        raise ValueError(f"by must be one of {', '.join(map(repr, WINDOW_UNITS))}, got {by!r}.")
    if (
        isinstance(size, bool)
        or not isinstance(size, (int, float, np.integer, np.floating))
        or not size > 0
        or not np.isfinite(size)
    ):
        raise ValueError(f"size must be a positive number, got {size!r}.")
    if by == "markers" and size != int(size):
        raise ValueError(f"size must be a whole number of markers with by='markers', got {size!r}.")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.integer, np.floating))
        or not 0 < threshold < 1
    ):
        raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r}.")
    term = _marker_term(model, term)
    alpha = _alpha_draws(idata, term)  # draws x markers
    coords = _marker_coords(term)
    if by == "bp" and "pos" not in coords:
        raise ValueError(
            "by='bp' needs marker positions: the model's genotypes have no marker_info with a chromosome "
            f"({'/'.join(CHROM_COLUMNS)}) and a position ({'/'.join(POSITION_COLUMNS)}) column; use by='markers'."
        )
    groups = _window_members(coords, len(term.genotypes.markers), size, by)
    shares = _window_shares(term, model.observed, alpha, groups)  # windows x draws
    names = np.asarray(term.genotypes.markers, dtype=object)
    table = pd.DataFrame({"window": np.arange(1, len(groups) + 1)})
    if "chrom" in coords:
        table["chrom"] = [coords["chrom"][g[0]] for g in groups]
    table["first_marker"] = [names[g[0]] for g in groups]
    table["last_marker"] = [names[g[-1]] for g in groups]
    table["n_markers"] = [len(g) for g in groups]
    if "pos" in coords:
        table["start_bp"] = [coords["pos"][g[0]] for g in groups]
        table["end_bp"] = [coords["pos"][g[-1]] for g in groups]
    table["share"] = shares.mean(axis=1)
    table["share_sd"] = shares.std(axis=1, ddof=1) if shares.shape[1] > 1 else np.nan
    table["wppa"] = (shares > threshold).mean(axis=1)
    table.attrs.update(size=size, by=by, threshold=threshold, draws=int(alpha.shape[0]))
    return table


def markers(idata, model, *, term=None) -> pd.DataFrame:
    """Per-marker posterior summaries: mean, sd and mean absolute value of the effect, and PIP.

    ``pip`` (posterior inclusion probability) is the posterior mean of the prior's
    inclusion indicator when the posterior holds one (a 0/1 variable over the markers,
    e.g. ``delta``), else the share of draws with :math:`\\alpha_j \\ne 0` when some draws
    are exactly 0 (spike-and-slab priors), else NaN: under continuous priors (BayesA, BRR,
    LASSO) no effect is ever exactly 0; rank markers by ``mean_abs`` instead.
    ``attrs["pip"]`` says which applies. Columns ``chrom``/``pos`` come from ``marker_info``.

    Without full draws (``store="summary"``) the table comes from the running summaries in
    ``posterior_summary``: ``mean`` and ``sd``, ``pip`` from the running share of draws with
    :math:`\\alpha_j \\ne 0` (kept for spike-and-slab priors; else NaN), and ``mean_abs`` NaN.
    """
    term = _marker_term(model, term)
    coords = _marker_coords(term)
    table = pd.DataFrame({"marker": list(term.genotypes.markers)})
    for key in ("chrom", "pos"):
        if key in coords:
            table[key] = coords[key]
    summary = _running_summary(idata, term)
    if summary is not None:
        return _markers_from_summary(table, summary, term)
    alpha = _alpha_draws(idata, term)
    table["mean"] = alpha.mean(axis=0)
    table["sd"] = alpha.std(axis=0, ddof=1) if alpha.shape[0] > 1 else np.nan
    table["mean_abs"] = np.abs(alpha).mean(axis=0)
    indicator = _inclusion_indicator(idata, term)
    if indicator is not None:
        name, values = indicator
        table["pip"] = values.mean(axis=0)
        table.attrs["pip"] = f"posterior mean of the indicator {name!r}"
    elif (alpha == 0).any():
        table["pip"] = (alpha != 0).mean(axis=0)
        table.attrs["pip"] = "share of draws with alpha != 0"
    else:
        table["pip"] = np.nan
        table.attrs["pip"] = "not defined: no draw of alpha is exactly 0 (continuous prior); use mean_abs"
    return table


def _running_summary(idata, term):
    """The ``posterior_summary`` dataset when it, and not the posterior, holds the term's
    effects (``store="summary"``), after checking it is over the model's markers; else None."""
    name = term.effect_name
    posterior = getattr(idata, "posterior", None)
    summary = getattr(idata, "posterior_summary", None)
    if (posterior is not None and name in posterior) or summary is None or f"{name}_mean" not in summary:
        return None
    missing = [f"{name}_{stat}" for stat in ("mean", "sd") if f"{name}_{stat}" not in summary]
    if missing:
        raise ValueError(
            f"The InferenceData's posterior_summary lacks {', '.join(map(repr, missing))}: "
            "it was not written by model.sample(store='summary')."
        )
    found = (
        [str(v) for v in summary[f"{name}_mean"][term.marker_dim].values]
        if term.marker_dim in summary[f"{name}_mean"].dims
        else []
    )
    expected = [str(v) for v in term.genotypes.markers]
    if found != expected:
        raise ValueError(
            f"The markers of the InferenceData's posterior_summary (coordinate {term.marker_dim!r} of "
            f"{name + '_mean'!r}: {len(found)}) do not match the model's ({len(expected)}). "
            "Was it sampled from another model?"
        )
    return summary


def _markers_from_summary(table: pd.DataFrame, summary, term) -> pd.DataFrame:
    name = term.effect_name
    table["mean"] = summary[f"{name}_mean"].values
    table["sd"] = summary[f"{name}_sd"].values
    table["mean_abs"] = np.nan
    if f"{name}_pip" in summary:
        table["pip"] = np.asarray(summary[f"{name}_pip"].values, dtype=np.float64)
        table.attrs["pip"] = "running share of draws with alpha != 0 (store='summary')"
    else:
        table["pip"] = np.nan
        table.attrs["pip"] = "not defined: no running inclusion count (continuous prior); use mean and sd"
    table.attrs["mean_abs"] = "not kept by store='summary'"
    return table


def plot_manhattan(
    table: pd.DataFrame,
    ax=None,
    *,
    value: str | None = None,
    hline: float | None = None,
    threshold: float | None = None,
):
    """Manhattan-style plot of a ``windows`` or ``markers`` table; returns the matplotlib Axes.

    ``value``: the column plotted (default ``wppa`` for windows; ``pip`` for markers when
    defined, else ``mean_abs``). Points are placed by chromosome and position when the
    table has them (chromosomes side by side, alternating colours), else by row.
    ``hline`` draws a horizontal line at that value of the plotted column (e.g. a WPPA of 0.9).
    ``threshold`` is its former name, deprecated: in ``windows`` a threshold is a share of
    genetic variance, and the word keeps that one meaning.
    """
    import matplotlib.pyplot as plt  # lazily: plotting is optional

    if threshold is not None:
        if hline is not None:
            raise TypeError("plot_manhattan got both hline= and threshold= (its deprecated name); pass hline only.")
        warnings.warn(
            "plot_manhattan(threshold=) is deprecated: use hline=, a horizontal line at that value of the "
            "plotted column (threshold means the share of genetic variance in gwas.windows).",
            DeprecationWarning,
            stacklevel=2,
        )
        hline = threshold

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame from gwas.windows or gwas.markers, got {type(table).__name__}.")
    if value is None:
        if "wppa" in table:
            value = "wppa"
        elif "pip" in table and table["pip"].notna().any():
            value = "pip"
        else:
            value = "mean_abs"
    if value not in table:
        raise ValueError(f"Column {value!r} not in the table (columns: {preview(list(table.columns))}).")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3), layout="constrained")
    position = table["start_bp"] if "start_bp" in table else table["pos"] if "pos" in table else None
    colours = ("tab:blue", "tab:gray")
    if "chrom" in table and position is not None:
        offset, ticks, labels = 0.0, [], []
        for k, chrom in enumerate(_ordered(pd.unique(table["chrom"]))):
            rows = (table["chrom"] == chrom).to_numpy()
            pos = position.to_numpy(dtype=float)[rows]
            span = max(pos.max() - pos.min(), 1.0)
            x = offset + pos - pos.min()
            ax.scatter(x, table[value].to_numpy()[rows], s=8, color=colours[k % 2])
            ticks.append(offset + span / 2)
            labels.append(str(chrom))
            offset += span * 1.02
        ax.set_xticks(ticks, labels)
        ax.set_xlabel("chromosome")
    else:
        x = table["window"] if "window" in table else np.arange(1, len(table) + 1)
        ax.scatter(x, table[value], s=8, color=colours[0])
        ax.set_xlabel("window" if "window" in table else "marker")
    if hline is not None:
        ax.axhline(hline, color="tab:red", linestyle="--", linewidth=1)
    ax.set_ylabel(value)
    return ax


# ---------------------------------------------------------------------------- mixed-model scans
def lmm_scan(data, y, genotypes, kernel=None, covariates=(), **options):
    """Mixed-model association scan: see ``bayesgen.diagnostics.lmm_scan.lmm_scan``."""
    from .lmm_scan import lmm_scan as scan

    return scan(data, y, genotypes, kernel=kernel, covariates=covariates, **options)


def genomic_control(p_values) -> float:
    """lambda_GC of p-values (``bayesgen.diagnostics.lmm_scan.genomic_control``)."""
    from .lmm_scan import genomic_control as gc

    return gc(p_values)


def plot_qq(table, ax=None, column: str = "p_lrt"):
    """QQ plot of a scan's p-values (``bayesgen.diagnostics.lmm_scan.plot_qq``)."""
    from .lmm_scan import plot_qq as qq

    return qq(table, ax=ax, column=column)


# ---------------------------------------------------------------------------- helpers
def _marker_term(model, term):
    from ..terms.markers import Markers

    if term is None:
        return model.term(Markers)
    if not isinstance(term, Markers) or not any(t is term for t in model.terms):
        raise ValueError(f"term must be one of the model's Markers terms (model.terms), got {term!r}.")
    return term


def _alpha_draws(idata, term) -> np.ndarray:
    from ..prediction.draws import effect_draws

    return np.asarray(effect_draws(idata, term, "markers").values, dtype=np.float64)


def _inclusion_indicator(idata, term):
    """(name, draws x markers) of a 0/1 variable over the term's markers other than its effects,
    i.e. the prior's inclusion indicator, or None."""
    posterior = getattr(idata, "posterior", None)
    if posterior is None:
        return None
    for name, variable in posterior.data_vars.items():
        if name == term.effect_name or variable.dims[2:] != (term.marker_dim,):
            continue
        values = variable.stack(sample=("chain", "draw")).transpose("sample", ...).values
        if np.isin(values, (0, 1)).all():
            return name, values
    return None


def _ordered(values) -> list:
    """Chromosome labels in natural order (1, 2, ..., 10, then text such as X, Y)."""

    def key(v):
        text = str(v)
        return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)

    return sorted(values, key=key)


def _marker_coords(term) -> dict:
    """Chromosome and position per marker (model order), as far as ``marker_info`` gives them."""
    info = term.genotypes.marker_info
    out = {}
    if info is None:
        return out
    chrom = next((c for c in CHROM_COLUMNS if c in info.columns), None)
    pos = next((c for c in POSITION_COLUMNS if c in info.columns), None)
    if chrom is not None:
        values = info[chrom].to_numpy()
        if pd.isna(values).any():
            raise ValueError(
                f"marker_info column {chrom!r} has missing chromosomes for markers "
                f"{preview(list(info.index[pd.isna(values)]))}."
            )
        out["chrom"] = values
    if pos is not None and chrom is not None:
        values = pd.to_numeric(info[pos], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any():
            raise ValueError(
                f"marker_info column {pos!r} has missing or non-numeric positions for markers "
                f"{preview(list(info.index[np.isnan(values)]))}."
            )
        out["pos"] = values.astype(np.int64) if np.all(values == np.round(values)) else values
    return out


def _window_members(coords: dict, n_markers: int, size, by: str) -> list[np.ndarray]:
    """Marker indices (model order) of each window, in genome order: by chromosome (natural
    order), then position when known, then model order; windows never span chromosomes."""
    if "chrom" in coords:
        rank = {c: k for k, c in enumerate(_ordered(pd.unique(coords["chrom"])))}
        chrom_rank = np.array([rank[c] for c in coords["chrom"]], dtype=np.int64)
    else:
        chrom_rank = np.zeros(n_markers, dtype=np.int64)
    within = coords["pos"] if "pos" in coords else np.arange(n_markers)
    order = np.lexsort((np.arange(n_markers), within, chrom_rank))
    groups = []
    for c in np.unique(chrom_rank):
        members = order[chrom_rank[order] == c]
        if by == "bp":
            bins = np.floor(coords["pos"][members] / size).astype(np.int64)
            groups += [members[bins == b] for b in np.unique(bins)]
        else:
            groups += [members[k : k + int(size)] for k in range(0, members.size, int(size))]
    return groups


def _window_shares(term, observed: np.ndarray, alpha: np.ndarray, groups) -> np.ndarray:
    r"""Shares var(W_w alpha_w) / var(W alpha) over the phenotyped records, windows x draws.

    A window's variance per draw is the quadratic form :math:`\alpha_w' S_w \alpha_w` with
    :math:`S_w` the covariance (divisor n) of the window's centred genotypes over the
    records, m_w x m_w and cheap; the total needs the genetic values themselves,
    accumulated over blocks of markers (genotypes decoded to floating point one block at a
    time; missing = 0, the mean) and of draws (at most ``BLOCK_VALUES`` draws x records)."""
    records = np.flatnonzero(observed)
    n_draws, n_markers = alpha.shape
    window_var = np.empty((len(groups), n_draws))
    for w, members in enumerate(groups):
        x = _decoded(term, members, records)
        x -= x.mean(axis=1, keepdims=True)
        cov = x @ x.T / records.size
        a = alpha[:, members]
        window_var[w] = np.maximum(np.einsum("sj,sj->s", a @ cov, a), 0.0)
    total_var = np.empty(n_draws)
    draw_block = max(1, BLOCK_VALUES // max(records.size, 1))
    marker_block = max(1, BLOCK_VALUES // max(records.size, 1))
    for start in range(0, n_draws, draw_block):
        rows = slice(start, min(start + draw_block, n_draws))
        total = np.zeros((rows.stop - rows.start, records.size))
        for first in range(0, n_markers, marker_block):
            members = np.arange(first, min(first + marker_block, n_markers))
            total += alpha[rows, first : members[-1] + 1] @ _decoded(term, members, records)
        total_var[rows] = total.var(axis=1)
    positive = total_var > 0
    shares = np.zeros_like(window_var)
    shares[:, positive] = window_var[:, positive] / total_var[positive]
    return shares


def _decoded(term, members, records) -> np.ndarray:
    """Centred genotypes (float, markers ``members`` x ``records``) from the training lookup
    (the term's codes int8 or packed, decoded for these markers only)."""
    codes = decode_rows(term.codes, term.n_records, members)[:, records]
    return np.take_along_axis(term.lookup[members], codes.astype(np.intp), axis=1)
