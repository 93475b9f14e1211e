r"""Breeding values of animals born after the fit, from the posterior draws of their parents.

A term whose values pass from parents to offspring declares it (``Term.inheritance``: the
pedigree, the posterior variable of its animals' values u, the one of their covariance
:math:`\Sigma`). An animal i added to that pedigree as a leaf (no records, no progeny) has,
given every fitted animal's values and :math:`\Sigma`,

.. math:: u_i = (u_{sire} + u_{dam})/2 + m_i, \qquad m_i \sim N(0, D_i\Sigma),

an unknown parent counting 0 (the base population's mean), and
:math:`D_i = 1/2 - (F_s + F_d)/4` with both parents known, :math:`3/4 - F_p/4` with one, 1 with
none (``Pedigree.mendelian_variances`` of the pedigree extended by the new animals). This is the
conditional of :math:`u_i` under the term's prior: a leaf's row of :math:`A^{-1}`, and the same row
of ssGBLUP's :math:`H^{-1}` and of single-step regression's :math:`(A^{-1})_{nn}` (the structure
of its ε) for an ungenotyped leaf. Drawn once per posterior draw, the values carry the
posterior's uncertainty of the parents and :math:`\Sigma` plus the Mendelian sampling. New
animals may be parents of other new animals: they are drawn parents first.

With single-step regression, new animals that have genotypes take their genomic values
:math:`m'\alpha + J_g c` instead (given its genotypes, an animal's value does not depend on its
parents in that model); their offspring among the new animals then inherit those values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._validation import check_duplicates, normalize_id, normalize_parent, preview
from ..data.pedigree import Pedigree
from .draws import covariance_draws, effect_draws


def new_animals(parents) -> tuple[list, list, list]:
    """(ids, sires, dams) of the new animals, as normalised text (None: unknown parent), from a
    DataFrame with columns ``id``, ``sire`` and ``dam`` or a mapping ``{id: (sire, dam)}``."""
    if isinstance(parents, pd.DataFrame):
        absent = [c for c in ("id", "sire", "dam") if c not in parents.columns]
        if absent:
            raise ValueError(
                f"parents= needs the columns 'id', 'sire' and 'dam'; missing {preview(absent)} "
                f"(it has {preview(parents.columns)})."
            )
        rows = list(zip(parents["id"], parents["sire"], parents["dam"]))
    elif isinstance(parents, Mapping):
        rows = []
        for key, pair in parents.items():
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ValueError(f"parents= maps each new animal to (sire, dam); got {pair!r} for {key!r}.")
            rows.append((key, pair[0], pair[1]))
    else:
        raise TypeError(
            "parents= must be a pandas DataFrame with columns id, sire and dam, or a mapping "
            f"{{id: (sire, dam)}}; got {type(parents).__name__}."
        )
    if not rows:
        raise ValueError("parents= holds no animal.")
    ids = [normalize_id(r[0]) for r in rows]
    if any(i is None for i in ids):
        raise ValueError("parents= has a missing animal id.")
    check_duplicates(ids, "animal ids in parents=")
    return ids, [normalize_parent(r[1]) for r in rows], [normalize_parent(r[2]) for r in rows]


def _extended_pedigree(pedigree: Pedigree, ids: list, sires: list, dams: list) -> Pedigree:
    """The fitted pedigree with the new animals added, after checking that they are new and that
    each known parent is in the pedigree or among them."""
    known = set(pedigree.ids)
    again = [i for i in ids if i in known]
    if again:
        raise ValueError(
            f"Animals of parents= already in the fitted pedigree: {preview(again)}; their breeding values "
            "come from the fit (model.predict(idata, ids=...))."
        )
    new = set(ids)
    strangers = sorted({p for p in sires + dams if p is not None and p not in known and p not in new})
    if strangers:
        raise ValueError(
            f"Parents in parents= that are neither in the fitted pedigree nor new animals: {preview(strangers)} "
            "(write an unknown parent as None or NaN)."
        )
    frame = pedigree.to_dataframe()
    return Pedigree(
        list(frame["id"]) + ids,
        list(frame["sire"]) + sires,
        list(frame["dam"]) + dams,
    )


def extended_pedigree(term, ids: list, sires: list, dams: list) -> Pedigree:
    """The term's pedigree extended by the new animals (``Term.inheritance``)."""
    return _extended_pedigree(term.inheritance().pedigree, ids, sires, dams)


def parent_value_draws(term, idata, parents, seed=0, known=None):
    """The new animals' values per draw (module docstring), from a ``parents=`` table.

    Returns (ids, draws x animals x q array, the animal dim, the values' dims beyond it and their
    coordinates). ``known``: {id: draws x q} values of new animals known otherwise (genotyped ones),
    which are not drawn.
    """
    ids, sires, dams = new_animals(parents)
    extended = extended_pedigree(term, ids, sires, dams)
    return draw_from_parents(term, idata, extended, ids, sires, dams, np.random.default_rng(seed), known)


def draw_from_parents(term, idata, extended: Pedigree, ids, sires, dams, rng, known=None):
    """``parent_value_draws`` given the extended pedigree and the random generator."""
    inheritance = term.inheritance()
    mendelian = extended.mendelian_variances()
    values = effect_draws(idata, term, "animals", inheritance.values)
    level_dim, inner = values.dims[1], list(values.dims[2:])
    position = {normalize_id(v): k for k, v in enumerate(values[level_dim].values)}
    fitted = values.values.reshape(values.shape[0], values.shape[1], -1)  # draws x animals x q
    n_draws, q = fitted.shape[0], fitted.shape[2]
    factor = np.linalg.cholesky(covariance_draws(idata.posterior, inheritance.covariance, n_draws, q))
    drawn = dict(known or {})
    parent_of = dict(zip(ids, zip(sires, dams)))

    def value(animal):
        if animal is None:
            return 0.0
        if animal in drawn:
            return drawn[animal]
        return fitted[:, position[animal], :]

    for animal in extended.ids:  # parents precede their offspring
        if animal not in parent_of or animal in drawn:
            continue
        sire, dam = parent_of[animal]
        z = rng.standard_normal((n_draws, q))
        sampling = np.sqrt(mendelian[animal]) * np.einsum("sij,sj->si", factor, z)
        drawn[animal] = 0.5 * (value(sire) + value(dam)) + sampling
    out = np.stack([drawn[a] for a in ids], axis=1)
    coords = {d: list(values[d].values) for d in inner}
    return ids, out, level_dim, inner, coords
