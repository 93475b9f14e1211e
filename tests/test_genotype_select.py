"""Genotypes.select, Genotypes.from_codes and marker_info."""

import numpy as np
import pandas as pd
import pytest

from bayesgen import Genotypes
from bayesgen.data.genotypes import MISSING

MATRIX = np.array(
    [
        [0, 1, 2, 1],
        [2, np.nan, 1, 1],
        [1, 1, -9, 1],
        [0, 2, 2, 0],
        [2, 0, 1, 1],
    ],
    dtype=float,
)
IDS = ["a", "b", "c", "d", "e"]
MARKERS = ["m1", "m2", "m3", "m4"]
INFO = pd.DataFrame({"chrom": ["1", "1", "2", "2"], "pos": [10, 20, 5, 7]}, index=MARKERS)


@pytest.fixture
def geno():
    return Genotypes(IDS, MATRIX, markers=MARKERS, marker_info=INFO)


def test_select_takes_ids_and_markers_in_the_order_given(geno):
    sub = geno.select(ids=["d", "a", "e"], markers=["m3", "m1"])
    assert sub.ids == ["d", "a", "e"] and sub.markers == ["m3", "m1"]
    rows, cols = [3, 0, 4], [2, 0]
    reference = Genotypes(["d", "a", "e"], MATRIX[np.ix_(rows, cols)], markers=["m3", "m1"])
    np.testing.assert_array_equal(sub.codes, reference.codes)
    assert sub.codes.flags.c_contiguous and not np.shares_memory(sub.codes, geno.codes)
    # Default: centres recomputed over the selected individuals, as a fresh Genotypes.
    np.testing.assert_array_equal(sub.centre, reference.centre)
    assert sub.marker_info["pos"].tolist() == [5, 10] and list(sub.marker_info.index) == ["m3", "m1"]
    assert sub.qc_report is None


def test_select_keep_centre_keeps_the_parent_frequencies(geno):
    sub = geno.select(ids=["a", "b"], markers=["m4", "m2"], keep_centre=True)
    np.testing.assert_array_equal(sub.centre, geno.centre[[3, 1]])
    recomputed = geno.select(ids=["a", "b"], markers=["m4", "m2"])
    np.testing.assert_allclose(recomputed.centre, [1.0, 1.0])  # m4: (1 + 1)/2; m2: b missing -> 1
    assert not np.allclose(sub.centre, recomputed.centre)


def test_select_keeps_monomorphic_markers_unless_asked(geno):
    sub = geno.select(ids=["a", "e"])  # m4 is 1 and 1: monomorphic in the subset
    assert sub.markers == MARKERS
    with pytest.warns(UserWarning, match=r"Dropped 1 monomorphic marker\(s\): 'm4'"):
        dropped = geno.select(ids=["a", "e"], drop_monomorphic=True, keep_centre=True)
    assert dropped.markers == ["m1", "m2", "m3"]
    np.testing.assert_array_equal(dropped.centre, geno.centre[:3])
    assert list(dropped.marker_info.index) == ["m1", "m2", "m3"]


def test_select_nothing_is_a_copy(geno):
    same = geno.select()
    np.testing.assert_array_equal(same.codes, geno.codes)
    np.testing.assert_array_equal(same.centre, geno.centre)
    assert not np.shares_memory(same.codes, geno.codes) and same.ids == geno.ids


def test_select_integer_ids_and_lookups():
    g = Genotypes([10, 20, 30], MATRIX[[0, 3, 4]], markers=MARKERS)
    sub = g.select(ids=[30, "10"])
    assert sub.labels.tolist() == [30, 10]


def test_error_select_unknown_ids(geno):
    with pytest.raises(ValueError, match=r"Ids without genotypes: 'zz'"):
        geno.select(ids=["a", "zz"])


def test_error_select_unknown_markers(geno):
    with pytest.raises(ValueError, match=r"Markers not in the genotypes: 'm9'"):
        geno.select(markers=["m1", "m9"])


def test_error_select_duplicates(geno):
    with pytest.raises(ValueError, match=r"Duplicate ids in select\(ids=...\): 'a'"):
        geno.select(ids=["a", "a"])
    with pytest.raises(ValueError, match=r"Duplicate markers in select\(markers=...\): 'm1'"):
        geno.select(markers=["m1", "m1"])


def test_error_select_empty(geno):
    with pytest.raises(ValueError, match=r"select\(\) needs at least one id and one marker, got 0 and 4"):
        geno.select(ids=[])


def test_from_codes_does_not_copy_and_matches_the_constructor(geno):
    codes = geno.codes.copy()
    before = codes.copy()
    g = Genotypes.from_codes(IDS, codes, MARKERS, marker_info=INFO)
    assert g.codes is codes
    np.testing.assert_array_equal(codes, before)
    np.testing.assert_array_equal(g.centre, geno.centre)
    assert g.marker_info.equals(geno.marker_info)
    fortran = np.asfortranarray(codes)  # other layouts are copied once, to C order
    assert Genotypes.from_codes(IDS, fortran, MARKERS).codes.flags.c_contiguous


def test_from_codes_drops_monomorphic_markers():
    codes = np.array([[0, 1, 2], [1, 1, MISSING]], dtype=np.int8)
    with pytest.warns(UserWarning, match=r"Dropped 1 monomorphic marker\(s\): 'y'"):
        g = Genotypes.from_codes(["a", "b", "c"], codes, ["x", "y"])
    assert g.markers == ["x"]
    kept = Genotypes.from_codes(["a", "b", "c"], codes, ["x", "y"], drop_monomorphic=False)
    np.testing.assert_array_equal(kept.centre, [1.0, 1.0])


def test_error_from_codes_invalid_values_name_individual_and_marker():
    codes = np.array([[0, 1, 2], [1, -127, 4]], dtype=np.int8)
    with pytest.raises(ValueError, match=r"found 2 invalid value\(s\) \(individual/marker=value\): b/y=-127, c/y=4"):
        Genotypes.from_codes(["a", "b", "c"], codes, ["x", "y"])


def test_error_from_codes_dtype_and_shape():
    with pytest.raises(TypeError, match=r"codes must be a numpy int8 array .* got dtype int64"):
        Genotypes.from_codes(["a"], np.zeros((2, 1), dtype=np.int64), ["x", "y"])
    with pytest.raises(ValueError, match=r"codes must be 2-dimensional \(markers x individuals\), got shape \(3,\)"):
        Genotypes.from_codes(["a"], np.zeros(3, dtype=np.int8), ["x"])
    with pytest.raises(ValueError, match=r"Got 2 ids for a genotype matrix with 1 columns of codes"):
        Genotypes.from_codes(["a", "b"], np.zeros((2, 1), dtype=np.int8), ["x", "y"])


def test_error_marker_info_without_a_row_for_a_marker():
    with pytest.raises(ValueError, match=r"Markers without a row in marker_info: 'm4'"):
        Genotypes(IDS, MATRIX, markers=MARKERS, marker_info=INFO.iloc[:3])
    with pytest.raises(TypeError, match=r"marker_info must be a pandas DataFrame indexed by marker, got dict"):
        Genotypes(IDS, MATRIX, markers=MARKERS, marker_info={"chrom": [1]})


def test_marker_info_is_aligned_and_not_modified():
    shuffled = INFO.iloc[[3, 1, 0, 2]]
    before = shuffled.copy()
    g = Genotypes(IDS, MATRIX, markers=MARKERS, marker_info=shuffled)
    assert list(g.marker_info.index) == MARKERS and g.marker_info.index.name == "marker"
    pd.testing.assert_frame_equal(shuffled, before)
