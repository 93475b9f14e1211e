"""Simulated data with known truth: pedigree, genotypes, breeding values and phenotypes."""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._typing import SeedArg
from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from .population import drop_genes, random_mating_pedigree


@dataclass
class Simulation:
    """What :func:`simulate` returns.

    ``pedigree``: DataFrame (id, sire, dam; None = unknown). ``phenotypes``: one record
    per non-founder (id, sex, generation, y), plus ``true_bv``. ``genotypes``: Genotypes
    of every animal (or None). ``truth``: the parameters and true values.
    """

    pedigree: pd.DataFrame
    phenotypes: pd.DataFrame
    genotypes: Genotypes | None
    truth: dict = field(default_factory=dict)

    def pedigree_object(self) -> Pedigree:
        return Pedigree.from_dataframe(self.pedigree, id="id", sire="sire", dam="dam")


def simulate(
    n_founders: int = 100,
    n_generations: int = 4,
    n_offspring: int = 200,
    n_markers: int = 1000,
    n_qtl: int = 100,
    h2: float = 0.4,
    sigma2_p: float = 1.0,
    mean: float = 10.0,
    sex_effect: float = 0.5,
    genetic_model: str = "infinitesimal",
    missing: float = 0.0,
    seed: SeedArg = None,
    family: str = "gaussian",
    prevalence: float = 0.2,
    censoring: float = 0.3,
    genotyped: float = 1.0,
) -> Simulation:
    """Simulate a population with known genetic and residual variances.

    Parameters
    ----------
    n_founders, n_generations, n_offspring : int
        Founders (generation 0, at least 2), later generations (at least 1), and animals
        per later generation (at least 1; random mating, see :func:`random_mating_pedigree`).
    n_markers : int
        Biallelic markers dropped through the pedigree (founder allele frequencies
        uniform on [0.05, 0.95]); 0 for no genotypes.
    n_qtl : int
        Markers with a causal effect (``genetic_model="markers"``), effects N(0, 1)
        rescaled so that the founder genetic variance sum 2p(1-p)a^2 equals sigma2_a.
    h2, sigma2_p : float
        Heritability and phenotypic variance: sigma2_a = h2 sigma2_p, sigma2_e = (1-h2) sigma2_p.
    mean, sex_effect : float
        Intercept, and the effect of sex "F" relative to "M".
    genetic_model : {"infinitesimal", "markers"}
        "infinitesimal": breeding values dropped through the pedigree, a_i = (a_s + a_d)/2
        + m_i with Mendelian sampling m_i ~ N(0, D_i sigma2_a) (the animal model exactly).
        "markers": breeding values are the centred QTL genotypes times their effects.
    missing : float
        Fraction of records whose phenotype is set to NaN (kept for prediction).
    seed : int >= 0 or None
    family : {"gaussian", "threshold", "censored"}
        "threshold": the simulated phenotype is a liability (h2, sigma2_p as above); ``y`` is 1
        where it exceeds the threshold, its (1 - ``prevalence``) quantile over the records, else 0
        (column ``liability`` keeps it). On the model's scale (residual variance 1) the truth is
        ``truth["sigma2_a_liability"]`` = h2 / (1 - h2), and the liability h2 is ``h2``.
        "censored": right-censoring, as by culling: each record gets a censoring time
        :math:`c_r \\sim N(m, \\sigma^2_p)` independent of its value, with m such that a fraction
        ``censoring`` of the records is censored on average; records with y > c have ``y`` NaN and
        ``lower`` = c (columns ``lower``, ``upper`` for ``bounds=``; ``y_uncensored`` keeps the
        values).
    prevalence : float in (0, 1)
        Fraction of records in category 1 (``family="threshold"``).
    censoring : float in (0, 1)
        Expected fraction of right-censored records (``family="censored"``).
    genotyped : float in (0, 1], default 1
        Fraction of the animals of the pedigree (founders included) that are genotyped, chosen
        at random after everything else is drawn (so the rest of the simulation does not depend
        on it): ``genotypes`` then holds those animals only, with allele frequencies over them,
        ``truth["genotyped"]`` lists their ids and ``phenotypes`` gets a bool column
        ``genotyped`` (for single-step models, ``bg.SingleStep``).

    Returns
    -------
    Simulation
        Founders have no record. ``truth`` holds sigma2_a, sigma2_e, h2, mean,
        sex_effect, breeding_values (Series by id) and, for "markers", marker_effects
        (Series by marker name, 0 for non-QTL) and sigma2_g_realized (variance of the
        true genetic values over the records).

    Raises
    ------
    TypeError, ValueError
        Before any simulation, for an argument of the wrong type (counts must be
        integers, not bools or strings; proportions and variances numbers) or out of
        range; the message starts with the argument's name.
    """
    n_founders = _count(n_founders, "n_founders", 2)
    n_generations = _count(n_generations, "n_generations", 1)
    n_offspring = _count(n_offspring, "n_offspring", 1)
    n_markers = _count(n_markers, "n_markers", 0)
    n_qtl = _count(n_qtl, "n_qtl", 1)
    h2 = _real(h2, "h2")
    if not 0 < h2 < 1:
        raise ValueError(f"h2 must be in (0, 1), got {h2!r}.")
    sigma2_p = _real(sigma2_p, "sigma2_p")
    if sigma2_p <= 0:
        raise ValueError(f"sigma2_p must be > 0, got {sigma2_p!r}.")
    mean = _real(mean, "mean")
    sex_effect = _real(sex_effect, "sex_effect")
    if genetic_model not in ("infinitesimal", "markers"):
        raise ValueError(f"genetic_model must be 'infinitesimal' or 'markers', got {genetic_model!r}.")
    if genetic_model == "markers" and not n_qtl <= n_markers:
        raise ValueError(f"n_qtl must be between 1 and n_markers={n_markers}, got {n_qtl}.")
    missing = _real(missing, "missing")
    if not 0 <= missing < 1:
        raise ValueError(f"missing must be in [0, 1), got {missing!r}.")
    if family not in ("gaussian", "threshold", "censored"):
        raise ValueError(f"family must be 'gaussian', 'threshold' or 'censored', got {family!r}.")
    prevalence = _real(prevalence, "prevalence")
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence!r}.")
    censoring = _real(censoring, "censoring")
    if not 0 < censoring < 1:
        raise ValueError(f"censoring must be in (0, 1), got {censoring!r}.")
    genotyped = _real(genotyped, "genotyped")
    if not 0 < genotyped <= 1:
        raise ValueError(f"genotyped must be in (0, 1], got {genotyped!r}.")
    if genotyped < 1 and n_markers == 0:
        raise ValueError("genotyped < 1 needs genotypes: n_markers must be at least 1.")
    if seed is not None:
        seed = _count(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    sigma2_a, sigma2_e = h2 * sigma2_p, (1 - h2) * sigma2_p

    sire, dam, sex, generation = random_mating_pedigree(rng, n_founders, n_generations, n_offspring)
    n = sire.size
    ids = np.array([f"A{i + 1:05d}" for i in range(n)])
    ped = pd.DataFrame(
        {
            "id": ids,
            "sire": [ids[s] if s >= 0 else None for s in sire],
            "dam": [ids[d] if d >= 0 else None for d in dam],
        }
    )
    truth = {"sigma2_a": sigma2_a, "sigma2_e": sigma2_e, "h2": h2, "mean": mean, "sex_effect": sex_effect}

    genotypes, codes = None, None
    if n_markers > 0:
        freq = rng.uniform(0.05, 0.95, n_markers)
        codes = drop_genes(rng, sire, dam, freq)
        markers = [f"snp{j + 1:05d}" for j in range(n_markers)]

    if genetic_model == "infinitesimal":
        _, mendelian = Pedigree(ids, ped["sire"], ped["dam"])._compute_inbreeding()
        bv = np.zeros(n)
        noise = rng.standard_normal(n) * np.sqrt(mendelian * sigma2_a)
        for i in range(n):  # parents precede offspring
            parents = 0.5 * ((bv[sire[i]] if sire[i] >= 0 else 0.0) + (bv[dam[i]] if dam[i] >= 0 else 0.0))
            bv[i] = parents + noise[i]
    else:
        qtl = np.sort(rng.choice(n_markers, n_qtl, replace=False))
        effects = rng.standard_normal(n_qtl)
        effects *= np.sqrt(sigma2_a / np.sum(2 * freq[qtl] * (1 - freq[qtl]) * effects**2))
        bv = (codes[:, qtl] - 2 * freq[qtl]) @ effects
        all_effects = np.zeros(n_markers)
        all_effects[qtl] = effects
        truth["marker_effects"] = pd.Series(all_effects, index=pd.Index(markers, name="marker"))
        truth["qtl"] = [markers[j] for j in qtl]
    truth["breeding_values"] = pd.Series(bv, index=pd.Index(ids, name="id"))

    has_record = generation > 0
    n_rec = int(has_record.sum())
    sex_label = np.where(sex[has_record] == 0, "M", "F")
    y = mean + sex_effect * (sex_label == "F") + bv[has_record] + rng.standard_normal(n_rec) * np.sqrt(sigma2_e)
    extra = {}
    if family == "threshold":
        threshold = float(np.quantile(y, 1.0 - prevalence))
        extra["liability"] = y
        y = (y > threshold).astype(np.float64)
        truth.update(threshold=threshold, prevalence=prevalence, sigma2_a_liability=h2 / (1.0 - h2))
    if missing > 0:
        y[rng.random(n_rec) < missing] = np.nan
    if family == "censored":
        from scipy.special import ndtri

        # y - c ~ N(mean_y - m, 2 sigma2_p): P(y > c) = censoring for m below.
        centre = float(np.mean(mean + sex_effect * (sex_label == "F"))) - np.sqrt(2.0 * sigma2_p) * ndtri(censoring)
        cut = centre + rng.standard_normal(n_rec) * np.sqrt(sigma2_p)
        censored = y > cut
        extra["y_uncensored"] = y.copy()
        extra["lower"] = np.where(censored, cut, np.nan)
        extra["upper"] = np.full(n_rec, np.nan)
        y = np.where(censored, np.nan, y)
        truth["censored"] = float(np.mean(censored))
    phenotypes = pd.DataFrame(
        {
            "id": ids[has_record],
            "sex": sex_label,
            "generation": generation[has_record],
            "y": y,
            "true_bv": bv[has_record],
            **extra,
        }
    )
    truth["sigma2_g_realized"] = float(
        np.var(bv[has_record][~np.isnan(phenotypes["y_uncensored"] if family == "censored" else y)])
    )
    if codes is not None:
        chosen = np.arange(n)
        if genotyped < 1:
            chosen = np.sort(rng.choice(n, size=max(1, round(genotyped * n)), replace=False))
            truth["genotyped"] = ids[chosen].tolist()
            phenotypes["genotyped"] = np.isin(phenotypes["id"].to_numpy(), ids[chosen])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # markers that drifted to fixation are dropped
            genotypes = Genotypes(ids[chosen], codes[chosen], markers)
    return Simulation(ped, phenotypes, genotypes, truth)


def _count(value, name: str, minimum: int) -> int:
    """``value`` as an int after checking it is an integer (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _real(value, name: str) -> float:
    """``value`` as a float after checking it is a finite real number (not a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return float(value)
