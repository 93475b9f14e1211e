"""read_plink: PLINK round trip, selection while reading, QC counts, errors, memory."""

import logging
import tracemalloc

import numpy as np
import pytest
from bed_reader import to_bed

import bayesgen.data.plink as plink
from bayesgen.data import Genotypes, read_plink
from bayesgen.data.genotypes import MISSING

# 7 individuals (not a multiple of 4: the last byte of each marker is padded) x 6 markers;
# -127 is bed-reader's int8 missing value. m4 is monomorphic among the observed genotypes.
VALUES = np.array(
    [
        [0, 1, 2, -127, 2, 1],
        [1, 1, 0, 0, 2, 2],
        [2, -127, 1, 2, 2, 0],
        [0, 0, 1, 1, 2, 1],
        [-127, 2, 2, 0, -127, 1],
        [1, 1, 0, 1, 2, 0],
        [2, 0, 1, 2, 2, 2],
    ],
    dtype=np.int8,
)
IIDS = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
SIDS = ["m0", "m1", "m2", "m3", "m4", "m5"]
CHROM = ["1", "1", "2", "2", "X", "3"]
POS = [100, 250, 30, 4000, 5, 77]
ALLELE_1 = ["A", "C", "G", "T", "A", "C"]
ALLELE_2 = ["G", "T", "A", "C", "T", "G"]


def write_set(path, values=VALUES, iids=IIDS, sids=SIDS, **extra):
    properties = {"iid": iids, "sid": sids, "chromosome": CHROM[: len(sids)], "bp_position": POS[: len(sids)],
                  "allele_1": ALLELE_1[: len(sids)], "allele_2": ALLELE_2[: len(sids)]}  # fmt: skip
    properties.update(extra)
    to_bed(path, values, properties=properties)
    return path.with_suffix("")


def expected_codes(values):
    """Marker-major bayesgen codes of bed-reader int8 values (individuals x markers)."""
    return np.where(values == -127, MISSING, values).T.astype(np.int8)


@pytest.fixture
def prefix(tmp_path):
    return write_set(tmp_path / "small.bed")


def test_round_trip_codes_missing_and_marker_info(prefix, capsys):
    g = read_plink(prefix)
    polymorphic = [0, 1, 2, 3, 5]  # m4 is all 2 (or missing): dropped and reported
    assert g.ids == IIDS and g.markers == [SIDS[j] for j in polymorphic]
    assert g.codes.dtype == np.int8 and g.codes.flags.c_contiguous
    np.testing.assert_array_equal(g.codes, expected_codes(VALUES)[polymorphic])
    assert g.codes[0, 4] == MISSING and g.codes[1, 2] == MISSING and g.codes[3, 0] == MISSING
    # Same genotypes, same centres as the in-memory constructor (NaN = missing).
    matrix = np.where(VALUES == -127, np.nan, VALUES).astype(float)[:, polymorphic]
    reference = Genotypes(IIDS, matrix, markers=g.markers)
    np.testing.assert_array_equal(g.codes, reference.codes)
    np.testing.assert_allclose(g.centre, reference.centre, rtol=0, atol=1e-15)
    info = g.marker_info
    assert list(info.columns) == ["chrom", "pos", "allele1", "allele2"] and info.index.name == "marker"
    assert list(info.index) == g.markers
    assert info["chrom"].tolist() == [CHROM[j] for j in polymorphic]
    assert info["pos"].tolist() == [POS[j] for j in polymorphic]
    assert info["allele1"].tolist() == [ALLELE_1[j] for j in polymorphic]
    assert info["allele2"].tolist() == [ALLELE_2[j] for j in polymorphic]
    assert g.qc_report["removed_monomorphic"] == 1 and g.qc_report["removed_markers"]["monomorphic"] == ["m4"]
    assert "removed 1 monomorphic markers" in capsys.readouterr().out


def test_prefix_may_name_the_bed_file(prefix):
    a = read_plink(prefix, report=False, markers=["m0", "m1"])
    b = read_plink(str(prefix) + ".bed", report=False, markers=["m0", "m1"])
    np.testing.assert_array_equal(a.codes, b.codes)


def test_integer_iids_give_integer_labels(tmp_path):
    prefix = write_set(tmp_path / "num.bed", iids=["11", "12", "13", "14", "15", "16", "17"])
    g = read_plink(prefix, report=False, markers=["m0"])
    assert g.labels.dtype == np.int64 and g.index([12, "13"]).tolist() == [1, 2]


def test_selection_while_reading_keeps_the_given_order(prefix):
    ids, markers = ["a6", "a1", "a3", "a7"], ["m5", "m0", "m2"]
    g = read_plink(prefix, ids=ids, markers=markers, report=False)
    assert g.ids == ids and g.markers == markers
    rows = [IIDS.index(i) for i in ids]
    cols = [SIDS.index(m) for m in markers]
    np.testing.assert_array_equal(g.codes, expected_codes(VALUES[np.ix_(rows, cols)]))
    assert g.marker_info["pos"].tolist() == [POS[j] for j in cols]
    # Reading a subset = reading all, then select() (centres recomputed on the subset).
    whole = read_plink(prefix)
    subset = whole.select(ids=ids, markers=markers)
    np.testing.assert_array_equal(g.codes, subset.codes)
    np.testing.assert_allclose(g.centre, subset.centre, rtol=0, atol=1e-15)
    assert g.marker_info.equals(subset.marker_info)


def qc_values():
    """10 individuals; per marker: (genotypes, rule that removes it at call_rate=0.8, maf=0.1)."""
    columns = {
        "good1": ([0, 1, 2, 1, 0, 2, 1, 1, 0, 2], None),
        "low_call": ([0, 1, 2, -127, -127, -127, 1, 1, 0, 2], "call_rate"),  # call rate 0.7
        "low_maf": ([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "maf"),  # MAF 0.05
        "both": ([0, 0, 0, -127, -127, -127, 0, 0, 0, 1], "call_rate"),  # first rule wins
        "mono": ([2, 2, 2, 2, 2, -127, 2, 2, 2, 2], "maf"),  # MAF 0: removed by the MAF rule
        "good2": ([1, 1, 1, 0, 1, 1, 2, -127, 1, 1], None),  # call rate 0.9 passes 0.8
        "edge_maf": ([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], None),  # MAF exactly 0.1 passes
    }
    sids = list(columns)
    values = np.array([columns[s][0] for s in sids], dtype=np.int8).T
    return values, sids, {s: rule for s, (_, rule) in columns.items()}


def write_qc_set(tmp_path):
    values, sids, rules = qc_values()
    p = len(sids)
    prefix = write_set(tmp_path / "qc.bed", values, [f"i{k}" for k in range(10)], sids, chromosome=["1"] * p,
                       bp_position=list(range(p)), allele_1=["A"] * p, allele_2=["C"] * p)  # fmt: skip
    return prefix, sids, rules


def test_qc_counts_each_marker_once_under_the_first_rule(tmp_path, capsys, caplog):
    prefix, sids, rules = write_qc_set(tmp_path)
    with caplog.at_level(logging.INFO, logger="bayesgen.data.plink"):
        g = read_plink(prefix, maf=0.1, call_rate=0.8)
    assert g.markers == [s for s in sids if rules[s] is None]
    report = g.qc_report
    assert (report["removed_call_rate"], report["removed_maf"], report["removed_monomorphic"]) == (2, 2, 0)
    assert report["removed_markers"] == {
        "call_rate": ["low_call", "both"], "maf": ["low_maf", "mono"], "monomorphic": []
    }  # fmt: skip
    assert report["markers_read"] == 7 and report["markers_kept"] == 3 and report["individuals"] == 10
    out = capsys.readouterr().out
    assert "removed 2 markers with call rate < 0.8" in out
    assert "removed 2 markers with minor allele frequency < 0.1" in out
    assert "removed 0 monomorphic markers" in out and "kept 3 markers" in out
    assert "removed 2 markers with call rate < 0.8" in caplog.text
    # Without thresholds the monomorphic marker is still removed, under its own rule.
    with pytest.warns(UserWarning, match=r"Dropped 1 monomorphic marker\(s\): 'mono'"):
        g = read_plink(prefix, report=False)
    assert capsys.readouterr().out == ""
    assert g.qc_report["removed_monomorphic"] == 1 and g.qc_report["removed_maf"] == 0
    assert g.n_markers == 6


def test_qc_is_computed_over_the_selected_individuals(tmp_path):
    prefix, _, _ = write_qc_set(tmp_path)
    # Without i3, i4, i5 and i7 every marker is fully called.
    g = read_plink(prefix, ids=["i0", "i1", "i2", "i6", "i8", "i9"], call_rate=1.0)
    assert g.qc_report["removed_call_rate"] == 0 and "low_call" in g.markers and "good2" in g.markers
    g = read_plink(prefix, ids=["i0", "i1", "i2", "i6", "i7", "i8", "i9"], call_rate=1.0)
    assert g.qc_report["removed_markers"]["call_rate"] == ["good2"]


# --- errors: one test per message -------------------------------------------------------


def test_error_missing_files_are_named(prefix):
    prefix.with_suffix(".bim").unlink()
    with pytest.raises(FileNotFoundError, match=r"PLINK file\(s\) not found: .*small\.bim \(read_plink"):
        read_plink(prefix)
    with pytest.raises(FileNotFoundError, match=r"not found: .*nothing\.bed, .*nothing\.bim, .*nothing\.fam"):
        read_plink(prefix.parent / "nothing")


def test_error_prefix_not_a_path():
    with pytest.raises(TypeError, match="prefix must be a path"):
        read_plink(3)


def test_error_bed_size_does_not_match_fam_and_bim(prefix, tmp_path):
    fam = prefix.with_suffix(".fam")
    fam.write_text(fam.read_text() + "0 a8 0 0 0 0\n")  # 8 individuals: still 2 bytes per marker
    fam.write_text(fam.read_text() + "0 a9 0 0 0 0\n")  # 9 individuals: 3 bytes per marker
    with pytest.raises(ValueError, match=r"small\.bed has 15 bytes, but small\.fam lists 9 individuals and "
                                         r"small\.bim lists 6 markers, which need .* = 21 bytes"):  # fmt: skip
        read_plink(prefix)


def test_error_not_a_bed_file(prefix):
    bed = prefix.with_suffix(".bed")
    bed.write_bytes(b"xyz" + bed.read_bytes()[3:])
    with pytest.raises(ValueError, match=r"small\.bed is not a PLINK 1 binary \.bed file in SNP-major mode.*78 79 7a"):
        read_plink(prefix)


def test_error_malformed_bim_names_the_file(prefix):
    bim = prefix.with_suffix(".bim")
    lines = bim.read_text().splitlines()
    lines[1] = "\t".join(lines[1].split("\t")[:5])
    bim.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"Could not read .*small\.bim"):
        read_plink(prefix)


def test_error_duplicate_iids_in_fam(prefix):
    fam = prefix.with_suffix(".fam")
    fam.write_text(fam.read_text().replace(" a2 ", " a1 "))
    with pytest.raises(ValueError, match=r"Duplicate individual ids \(IID\) in small\.fam: 'a1'"):
        read_plink(prefix)


def test_error_duplicate_marker_ids_in_bim(prefix):
    bim = prefix.with_suffix(".bim")
    bim.write_text(bim.read_text().replace("\tm3\t", "\tm1\t"))
    with pytest.raises(ValueError, match=r"Duplicate marker ids in small\.bim: 'm1'"):
        read_plink(prefix)


def test_error_ids_not_in_fam(prefix):
    with pytest.raises(ValueError, match=r"Ids not in small\.fam: 'zz', 'yy'"):
        read_plink(prefix, ids=["a1", "zz", "yy"])


def test_error_markers_not_in_bim(prefix):
    with pytest.raises(ValueError, match=r"Markers not in small\.bim: 'rs9'"):
        read_plink(prefix, markers=["m0", "rs9"])


def test_error_duplicate_requested_ids(prefix):
    with pytest.raises(ValueError, match=r"Duplicate ids requested from read_plink: 'a1'"):
        read_plink(prefix, ids=["a1", "a2", "a1"])


def test_error_empty_selection(prefix):
    with pytest.raises(ValueError, match=r"Nothing to read from small\.bed: 0 individuals x 6 markers"):
        read_plink(prefix, ids=[])


@pytest.mark.parametrize("argument, value, error, message", [
    ("maf", 0.6, ValueError, r"maf must be in \[0, 0\.5\], got 0\.6"),
    ("maf", "0.1", TypeError, r"maf must be a number in \[0, 0\.5\] or None, got '0\.1'"),
    ("call_rate", -0.1, ValueError, r"call_rate must be in \[0, 1\], got -0\.1"),
    ("call_rate", True, TypeError, r"call_rate must be a number in \[0, 1\] or None, got True"),
])  # fmt: skip
def test_error_thresholds(prefix, argument, value, error, message):
    with pytest.raises(error, match=message):
        read_plink(prefix, **{argument: value})


def test_error_no_marker_left(tmp_path):
    prefix, _, _ = write_qc_set(tmp_path)
    with pytest.raises(ValueError, match=r"No marker of qc\.bed is left after quality control: "
                                         r"removed 2 markers with call rate < 0\.8; removed 1 markers"):  # fmt: skip
        read_plink(prefix, markers=["low_call", "both", "mono"], call_rate=0.8, maf=0.4, report=False)


# --- memory ----------------------------------------------------------------------------


def write_random_bed(prefix, n, p, seed, monomorphic):
    """A SNP-major .bed of random bytes (every 2-bit value is a valid genotype or missing;
    n % 4 == 0 so there are no padding bits); the first ``monomorphic`` markers are all
    homozygous (byte 0x00), so QC removes them. Fast enough for a quick test."""
    assert n % 4 == 0
    rng = np.random.default_rng(seed)
    body = rng.integers(0, 256, size=(p, n // 4), dtype=np.uint8)
    body[:monomorphic] = 0
    prefix.with_suffix(".bed").write_bytes(plink.BED_MAGIC + body.tobytes())
    prefix.with_suffix(".fam").write_text("".join(f"f i{k} 0 0 0 -9\n" for k in range(n)))
    prefix.with_suffix(".bim").write_text("".join(f"{1 + j // 5000}\trs{j}\t0\t{j * 100}\tA\tC\n" for j in range(p)))


def test_reading_allocates_the_int8_matrix_once(tmp_path):
    n, p, dropped = 2000, 20000, 100
    prefix = tmp_path / "big"
    write_random_bed(prefix, n, p, seed=3, monomorphic=dropped)
    read_plink(prefix, report=False, markers=["rs150", "rs200"])  # compile the kernels first
    tracemalloc.start()
    try:
        g = read_plink(prefix, report=False, maf=0.01)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert g.n_markers == p - dropped and g.qc_report["removed_maf"] == dropped
    matrix_bytes = n * p  # int8 as read, before QC
    allowance = 500 * (n + p)  # names, marker_info, bed-reader's .bim/.fam arrays: O(n + p)
    assert peak < 1.3 * matrix_bytes + allowance, f"peak {peak / matrix_bytes:.3f}x the int8 matrix"
    # About 25% of random 2-bit codes are PLINK's missing value.
    assert abs((g.codes == MISSING).mean() - 0.25) < 0.01


def test_error_fam_missing_a_line_is_caught_by_the_padding_bits(tmp_path):
    """Issue 16 item 1: 8 individuals written, the .fam's first line dropped. Each marker still
    takes ceil(7/4) = 2 bytes, so the size check passes; the 8th genotype then sits in the
    padding bits, which a well-formed .bed leaves at zero."""
    rng = np.random.default_rng(16)
    values = rng.integers(0, 3, size=(8, 5)).astype(np.int8)
    values[7] = 0  # no copy of allele1 in the last individual: PLINK code 11, nonzero padding in every marker
    prefix = write_set(tmp_path / "short.bed", values, [f"i{k}" for k in range(8)], SIDS[:5])
    fam = prefix.with_suffix(".fam")
    fam.write_text("".join(fam.read_text().splitlines(keepends=True)[1:]))
    with pytest.raises(ValueError, match=r"short\.fam lists 7 individuals, but short\.bed holds genotypes for "
                                         r"more: the padding bits after the 7th individual are not zero in 5 of "
                                         r"the 5 markers read \(first: 'm0'\)"):  # fmt: skip
        read_plink(prefix, report=False)


def _malformed(prefix, case):
    """Damage a valid file set in one way; returns read_plink's keyword arguments."""
    bed, bim, fam = (prefix.with_suffix(ext) for ext in (".bed", ".bim", ".fam"))
    if case == "magic":
        bed.write_bytes(b"xyz" + bed.read_bytes()[3:])
    elif case == "size":
        fam.write_text(fam.read_text() + "0 a8 0 0 0 0\n0 a9 0 0 0 0\n")
    elif case == "padding":
        fam.write_text("".join(fam.read_text().splitlines(keepends=True)[1:]))
    elif case == "bim_columns":
        bim.write_text("".join("\t".join(line.split("\t")[:5]) + "\n" for line in bim.read_text().splitlines()))
    elif case == "fam_binary":
        fam.write_bytes(b"\xff\xfe\x00garbage\n" * 7)
    elif case == "duplicate_iid":
        fam.write_text(fam.read_text().replace(" a2 ", " a1 "))
    return {"ids": ["zz"]} if case == "unknown_id" else {"maf": 0.6} if case == "maf" else {}


@pytest.mark.parametrize(
    "case", ["magic", "size", "padding", "bim_columns", "fam_binary", "duplicate_iid", "unknown_id", "maf"]
)
def test_error_paths_leave_no_file_open(tmp_path, case):
    """Issue 16 item 13: read_plink's errors must not leak open files (ResourceWarning)."""
    import gc
    import warnings

    prefix = write_set(tmp_path / "small.bed", np.ascontiguousarray(VALUES[:, :5]), IIDS, SIDS[:5])
    if case == "padding":  # 8 individuals written, so that a missing .fam line hides in the padding
        values = np.vstack([VALUES[:, :5], np.zeros((1, 5), dtype=np.int8)])
        prefix = write_set(tmp_path / "small.bed", values, IIDS + ["a8"], SIDS[:5])
    kwargs = _malformed(prefix, case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises((ValueError, KeyError)):
            read_plink(prefix, report=False, **kwargs)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
