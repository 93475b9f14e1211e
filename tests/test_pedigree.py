import numpy as np
import pandas as pd
import pytest

from bayesgen import Pedigree

# Animals in scrambled order; 9 is selfed (7 x 7); 8 comes from a sire-daughter mating;
# 10 has only a known dam; "11" has a parent (12) without a row of its own.
IDS = [8, 5, 6, 7, 9, 3, 4, 10, 11]
SIRES = [1, 1, 1, 3, 7, 1, 0, None, 12]
DAMS = [7, 2, 2, 4, 7, 2, "NA", 5, ""]


def dense_a(ped):
    return ped.relationship().loc[ped.ids, ped.ids].to_numpy()


def test_ainv_equals_dense_inverse_with_inbreeding_selfing_and_unknown_parents():
    ped = Pedigree(IDS, SIRES, DAMS)
    a = dense_a(ped)
    np.testing.assert_allclose(ped.ainv().toarray(), np.linalg.inv(a), rtol=1e-12, atol=1e-12)
    assert ped.inbreeding().max() > 0.4  # the selfed animal


def test_inbreeding_matches_known_values_and_diagonal_of_a():
    ped = Pedigree(IDS, SIRES, DAMS)
    f = ped.inbreeding()
    np.testing.assert_allclose(f.to_numpy(), np.diag(dense_a(ped)) - 1.0, atol=1e-14)
    # Founders are not inbred; 9 = 7 selfed with F_7 = 0: F = 1/2;
    # 8 = 1 x 7 where 7 = 3 x 4 and 3 = 1 x 2: a_{1,7} = a_{1,3}/2 = 1/4, so F_8 = 1/8.
    assert f["1"] == 0 and f["2"] == 0 and f["12"] == 0
    assert f["9"] == pytest.approx(0.5)
    assert f["8"] == pytest.approx(0.125)


def test_parents_precede_offspring_and_parents_without_rows_become_founders():
    ped = Pedigree(IDS, SIRES, DAMS)
    position = {a: k for k, a in enumerate(ped.ids)}
    for k in range(len(ped)):
        for p in (ped.sire[k], ped.dam[k]):
            assert p < k
    assert {"1", "2", "12"} <= set(ped.ids)
    assert ped.sire[position["12"]] == -1 and ped.dam[position["12"]] == -1
    assert len(ped) == 12


@pytest.mark.parametrize("unknown", [np.nan, None, "", 0, "0", "NA"])
def test_unknown_parent_codes(unknown):
    ped = Pedigree(["a", "b", "c"], [unknown, unknown, "a"], [unknown, unknown, "b"])
    assert list(ped.sire) == [-1, -1, 0] and list(ped.dam) == [-1, -1, 1]


def test_row_order_does_not_change_relationships():
    ped = Pedigree(IDS, SIRES, DAMS)
    order = np.random.default_rng(0).permutation(len(IDS))
    shuffled = Pedigree([IDS[k] for k in order], [SIRES[k] for k in order], [DAMS[k] for k in order])
    a1 = ped.relationship()
    a2 = shuffled.relationship().loc[a1.index, a1.columns]
    np.testing.assert_allclose(a1.to_numpy(), a2.to_numpy())


def test_relationship_of_a_subset_uses_ancestors():
    ped = Pedigree(IDS, SIRES, DAMS)
    full = ped.relationship()
    sub = ped.relationship(["9", "8", 10])
    np.testing.assert_allclose(sub.to_numpy(), full.loc[["9", "8", "10"], ["9", "8", "10"]].to_numpy())
    assert sub.loc["9", "9"] == pytest.approx(1.5)


def test_integer_and_float_ids_match():
    ped = Pedigree([1.0, 2.0, 3.0], [np.nan, np.nan, 1.0], [np.nan, np.nan, 2])
    assert ped.ids == ["1", "2", "3"]
    assert list(ped.index([3, "1"])) == [2, 0]


def test_from_csv(tmp_path):
    path = tmp_path / "ped.csv"
    pd.DataFrame({"animal": ["x", "y", "z"], "father": ["NA", "NA", "x"], "mother": ["0", "", "y"]}).to_csv(
        path, index=False
    )
    ped = Pedigree.from_csv(path, id="animal", sire="father", dam="mother")
    assert ped.ids == ["x", "y", "z"] and ped.sire[2] == 0 and ped.dam[2] == 1


def test_error_duplicate_id():
    with pytest.raises(ValueError, match=r"Duplicate animal ids in the pedigree: '2'"):
        Pedigree([1, 2, 2], [0, 0, 0], [0, 0, 0])


def test_error_own_ancestor_names_the_loop():
    with pytest.raises(ValueError, match=r"own ancestors: '1', '2', '3'"):
        Pedigree([1, 2, 3, 4], [2, 3, 1, 0], [0, 0, 0, 0])


def test_error_own_parent():
    with pytest.raises(ValueError, match=r"their own parent: '5'"):
        Pedigree([5, 6], [5, 0], [0, 0])


def test_error_empty_pedigree():
    with pytest.raises(ValueError, match="empty"):
        Pedigree([], [], [])


def test_error_unknown_id_lookup():
    ped = Pedigree([1, 2], [0, 0], [0, 0])
    with pytest.raises(ValueError, match=r"not found in the pedigree: '7'"):
        ped.index([1, 7])


def test_gryphon_ainv_matches_dense_inverse(shared_data):
    ped = Pedigree.from_csv(shared_data / "gryphonped.csv", id="id", sire="father", dam="mother")
    assert len(ped) == 1309
    a = ped.relationship().loc[ped.ids, ped.ids].to_numpy()
    np.testing.assert_allclose(ped.ainv().toarray(), np.linalg.inv(a), atol=1e-8)
    np.testing.assert_allclose(ped.inbreeding().to_numpy(), np.diag(a) - 1, atol=1e-12)


@pytest.mark.parametrize("unknown", [-9, -9.0, "-9", np.int64(-9)])
def test_minus_nine_is_an_unknown_parent(unknown):
    ped = Pedigree([1, 2, 3], [unknown, unknown, 1], [unknown, unknown, 2])
    assert ped.ids == ["1", "2", "3"]
    assert list(ped.sire) == [-1, -1, 0] and list(ped.dam) == [-1, -1, 1]
    assert ped.inbreeding()["3"] == 0.0


@pytest.mark.parametrize("own_id", [0, "0", -9])
def test_warn_when_an_animal_id_is_also_an_unknown_parent_code(own_id):
    with pytest.warns(UserWarning, match=rf"Animal id\(s\) '{own_id}' .* unknown-parent code"):
        ped = Pedigree([own_id, 1], [0, 0], [0, 0])
    assert len(ped) == 2


@pytest.mark.parametrize("argument", ["ids", "sires", "dams"])
def test_error_a_str_is_not_a_sequence_of_ids(argument):
    args = {"ids": ["a", "b", "c"], "sires": [0, 0, "a"], "dams": [0, 0, "b"]}
    args[argument] = "abc"
    message = rf"Pedigree {argument} must be a one-dimensional sequence of ids.*got str 'abc'"
    with pytest.raises(TypeError, match=message):
        Pedigree(**args)


@pytest.mark.parametrize("argument", ["ids", "sires", "dams"])
def test_error_two_dimensional_ids(argument):
    args = {"ids": [1, 2], "sires": [0, 0], "dams": [0, 0]}
    args[argument] = np.array([[1, 2], [3, 4]]) if argument == "ids" else np.zeros((2, 2))
    message = rf"Pedigree {argument} must be one-dimensional, got an array of shape \(2, 2\)"
    with pytest.raises(ValueError, match=message):
        Pedigree(**args)


def test_error_nested_ids():
    with pytest.raises(ValueError, match=r"Pedigree ids must be one-dimensional: the entries at positions 1 are "):
        Pedigree([1, [2, 3]], [0, 0], [0, 0])


def test_error_none_says_which_type_was_expected():
    with pytest.raises(
        TypeError,
        match=r"Pedigree ids must be a one-dimensional sequence of ids "
        r"\(list, tuple, numpy array or pandas Series\), got None",
    ):
        Pedigree(None, None, None)
    with pytest.raises(TypeError, match=r"Pedigree dams must be a one-dimensional sequence of ids.*got int 5"):
        Pedigree([1], [0], 5)


def test_lookups_accept_int_or_str_ids():
    ped = Pedigree([1029, 1030, 7], [0, 0, 1029], [0, 0, 1030])
    assert list(ped.index([1029, "7", np.int64(1030), 7.0])) == list(ped.index(["1029", "7", "1030", "7"]))
    assert ped.relationship([1029, 7]).shape == (2, 2)
    with pytest.raises(TypeError, match=r"ids must be a one-dimensional sequence of ids.*got str"):
        ped.index("1029")


def test_labels_are_integers_when_every_id_is_an_integer():
    ped = Pedigree([1029, 1030, 7.0], [0, 0, 1029], [0, 0, "1030"])
    assert ped.labels.dtype == np.int64 and list(ped.labels) == [1029, 1030, 7]
    mixed = Pedigree(["a", 2], [0, 0], [0, 0])
    assert mixed.labels.dtype.kind == "U" and list(mixed.labels) == ["a", "2"]
