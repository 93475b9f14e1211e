import numpy as np
import pandas as pd
import pytest

from bayesgen import Genotypes
from bayesgen.data.genotypes import MISSING


def test_storage_is_int8_marker_major_with_missing_code():
    matrix = np.array([[0, 1, 2], [2, np.nan, 1], [1, 1, -9], [0, 2, 2]], dtype=float)
    g = Genotypes(["a", "b", "c", "d"], matrix, markers=["m1", "m2", "m3"])
    assert g.codes.dtype == np.int8 and g.codes.shape == (3, 4)
    assert g.codes[1, 1] == MISSING and g.codes[2, 2] == MISSING
    np.testing.assert_allclose(g.centre, [0.75, 4 / 3, 5 / 3])  # over non-missing genotypes
    table = g.centred_lookup()
    assert table[1, MISSING] == 0.0  # mean imputation
    assert table[0, 2] == pytest.approx(2 - 0.75)


def test_input_is_not_modified():
    frame = pd.DataFrame({"m1": [0, 1, np.nan], "m2": [2, 1, 0]})
    before = frame.copy()
    Genotypes([1, 2, 3], frame)
    pd.testing.assert_frame_equal(frame, before)


def test_monomorphic_markers_dropped_with_warning():
    with pytest.warns(UserWarning, match=r"Dropped 1 monomorphic marker\(s\): 'mono'"):
        g = Genotypes([1, 2, 3], np.array([[1, 0], [1, 2], [np.nan, 1]]), markers=["mono", "poly"])
    assert g.markers == ["poly"] and g.n_markers == 1


def test_invalid_codes_name_individual_and_marker():
    with pytest.raises(ValueError, match=r"found 1 invalid value\(s\).*b/m2=3\.0"):
        Genotypes(["a", "b"], np.array([[0, 1], [1, 3]]), markers=["m1", "m2"])
    with pytest.raises(ValueError, match=r"a/m1=0\.5"):
        Genotypes(["a", "b"], np.array([[0.5, 1], [1, 2]]), markers=["m1", "m2"])


def test_duplicate_ids_and_markers():
    with pytest.raises(ValueError, match=r"Duplicate individual ids in the genotypes: 'a'"):
        Genotypes(["a", "a"], np.array([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match=r"Duplicate marker names in the genotypes: 'm'"):
        Genotypes(["a", "b"], np.array([[0, 1], [1, 2]]), markers=["m", "m"])


def test_empty_and_mismatched_shapes():
    with pytest.raises(ValueError, match="empty"):
        Genotypes([], np.zeros((0, 3)))
    with pytest.raises(ValueError, match="Got 1 ids for a genotype matrix with 2 rows"):
        Genotypes(["a"], np.zeros((2, 3)))


def test_index_names_ids_without_genotypes():
    g = Genotypes(["a", "b"], np.array([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match=r"Ids without genotypes: 'z'"):
        g.index(["a", "z"])


def test_wheat_markers_load_compactly(shared_data):
    g = Genotypes.from_csv(shared_data / "wheat_X.csv.gz", column="line_id")
    assert g.n_individuals == 599 and g.codes.dtype == np.int8
    assert g.n_markers == 1279  # DArT 0/1 markers, all polymorphic


def test_monomorphic_markers_can_be_kept_for_prediction():
    g = Genotypes(["x"], np.array([[0, np.nan, 2]]), markers=["a", "b", "c"], drop_monomorphic=False)
    assert g.markers == ["a", "b", "c"] and g.centre[1] == 0.0


def test_error_text_codes_in_an_object_array_name_individual_marker_and_value():
    matrix = np.array([[0, 1], [1, "AB"]], dtype=object)
    with pytest.raises(ValueError, match=r"found 1 invalid value\(s\).*b/m2='AB'"):
        Genotypes(["a", "b"], matrix, markers=["m1", "m2"])
    with pytest.raises(ValueError, match=r"a/m1='AA'"):
        Genotypes(["a", "b"], np.array([["AA", "1"], ["1", "2"]]), markers=["m1", "m2"])


def test_error_text_codes_in_a_csv_cell(tmp_path):
    path = tmp_path / "geno.csv"
    path.write_text("id,m1,m2\na,0,1\nb,AB,2\nc,2,0\n")
    with pytest.raises(ValueError, match=r"b/m1='AB'"):
        Genotypes.from_csv(path, column="id")


def test_missing_codes_in_object_arrays_and_csv(tmp_path):
    matrix = np.array([[0, None, 2], [np.nan, "1", "-9"], [-9, 2.0, "NA"], [1, 0, 1]], dtype=object)
    g = Genotypes(["a", "b", "c", "d"], matrix, markers=["m1", "m2", "m3"])
    assert (g.codes == [[0, MISSING, MISSING, 1], [MISSING, 1, 2, 0], [2, MISSING, MISSING, 1]]).all()
    path = tmp_path / "geno.csv"
    path.write_text("id,m1,m2,m3\na,0,,2\nb,NA,1,-9\nc,-9,2,\nd,1,0,1\n")
    from_file = Genotypes.from_csv(path, column="id")
    np.testing.assert_array_equal(from_file.codes, g.codes)


def test_csv_ids_are_read_as_text(tmp_path):
    path = tmp_path / "geno.csv"
    path.write_text("id,m1\n007,0\n1029,2\n")
    g = Genotypes.from_csv(path, column="id")
    assert g.ids == ["007", "1029"]


def test_csv_keeps_monomorphic_markers_with_drop_monomorphic_false(tmp_path):
    """Issue 16 item 12: the README advises drop_monomorphic=False for individuals to predict;
    from_csv passed it to pandas.read_csv, which failed."""
    path = tmp_path / "new.csv"
    path.write_text("id,m1,m2\nx,0,1\ny,2,1\n")  # m2 is fixed among these two individuals
    kept = Genotypes.from_csv(path, column="id", drop_monomorphic=False)
    assert kept.markers == ["m1", "m2"] and kept.codes.tolist() == [[0, 2], [1, 1]]
    with pytest.warns(UserWarning, match=r"monomorphic marker.*'m2'"):
        assert Genotypes.from_csv(path, column="id").markers == ["m1"]


@pytest.mark.parametrize("argument", ["ids", "markers"])
def test_error_ids_and_markers_must_be_sequences(argument):
    args = {"ids": ["a", "b"], "matrix": np.array([[0, 1], [1, 2]]), "markers": ["x", "y"]}
    args[argument] = "ab"
    message = rf"Genotypes {argument} must be a one-dimensional sequence of ids.*got str 'ab'"
    with pytest.raises(TypeError, match=message):
        Genotypes(**args)


def test_lookups_and_labels_with_integer_ids():
    g = Genotypes([1029, 7], np.array([[0, 1], [1, 2]]), markers=[1, 2])
    assert list(g.index([7, "1029", np.int64(7)])) == [1, 0, 1]
    assert g.labels.dtype == np.int64 and list(g.labels) == [1029, 7]
    assert list(g.marker_labels) == ["1", "2"]  # marker names stay text
    text = Genotypes(["x", 7], np.array([[0, 1], [1, 2]]))
    assert list(text.labels) == ["x", "7"]
