"""Predicted genetic values with posterior uncertainty."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._validation import id_labels, normalize_id, preview
from ..data.genotypes import Genotypes
from .draws import covariance_draws, effect_draws

#: Markers decoded to floating point at once when predicting (bounds the temporary memory).
MARKER_BLOCK = 1024


def _summarise(draws: np.ndarray, labels, dim: str, prob: float, traits=None, inner: str = "trait") -> xr.Dataset:
    """Mean, sd and central ``prob`` interval over the first axis of ``draws`` (draws x items,
    or draws x items x k when ``traits`` names the k coordinates of the last axis, dim ``inner``).

    The ``dim`` coordinate holds ``labels`` as integers when every one is an integer, otherwise
    as text (``id_labels``), so that ``.sel`` takes the user's own ids."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob!r}.")
    lower, upper = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    dims = (dim,) if traits is None else (dim, inner)
    coords = {dim: id_labels([normalize_id(v) for v in labels])}
    if traits is not None:
        coords[inner] = list(traits)
    return xr.Dataset(
        {
            "mean": (dims, draws.mean(axis=0)),
            "sd": (dims, _sample_sd(draws)),
            "lower": (dims, lower),
            "upper": (dims, upper),
        },
        coords=coords,
        attrs={"prob": prob},
    )


def _sample_sd(draws: np.ndarray) -> np.ndarray:
    """Sample standard deviation (ddof = 1) over the first axis; NaN, without numpy's
    "degrees of freedom" warning, when there is a single draw."""
    if draws.shape[0] < 2:
        return np.full(draws.shape[1:], np.nan)
    return draws.std(axis=0, ddof=1)


def predict(model, idata, genotypes=None, ids=None, at=None, prob: float = 0.95, parents=None, seed=0) -> xr.Dataset:
    """``Model.predict``: genomic values from ``genotypes`` (a term that ``predicts`` from
    genotypes: marker effects), else the genetic values of levels ``ids`` of the first genetic
    term that ``predicts`` levels (breeding values of pedigree animals, genetic values of a
    kernel's ids; ``at``: a random regression's curve at given covariate values); with
    ``parents``, the values of animals born after the fit (``bayesgen.prediction.parents``)."""
    genetic = [t for t in model.terms if t.genetic]
    if parents is not None:
        return predict_from_parents(genetic, idata, parents, genotypes, ids, at, prob, seed)
    # a term may also declare ``marker_effects`` (its variable of marker effects; single-step regression)
    # or relate new genotyped animals to its own (ssGBLUP): both predict their levels and new genotypes
    by_genotypes = [t for t in genetic if t.predicts_from_genotypes]
    by_levels = [t for t in genetic if t.predicts == "levels"]
    if genotypes is not None:
        if by_genotypes:
            if ids is not None or at is not None:
                raise ValueError(
                    "predict(genotypes=...) takes neither ids= nor at=: it predicts every individual of the genotypes."
                )
            values, inner, coords = new_genotyped_draws(
                by_genotypes[0], idata, genotypes, None, np.random.default_rng(seed)
            )
            return _summarise_values(values, list(genotypes.ids), "individual", prob, inner, coords)
        if by_levels:
            term = by_levels[0]
            raise LookupError(
                f"The model has no Markers term: predict(genotypes=...) needs marker effects, but this model's "
                f"genetic term is the {type(term).__name__} {term.name!r}, whose genetic values exist only for "
                f"its own levels. Give the term the new individuals too (they need no phenotype) and read "
                f"idata.posterior[{term.effect_name!r}] (dim {term.level_dim!r}), or fit bg.BRR, the marker model "
                "equivalent to GBLUP, to predict from genotypes."
            )
        raise LookupError("The model has no Markers term: predict(genotypes=...) needs marker effects.")
    if by_levels:
        return predict_level_values(by_levels[0], idata, ids=ids, at=at, prob=prob)
    if by_genotypes:
        raise ValueError(
            f"This model's genetic values come from the marker term {by_genotypes[0].name!r}: predict needs the "
            "genotypes of the individuals to predict, model.predict(idata, genotypes=...) (a bayesgen.Genotypes "
            "with every marker of the fit; build it with drop_monomorphic=False)."
        )
    raise LookupError(
        "The model has no genetic term to predict (Animal, Kernel, Markers, or a random regression on a pedigree)."
    )


def predict_genomic_values(term, idata, genotypes: Genotypes, prob: float = 0.95) -> xr.Dataset:
    r"""Genomic values :math:`g = W_{new}\alpha` of new individuals, per posterior draw.

    With several traits :math:`\alpha` is markers x traits, so g holds one column per trait
    (:math:`g_{\cdot k} = W_{new}\alpha_{\cdot k}`) and every summary has a ``trait`` dim.

    New genotypes are centred with the training allele frequencies (missing = training
    mean). Every training marker must be present; extra markers are ignored. Build them
    with ``Genotypes(ids, matrix, markers, drop_monomorphic=False)`` so that markers
    fixed among the few new individuals are kept.
    Returns mean, sd and interval per individual (dim ``individual``): the mean, the sample
    sd (ddof = 1) and the central ``prob`` interval of g over all draws of all chains. With a
    single draw the sd is NaN (no warning) and the interval collapses to that draw.
    ``idata`` must come from this model: its ``alpha`` draws must be over the model's
    markers, in the model's order, or a ValueError names the markers that differ.
    """
    values, traits = genomic_value_draws(term, idata, genotypes)
    if traits is None:
        return _summarise(values[:, :, 0], genotypes.ids, "individual", prob)
    return _summarise(values, genotypes.ids, "individual", prob, traits=traits)


def genomic_value_draws(term, idata, genotypes: Genotypes) -> tuple[np.ndarray, list | None]:
    """(draws x individuals x traits) genomic values of ``genotypes`` (``predict_genomic_values``),
    and the trait names (None for one trait)."""
    if not isinstance(genotypes, Genotypes):
        raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
    position = {m: k for k, m in enumerate(genotypes.markers)}
    missing = [m for m in term.genotypes.markers if m not in position]
    if missing:
        raise ValueError(
            f"Markers of the fitted model absent from the new genotypes: {preview(missing)} "
            "(build new genotypes with drop_monomorphic=False)."
        )
    rows = np.array([position[m] for m in term.genotypes.markers])
    effects = effect_draws(idata, term, "markers", term.marker_effects)
    traits = list(effects["trait"].values) if "trait" in effects.dims else None
    alpha = effects.values  # draws x markers (x traits)
    if traits is None:
        alpha = alpha[:, :, None]
    lookup = term.lookup
    values = np.zeros((alpha.shape[0], genotypes.n_individuals, alpha.shape[2]))
    for start in range(0, rows.size, MARKER_BLOCK):
        block = slice(start, start + MARKER_BLOCK)
        codes = genotypes.marker_codes(rows[block])  # int8, markers x individuals (decoded if packed)
        x = np.take_along_axis(lookup[block], codes.astype(np.intp), axis=1)  # float, one block only
        for k in range(alpha.shape[2]):  # per trait k: draws x individuals
            values[:, :, k] += alpha[:, block, k] @ x
    # a draw-wise constant some terms add to their genomic values (SSBR's J_g c; 0 by default)
    values += np.asarray(term.genomic_offset(idata), dtype=np.float64).reshape(-1, 1, 1)
    return values, traits


def new_genotyped_draws(term, idata, genotypes: Genotypes, extended, rng) -> tuple[np.ndarray, list, dict]:
    """(draws x individuals x q) values of new genotyped individuals, the dims beyond the individual one
    and their coordinates: by marker effects (``genomic_value_draws``), or by relationships
    (``Term.genotype_conditional``, ssGBLUP) given the fitted animals' draws, with ``extended`` the
    term's pedigree extended by the new animals (None: added as founders)."""
    if term.marker_effects is not None or term.predicts == "genotypes":
        values, traits = genomic_value_draws(term, idata, genotypes)
        return values, ([] if traits is None else ["trait"]), ({} if traits is None else {"trait": traits})
    from .parents import extended_pedigree

    if not isinstance(genotypes, Genotypes):
        raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
    ids = [normalize_id(v) for v in genotypes.ids]
    fitted_animals = set(term.inheritance().pedigree.ids)
    if extended is None:
        new = [a for a in ids if a not in fitted_animals]
        extended = extended_pedigree(term, new, [None] * len(new), [None] * len(new)) if new else None
    conditional = term.genotype_conditional(genotypes, extended or term.inheritance().pedigree)
    conditioning = set(conditional.conditioning)
    refit = [a for a in ids if a in fitted_animals and a not in conditioning]
    if refit:
        raise ValueError(
            f"Animals of the fitted pedigree that were not genotyped at the fit: {preview(refit)}; their new "
            "genotypes change what the fit knows of their relatives: fit again with them genotyped."
        )
    draws = effect_draws(idata, term, "animals", term.inheritance().values)
    level_dim, inner = draws.dims[1], list(draws.dims[2:])
    position = {normalize_id(v): k for k, v in enumerate(draws[level_dim].values)}
    fitted = draws.values.reshape(draws.shape[0], draws.shape[1], -1)
    given = fitted[:, [position[normalize_id(a)] for a in conditional.conditioning], :]
    n_draws, q = fitted.shape[0], fitted.shape[2]
    sigma = np.linalg.cholesky(covariance_draws(idata.posterior, conditional.covariance, n_draws, q))
    eigenvalues, vectors = np.linalg.eigh(conditional.conditional)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))  # S = root root' (S is PSD; rounding clipped)
    z = rng.standard_normal((n_draws, root.shape[0], q))
    noise = np.einsum("smq,srq->smr", np.einsum("mk,skq->smq", root, z), sigma)  # rows of root z Sigma^1/2'
    values = np.einsum("mk,skq->smq", conditional.weights, given) + noise
    return values, inner, {d: list(draws[d].values) for d in inner}


def _summarise_values(values: np.ndarray, labels, dim: str, prob: float, inner: list, coords: dict) -> xr.Dataset:
    """``_summarise`` of draws x items x q values whose q axis is named by ``inner`` (none or one dim)."""
    if len(inner) > 1:
        raise ValueError(f"Predictions are summarised with one dimension beyond {dim!r}; these have {inner}.")
    if not inner:
        return _summarise(values[:, :, 0], labels, dim, prob)
    return _summarise(values, labels, dim, prob, traits=coords[inner[0]], inner=inner[0])


def predict_level_values(term, idata, ids=None, at=None, prob: float = 0.95) -> xr.Dataset:
    """Genetic values of the levels ``ids`` (default: all) of a location term, summarised per level.

    Mean, sample sd (ddof = 1) and central ``prob`` interval over all draws; with a single draw
    the sd is NaN (no warning). A level with several coefficients (direct and maternal effects,
    a random regression's intercept and slopes) gets one value per coefficient (dim as in the
    posterior); with ``at`` (a random regression: ``{covariate: values}``, or the values of its
    only slope) the curve :math:`x'u_l` at each point instead (dim ``at``). ``idata`` must come
    from this model: its level coordinate must be the model's levels in the model's order, or
    a ValueError names the levels that differ.
    """
    draws = effect_draws(idata, term, "animals" if term.level_dim == "animal" else "levels")
    level_dim = term.level_dim
    if ids is not None:
        draws = draws.isel({level_dim: term_positions(term, ids)})
    labels = draws[level_dim].values
    inner = [d for d in draws.dims if d not in ("sample", level_dim)]
    values = draws.values
    if at is not None:
        points, x = covariate_points(term, at)
        return _summarise(values @ x.T, labels, level_dim, prob, traits=points, inner="at")
    if not inner:
        return _summarise(values, labels, level_dim, prob)
    return _summarise(values, labels, level_dim, prob, traits=draws[inner[0]].values, inner=inner[0])


def term_positions(term, ids) -> np.ndarray:
    """Positions of ``ids`` among the term's levels; an error names the ids it does not have."""
    if isinstance(ids, (str, int, np.integer)):
        ids = [ids]
    position = {normalize_id(v): k for k, v in enumerate(term.coords())}
    wanted = [normalize_id(v) for v in ids]
    absent = [v for v in wanted if v not in position]
    if absent:
        raise ValueError(f"Ids not among the levels of {term.name!r}: {preview(absent)}.")
    return np.array([position[v] for v in wanted], dtype=np.int64)


def covariate_points(term, at) -> tuple[list, np.ndarray]:
    """(point labels, X) for a random regression's curve: X (points x q), a row (1, x...) per point."""
    slopes = term.slopes
    if slopes is None:
        raise ValueError(f"at= applies to random regressions (slopes); {term.name!r} has none.")
    if not isinstance(at, dict):
        if len(slopes) != 1:
            raise ValueError(f"at= must be a dict {{covariate: values}} for the slopes {slopes!r} of {term.name!r}.")
        at = {slopes[0]: at}
    unknown = [k for k in at if k not in slopes]
    if unknown:
        raise ValueError(f"at= names {preview(unknown)}, which are not slopes of {term.name!r} ({slopes!r}).")
    missing = [s for s in slopes if s not in at]
    if missing:
        raise ValueError(f"at= needs values for every slope of {term.name!r}; missing {preview(missing)}.")
    columns = [np.atleast_1d(np.asarray(at[s], dtype=np.float64)) for s in slopes]
    n = {c.size for c in columns}
    if len(n) != 1:
        raise ValueError(f"at= needs as many values for each slope; got sizes {sorted(n)}.")
    x = np.column_stack(([np.ones(columns[0].size)] if term.layout.intercept else []) + columns)
    labels = [", ".join(f"{s}={v:g}" for s, v in zip(slopes, row)) for row in zip(*columns)]
    return labels, x


def predict_from_parents(genetic, idata, parents, genotypes, ids, at, prob: float, seed) -> xr.Dataset:
    """``predict(parents=...)``: new animals from their parents' draws (``bayesgen.prediction.parents``);
    with ``genotypes`` too, the genotyped ones from their genotypes (``new_genotyped_draws``), those
    absent from ``parents`` appended after its animals as animals of unknown parents."""
    from .parents import draw_from_parents, extended_pedigree, new_animals

    if ids is not None or at is not None:
        raise ValueError("predict(parents=...) takes neither ids= nor at=: it predicts the animals of parents=.")
    inheriting = [t for t in genetic if t.inheritance() is not None]
    if not inheriting:
        raise LookupError(
            "predict(parents=...) needs a genetic term on a pedigree (Animal, SingleStep, a random regression "
            "on a pedigree); this model has "
            + (", ".join(repr(t.name) for t in genetic) if genetic else "no genetic term")
            + "."
        )
    term = inheriting[0]
    new_ids, sires, dams = new_animals(parents)
    rng = np.random.default_rng(seed)
    known: dict = {}
    if genotypes is not None:
        if not term.predicts_from_genotypes:
            raise ValueError(
                f"The genetic term {term.name!r} predicts new animals from their parents only; animals genotyped "
                "after the fit need a term that predicts from genotypes (SingleStep, a marker term), or must be "
                "in the pedigree and genotypes at the fit."
            )
        if not isinstance(genotypes, Genotypes):
            raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
        labels = [normalize_id(v) for v in genotypes.ids]
        listed, fitted_animals = set(new_ids), set(term.inheritance().pedigree.ids)
        extra = [a for a in labels if a not in listed and a not in fitted_animals]
        new_ids, sires, dams = new_ids + extra, sires + [None] * len(extra), dams + [None] * len(extra)
    extended = extended_pedigree(term, new_ids, sires, dams)
    if genotypes is not None:
        genotyped, _, _ = new_genotyped_draws(term, idata, genotypes, extended, rng)
        known = {a: genotyped[:, k, :] for k, a in enumerate(labels) if a not in fitted_animals}
    new_ids, values, level_dim, inner, coords = draw_from_parents(
        term, idata, extended, new_ids, sires, dams, rng, known
    )
    return _summarise_values(values, new_ids, level_dim, prob, inner, coords)
