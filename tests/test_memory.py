"""Marker models keep one int8 genotype matrix: the term shares it when records are in genotype order."""

import numpy as np
import pandas as pd

import bayesgen as bg


def _model(order):
    rng = np.random.default_rng(0)
    n, p = 40, 30
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    geno = bg.Genotypes.from_codes([f"i{i}" for i in range(n)], codes, [f"m{j}" for j in range(p)])
    ids = [geno.ids[i] for i in order]
    model = bg.BayesA(pd.DataFrame({"id": ids, "y": rng.standard_normal(len(ids))}), "y", "id", geno)
    term = next(t for t in model.terms if isinstance(t, bg.Markers))
    return geno, term


def test_records_in_genotype_order_share_the_matrix():
    geno, term = _model(range(40))
    assert term.codes is geno.codes


def test_other_record_orders_get_one_c_ordered_copy():
    order = [3, 1, 2, 2, 39]  # a subset, a repeat, another order
    geno, term = _model(order)
    assert term.codes.flags.c_contiguous and not np.shares_memory(term.codes, geno.codes)
    np.testing.assert_array_equal(term.codes, geno.codes[:, order])
