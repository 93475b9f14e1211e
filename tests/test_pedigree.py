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
    with pytest.raises(KeyError, match=r"not found in the pedigree: '7'"):
        ped.index([1, 7])


def test_gryphon_ainv_matches_dense_inverse(shared_data):
    ped = Pedigree.from_csv(shared_data / "gryphonped.csv", id="id", sire="father", dam="mother")
    assert len(ped) == 1309
    a = ped.relationship().loc[ped.ids, ped.ids].to_numpy()
    np.testing.assert_allclose(ped.ainv().toarray(), np.linalg.inv(a), atol=1e-8)
    np.testing.assert_allclose(ped.inbreeding().to_numpy(), np.diag(a) - 1, atol=1e-12)
