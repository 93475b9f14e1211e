"""Packed genotypes (2 bits each, PLINK .bed layout): storage, reading, and the same draws as int8.

Every sweep reads packed codes through one decoder that gives the same int8 codes, so a model on
packed genotypes must give the draws of the same model on int8 genotypes bit for bit, for every
marker prior and sweep route; the kernels' own oracle tests run on packed codes too
(``tests/packed_codes.py``).
"""

import numpy as np
import pandas as pd
import pytest

import bayesgen as bg
from bayesgen.data._genotype_kernels import BYTE_TO_CODES, PLINK_TO_CODE, n_records


def _matrix(rng, n, p, missing=0.08):
    matrix = rng.integers(0, 3, (n, p)).astype(float)
    matrix[rng.random((n, p)) < missing] = np.nan
    return matrix


@pytest.fixture(scope="module")
def population():
    """70 genotyped individuals (not a multiple of 4), 30 markers with missing genotypes; 90
    records of 60 of them (some repeated, some without a phenotype), one trait and two."""
    rng = np.random.default_rng(21)
    n, p = 70, 30
    matrix = _matrix(rng, n, p)
    ids = [f"i{k}" for k in range(n)]
    genotypes = bg.Genotypes(ids, matrix)
    x = np.nan_to_num(matrix - np.nanmean(matrix, axis=0))
    effects = rng.normal(0, 0.3, (p, 2)) * (rng.random((p, 1)) < 0.4)
    record_ids = rng.choice(ids[:60], 90)
    position = {a: k for k, a in enumerate(ids)}
    y = x[[position[a] for a in record_ids]] @ effects + rng.normal(0, 1, (90, 2))
    y[rng.random(90) < 0.1, 0] = np.nan
    data = pd.DataFrame({"id": record_ids, "y": y[:, 0], "y2": y[:, 1]})
    return data, genotypes


def test_pack_holds_the_same_codes_in_a_quarter_of_the_bytes(population):
    _, genotypes = population
    packed = genotypes.pack()
    assert packed.packed and not genotypes.packed
    assert packed.packed_codes.dtype == np.uint8 and packed.packed_codes.shape == (30, 18)
    assert genotypes.nbytes == 30 * 70 and packed.nbytes == 30 * 18
    np.testing.assert_array_equal(packed.codes, genotypes.codes)
    np.testing.assert_array_equal(packed.unpack().codes, genotypes.codes)
    np.testing.assert_array_equal(packed.marker_codes([4, 0]), genotypes.codes[[4, 0]])
    assert packed.ids == genotypes.ids and packed.markers == genotypes.markers
    np.testing.assert_array_equal(packed.centre, genotypes.centre)
    assert packed.pack() is packed and genotypes.unpack() is genotypes
    assert "packed 2 bits" in repr(packed) and "int8" in repr(genotypes)
    assert genotypes.packed_codes is None


def test_the_decoding_table_is_plink_s_meaning():
    # 00 homozygous allele1 (2 copies), 01 missing (3), 10 heterozygous (1), 11 homozygous allele2 (0)
    np.testing.assert_array_equal(PLINK_TO_CODE, [2, 3, 1, 0])
    np.testing.assert_array_equal(BYTE_TO_CODES[0b11100100], [2, 3, 1, 0])  # individuals in the low bits first
    np.testing.assert_array_equal(BYTE_TO_CODES[0], [2, 2, 2, 2])


def test_select_on_packed_genotypes_gives_packed_genotypes_with_the_same_codes(population):
    _, genotypes = population
    packed = genotypes.pack()
    ids, markers = ["i9", "i2", "i69", "i30", "i31"], ["m7", "m3", "m29"]
    for kwargs in ({"ids": ids}, {"markers": markers}, {"ids": ids, "markers": markers}, {}):
        a, b = genotypes.select(**kwargs), packed.select(**kwargs)
        assert b.packed
        np.testing.assert_array_equal(a.codes, b.codes)
        np.testing.assert_array_equal(a.centre, b.centre)
        assert a.ids == b.ids and a.markers == b.markers


def test_grm_and_predictions_on_packed_genotypes_equal_int8(population):
    data, genotypes = population
    packed = genotypes.pack()
    pd.testing.assert_frame_equal(bg.grm(genotypes), bg.grm(packed))
    pd.testing.assert_frame_equal(bg.grm(genotypes, ids=["i5", "i1", "i66"]), bg.grm(packed, ids=["i5", "i1", "i66"]))
    model = bg.BayesA(data, "y", "id", genotypes)
    idata = model.sample(draws=10, burn=0, chains=1, seed=3, progress=False)
    a = model.predict(idata, genotypes=genotypes)
    b = model.predict(idata, genotypes=packed)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)


def _draws(model):
    idata = model.sample(draws=15, burn=5, chains=1, seed=8, progress=False)
    return {name: idata.posterior[name].values for name in idata.posterior.data_vars}


MODELS = {
    "BayesA": lambda d, g: bg.BayesA(d, "y", "id", g),
    "BayesB": lambda d, g: bg.BayesB(d, "y", "id", g),
    "BayesC": lambda d, g: bg.BayesC(d, "y", "id", g, pi=0.3),
    "BayesCPi": lambda d, g: bg.BayesCPi(d, "y", "id", g),
    "BRR": lambda d, g: bg.BRR(d, "y", "id", g),
    "BayesLasso": lambda d, g: bg.BayesLasso(d, "y", "id", g),
    "BayesR": lambda d, g: bg.BayesR(d, "y", "id", g),
    "blocked-BayesA": lambda d, g: bg.Model(d, "y", [bg.Fixed(), bg.Markers("id", g, block_size=7)]),
    "bivariate-BRR": lambda d, g: bg.BRR(d, ["y", "y2"], "id", g),
    "bivariate-BayesC": lambda d, g: bg.Model(
        d, ["y", "y2"], [bg.Fixed(), bg.Markers("id", g, prior=bg.BayesCPrior())]
    ),
}


@pytest.mark.parametrize("make", list(MODELS.values()), ids=list(MODELS))
def test_every_marker_prior_draws_the_same_on_packed_and_int8_genotypes(population, make):
    """Same seed, same draws, bit for bit: the packed sweeps decode to the same codes."""
    data, genotypes = population
    int8 = _draws(make(data, genotypes))
    packed = _draws(make(data, genotypes.pack()))
    assert int8.keys() == packed.keys()
    for name, values in int8.items():
        np.testing.assert_array_equal(packed[name], values, err_msg=name)
    assert np.any(int8["alpha"] != 0.0)


def test_packed_genotypes_and_models_survive_pickling(population):
    """What travels to Dask workers and into processes: the packed codes and everything else."""
    import pickle

    data, genotypes = population
    packed = genotypes.pack()
    back = pickle.loads(pickle.dumps(packed))
    assert back.packed and back.nbytes == packed.nbytes
    np.testing.assert_array_equal(back.codes, genotypes.codes)
    model = pickle.loads(pickle.dumps(bg.BayesA(data, "y", "id", packed)))
    draws = model.sample(draws=5, burn=0, chains=1, seed=4, progress=False).posterior["alpha"].values
    same = bg.BayesA(data, "y", "id", genotypes).sample(draws=5, burn=0, chains=1, seed=4, progress=False)
    np.testing.assert_array_equal(draws, same.posterior["alpha"].values)


def test_records_in_genotype_order_share_the_packed_codes(population):
    _, genotypes = population
    packed = genotypes.pack()
    data = pd.DataFrame({"id": genotypes.ids, "y": np.random.default_rng(0).normal(size=70)})
    model = bg.BayesA(data, "y", "id", packed)
    term = next(t for t in model.terms if isinstance(t, bg.Markers))
    assert term.codes is packed.packed_codes  # no copy at all
    other = bg.BayesA(data.iloc[::-1], "y", "id", packed)
    term = next(t for t in other.terms if isinstance(t, bg.Markers))
    assert term.codes.dtype == np.uint8 and term.codes.shape == (30, 18)  # re-packed, never int8
    np.testing.assert_array_equal(
        bg.Genotypes.from_codes(
            genotypes.ids[::-1], genotypes.codes[:, ::-1], genotypes.markers, drop_monomorphic=False
        )
        .pack()
        .packed_codes,
        term.codes,
    )


def test_a_packed_kernel_call_without_the_record_count_is_an_error(population):
    _, genotypes = population
    with pytest.raises(ValueError, match="number of individuals"):
        n_records(genotypes.pack().packed_codes, -1)


# ----------------------------------------------------------------------------- read_plink(packed=True)


@pytest.fixture(scope="module")
def plink_set(tmp_path_factory):
    """A PLINK set of 23 individuals (padding in the last byte) x 40 markers, one monomorphic,
    with missing genotypes, written by bed-reader."""
    from bed_reader import to_bed

    rng = np.random.default_rng(2)
    n, p = 23, 40
    matrix = _matrix(rng, n, p, missing=0.1)
    matrix[:, 5] = 1.0
    matrix[rng.random(n) < 0.5, 11] = np.nan  # a low call rate
    prefix = tmp_path_factory.mktemp("plink") / "set"
    to_bed(
        str(prefix) + ".bed",
        matrix.astype(np.float32),
        properties={"iid": [f"i{k}" for k in range(n)], "sid": [f"s{k}" for k in range(p)]},
    )
    return str(prefix)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"ids": ["i3", "i1", "i7", "i22", "i9", "i0"], "maf": 0.1},
        {"markers": ["s3", "s1", "s9", "s11", "s5"], "call_rate": 0.8},
    ],
    ids=["all", "ids-and-maf", "markers-and-call-rate"],
)
def test_read_plink_packed_reads_the_genotypes_int8_reading_gives(plink_set, kwargs):
    with pytest.warns(UserWarning, match="monomorphic"):
        int8 = bg.read_plink(plink_set, report=False, **kwargs)
    with pytest.warns(UserWarning, match="monomorphic"):
        packed = bg.read_plink(plink_set, report=False, packed=True, **kwargs)
    assert packed.packed and not int8.packed
    np.testing.assert_array_equal(packed.codes, int8.codes)
    np.testing.assert_array_equal(packed.centre, int8.centre)
    assert packed.ids == int8.ids and packed.markers == int8.markers
    assert packed.qc_report == int8.qc_report
    pd.testing.assert_frame_equal(packed.marker_info, int8.marker_info)
    assert packed.nbytes == packed.n_markers * ((packed.n_individuals + 3) // 4)
    np.testing.assert_array_equal(packed.packed_codes, int8.pack().packed_codes)


def test_read_plink_packed_copies_the_bed_bytes_as_they_are(plink_set):
    packed = bg.read_plink(plink_set, report=False, markers=["s0", "s1", "s2"], packed=True)
    with open(plink_set + ".bed", "rb") as handle:
        body = np.frombuffer(handle.read(), dtype=np.uint8, offset=3).reshape(40, 6)
    np.testing.assert_array_equal(packed.packed_codes, body[:3])


def test_read_plink_packed_must_be_a_bool(plink_set):
    with pytest.raises(TypeError, match="packed must be True or False"):
        bg.read_plink(plink_set, packed="yes")


# ----------------------------------------------------------------------------- joint-distribution test


@pytest.mark.statistical
@pytest.mark.parametrize("prior", ["BayesCpi", "BayesR"])
def test_geweke_on_packed_genotypes(prior):
    """The Geweke harness (tests/geweke.py) on a model whose genotypes are packed: the spike-and-slab
    sweep with pi's update (BayesCpi) and the mixture sweep (BayesR), with 2 phenotypes missing."""
    from geweke import geweke_test

    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.copy()
    data.loc[data.index[:2], "y"] = np.nan
    genotypes = sim.genotypes.pack()
    marker_prior = (
        bg.BayesCPrior(pi=bg.Beta(3.0, 5.0), variance=bg.ScaledInvChi2(df=12.0, scale=0.1))
        if prior == "BayesCpi"
        else bg.BayesRPrior(
            gamma=(0.0, 0.1, 1.0), dirichlet=(2.0, 2.0, 2.0), variance=bg.ScaledInvChi2(df=12.0, scale=0.2)
        )
    )
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior_variance=0.25), bg.Markers("id", genotypes, prior=marker_prior)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="single-site",
    )
    assert model.terms[1].codes.dtype == np.uint8  # the sweeps read packed codes
    result = geweke_test(model, n_marginal=6000, n_successive=20000, seed=8)
    print(result)
    assert result.passed, str(result)


def test_gwas_windows_and_the_lmm_scan_on_packed_genotypes_equal_int8():
    rng = np.random.default_rng(5)
    n, p = 90, 40
    codes = rng.binomial(2, rng.uniform(0.1, 0.9, p), size=(n, p)).astype(float)
    codes[rng.random((n, p)) < 0.03] = np.nan
    ids = [f"i{k}" for k in range(n)]
    info = pd.DataFrame(
        {"chrom": np.repeat(["1", "2"], [25, 15]), "pos": np.arange(p) * 1000}, index=[f"m{j}" for j in range(p)]
    )
    genotypes = bg.Genotypes(ids, codes, markers=list(info.index), marker_info=info)
    packed = genotypes.pack()
    y = np.nan_to_num(codes - np.nanmean(codes, axis=0)) @ rng.normal(0, 0.2, p) + rng.normal(size=n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    data = pd.DataFrame({"y": y, "sex": sex}, index=ids)
    a = bg.gwas.lmm_scan(data, "y", genotypes, covariates=["sex"], loco=True)
    b = bg.gwas.lmm_scan(data, "y", packed, covariates=["sex"], loco=True)
    pd.testing.assert_frame_equal(a, b)
    frame = data.reset_index(names="id").iloc[::-1]  # records not in genotype order: re-packed codes
    model_int8 = bg.BayesC(frame, "y", "id", genotypes, pi=0.3)
    model_packed = bg.BayesC(frame, "y", "id", packed, pi=0.3)
    idata = model_int8.sample(draws=20, burn=5, chains=1, seed=2, progress=False)
    pd.testing.assert_frame_equal(
        bg.gwas.windows(idata, model_int8, size=5), bg.gwas.windows(idata, model_packed, size=5)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"call_rate": 0.95},
        {"ids": ["i4", "i2", "i20", "i7", "i9"], "call_rate": 0.9},
        {"markers": [f"s{j}" for j in range(39, -1, -2)], "call_rate": 0.95},
    ],
    ids=["all-ids", "ids", "markers"],
)
def test_read_plink_packed_in_blocks_of_two_markers_compacts_what_qc_removes(plink_set, kwargs, monkeypatch):
    """Blocks of 2 markers (12 bytes): markers removed in one block and read into place in the next."""
    import warnings

    from bayesgen.data import plink

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        int8 = bg.read_plink(plink_set, report=False, **kwargs)
        monkeypatch.setattr(plink, "BLOCK_BYTES", 12)
        packed = bg.read_plink(plink_set, report=False, packed=True, **kwargs)
    removed = sum(packed.qc_report[f"removed_{rule}"] for rule in ("call_rate", "maf", "monomorphic"))
    assert removed > 1
    assert packed.markers == int8.markers and packed.qc_report == int8.qc_report
    np.testing.assert_array_equal(packed.codes, int8.codes)
