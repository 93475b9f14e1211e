"""Model specs for every marker prior and GBLUP, PLINK genotypes in specs, ``bayesgen simulate``.

Every ``models/*.toml`` runs a tiny fit; the [priors] keys of each ``model.type`` reach the
prior exactly; PLINK file sets round-trip through a spec; each error message names its key.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bed_reader import to_bed

import bayesgen as bg
from bayesgen.cli.main import main
from bayesgen.cli.model_types import MODEL_TYPES, SpecError
from bayesgen.cli.spec import load_spec

MODELS = Path(__file__).resolve().parents[1] / "models"
SPECS = sorted(p.name for p in MODELS.glob("*.toml"))
TINY = ["--draws", "3", "--burn", "2", "--chains", "1", "--no-progress"]
#: Small simulated data with markers, for specs written by the tests.
SIM = (
    "simulate = { n_founders = 10, n_generations = 1, n_offspring = 40, n_markers = 60, n_qtl = 5, "
    'genetic_model = "markers", seed = 3 }'
)


def _write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _marker_spec(kind: str, priors: str = "", data: str = SIM) -> str:
    return f"""
[data]
{data}
[model]
type = "{kind}"
trait = "y"
id = "id"
[priors]
{priors}
[sampler]
draws = 3
burn = 1
chains = 1
seed = 1
"""


def _error(tmp_path, capsys, text: str, args=()) -> str:
    assert main(["fit", _write(tmp_path / "spec.toml", text), *args, "--no-progress"]) == 2
    return capsys.readouterr().err


# ----------------------------------------------------------------------------- shipped specs
def test_every_model_type_has_a_shipped_spec():
    kinds = set()
    for name in SPECS:
        for line in (MODELS / name).read_text().splitlines():
            if line.startswith("type = "):
                kinds.add(line.split('"')[1])
    assert kinds == set(MODEL_TYPES)


# animal.toml and bayesA.toml run in test_cli.py; plink_example.toml needs files (next test).
@pytest.mark.parametrize("name", [n for n in SPECS if n not in ("animal.toml", "bayesA.toml", "plink_example.toml")])
def test_shipped_spec_runs_a_tiny_fit(tmp_path, capsys, name):
    out = tmp_path / "fit.nc"
    assert main(["fit", str(MODELS / name), *TINY, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "h2" in printed and out.exists()


def test_plink_example_runs_on_files_written_by_bayesgen_simulate(tmp_path, capsys):
    """The two commands at the top of models/plink_example.toml, from a copy of the repository layout."""
    spec = _write(tmp_path / "models" / "plink_example.toml", (MODELS / "plink_example.toml").read_text())
    assert main(["simulate", str(MODELS / "bayesC.toml"), "--plink", str(tmp_path / "out" / "sim")]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main(["fit", spec, *TINY, "--output", str(tmp_path / "fit.nc")]) == 0
    printed = capsys.readouterr().out
    assert "read_plink" in printed and "kept 1000 markers" in printed and "pi" in printed


# ----------------------------------------------------------------------------- [priors] reach the prior
BETA, GAMMA, CHI2 = "Beta", "Gamma", "ScaledInvChi2"


@pytest.mark.parametrize(
    "kind,priors,expected",
    [
        ("bayesA", "df = 3", {"family": "BayesA", "df": 3.0}),
        ("bayesB", "pi = 0.05\ndf = 4\nscale = 0.01", {"family": "BayesB", "pi": 0.05, "df": 4.0, "scale": 0.01}),
        (
            "bayesB",
            "pi = { a = 2, b = 3 }\nscale = { shape = 1.5, rate = 2 }",
            {"pi": {"family": BETA, "a": 2.0, "b": 3.0}, "scale": {"family": GAMMA, "shape": 1.5, "rate": 2.0}},
        ),
        ("bayesC", "pi = 0.2\nvariance = 0.3", {"family": "BayesC", "pi": 0.2, "variance": 0.3}),
        (
            "bayesCpi",
            "variance = { df = 6, scale = 0.5 }",  # BGLR's default Beta(5.5, 5.5)
            {"pi": {"family": BETA, "a": 5.5, "b": 5.5}, "variance": {"family": CHI2, "df": 6.0, "scale": 0.5}},
        ),
        ("bayesCpi", "pi = { a = 1, b = 9 }", {"pi": {"family": BETA, "a": 1.0, "b": 9.0}}),
        ("BRR", "variance = 0.25", {"family": "BRR", "variance": 0.25}),
        ("bayesLasso", "lambda2 = 40", {"family": "BayesLasso", "lambda2": 40.0}),
        (
            "bayesLasso",
            "lambda2 = { shape = 1.1, rate = 0.01 }",
            {"lambda2": {"family": GAMMA, "shape": 1.1, "rate": 0.01}},
        ),
        (
            "bayesR",
            "gamma = [0, 0.01, 0.1]\ndirichlet = [1, 2, 3]\nvariance = 0.5",
            {"family": "BayesR", "gamma": [0.0, 0.01, 0.1], "dirichlet": [1.0, 2.0, 3.0], "variance": 0.5},
        ),
    ],
)
def test_prior_keys_reach_the_marker_prior_exactly(tmp_path, kind, priors, expected):
    model = load_spec(_write(tmp_path / "spec.toml", _marker_spec(kind, priors))).model
    described = model.terms[-2].describe()["prior"]
    assert {key: described[key] for key in expected} == expected


def test_gblup_spec_builds_the_genomic_kernel(tmp_path):
    model = load_spec(_write(tmp_path / "spec.toml", _marker_spec("GBLUP", "sigma2_g = 0.4"))).model
    kernel = model.terms[-2]
    assert isinstance(kernel, bg.Kernel) and kernel.name == "g"
    assert kernel.variance_prior_arg == 0.4


# ----------------------------------------------------------------------------- PLINK round trip
def _plink_files(tmp_path, missing=()):
    """A small simulation written with bed-reader: genotypes as tmp_path/geno.*, phenotypes as phen.csv."""
    sim = bg.simulate(
        n_founders=10, n_generations=1, n_offspring=40, n_markers=60, n_qtl=5, genetic_model="markers", seed=5
    )
    geno = sim.genotypes
    values = geno.codes.T.astype(np.int8)  # individuals x markers
    for row, column in missing:
        values[row, column] = -127
    to_bed(tmp_path / "geno.bed", values, properties={"iid": list(geno.ids), "sid": list(geno.markers)})
    sim.phenotypes.to_csv(tmp_path / "phen.csv", index=False)
    return sim, values


@pytest.mark.parametrize("plink", ["geno", "geno.bed"])
def test_plink_round_trip_through_a_spec(tmp_path, capsys, plink):
    sim, values = _plink_files(tmp_path, missing=[(0, 0), (3, 7)])
    text = _marker_spec("bayesC", "pi = 0.1", data=f'phenotypes = "phen.csv"\ngenotypes = {{ plink = "{plink}" }}')
    spec = load_spec(_write(tmp_path / "spec.toml", text))
    read = spec.model.terms[-2].genotypes
    assert list(read.ids) == list(sim.genotypes.ids) and list(read.markers) == list(sim.genotypes.markers)
    expected = np.where(values.T == -127, 3, values.T)
    assert np.array_equal(read.codes, expected) and read.codes.dtype == np.int8
    assert "read_plink" in capsys.readouterr().out  # the QC report
    idata = spec.model.sample(draws=3, burn=1, chains=1, seed=1, progress=False, check_convergence=False)
    assert idata.posterior["alpha"].shape[-1] == sim.genotypes.n_markers


def test_packed_plink_genotypes_through_a_spec_give_the_same_draws(tmp_path, capsys):
    _plink_files(tmp_path, missing=[(0, 0), (3, 7)])
    draws = {}
    for packed in ("false", "true"):
        text = _marker_spec(
            "bayesC", "pi = 0.1", data=f'phenotypes = "phen.csv"\ngenotypes = {{ plink = "geno", packed = {packed} }}'
        )
        model = load_spec(_write(tmp_path / f"spec_{packed}.toml", text)).model
        assert model.terms[-2].genotypes.packed == (packed == "true")
        idata = model.sample(draws=3, burn=1, chains=1, seed=1, progress=False, check_convergence=False)
        draws[packed] = idata.posterior["alpha"].values
    np.testing.assert_array_equal(draws["true"], draws["false"])


def test_plink_packed_must_be_a_boolean(tmp_path):
    _plink_files(tmp_path)
    text = _marker_spec("BRR", data='phenotypes = "phen.csv"\ngenotypes = { plink = "geno", packed = "yes" }')
    with pytest.raises(SpecError, match=r"data.genotypes.packed must be true or false, got 'yes'"):
        load_spec(_write(tmp_path / "spec.toml", text))


def test_plink_quality_control_options_are_passed(tmp_path):
    _, values = _plink_files(tmp_path, missing=[(row, 0) for row in range(20)])  # marker 0: call rate 0.6
    text = _marker_spec("BRR", data='phenotypes = "phen.csv"\ngenotypes = { plink = "geno", call_rate = 0.9 }')
    read = load_spec(_write(tmp_path / "spec.toml", text)).model.terms[-2].genotypes
    assert read.qc_report["removed_call_rate"] == 1 and read.n_markers == values.shape[1] - 1


def test_bayesgen_simulate_writes_plink_that_reads_back(tmp_path, capsys):
    spec = _write(tmp_path / "sim.toml", _marker_spec("BRR"))
    assert main(["simulate", spec, "--plink", str(tmp_path / "data" / "set.bed")]) == 0
    sim = bg.simulate(
        n_founders=10, n_generations=1, n_offspring=40, n_markers=60, n_qtl=5, genetic_model="markers", seed=3
    )
    back = bg.read_plink(tmp_path / "data" / "set", report=False)
    assert list(back.ids) == list(sim.genotypes.ids) and np.array_equal(back.codes, sim.genotypes.codes)
    fam = pd.read_csv(tmp_path / "data" / "set.fam", sep=" ", header=None, dtype=str)
    child = sim.pedigree.dropna().iloc[0]
    row = fam[fam[1] == child["id"]].iloc[0]
    assert (row[2], row[3]) == (child["sire"], child["dam"])
    assert fam[fam[1] == sim.pedigree["id"][0]].iloc[0][2] == "0"  # founder: unknown parents
    phen = pd.read_csv(tmp_path / "data" / "set.phen.csv")
    assert np.allclose(phen["y"], sim.phenotypes["y"])
    assert (tmp_path / "data" / "set.ped.csv").exists()


# ----------------------------------------------------------------------------- errors, one per message
@pytest.mark.parametrize(
    "kind,priors,message",
    [
        (
            "bayesb",
            "",
            "model.type must be one of animal, GBLUP, bayesA, BRR, bayesB, bayesC, bayesCpi, bayesLasso, "
            "bayesR, single-step, got 'bayesb' (did you mean 'bayesB'?).",
        ),
        (
            "bayesC",
            "df = 4",
            "[priors] key(s) not used by model.type = 'bayesC': df (a key of bayesA, bayesB). "
            "Allowed for bayesC: pi, rule, sigma2_e, variance.",
        ),
        ("bayesC", "pii = 0.1", "[priors] key(s) not used by model.type = 'bayesC': pii. Allowed for bayesC:"),
        (
            "bayesC",
            "pi = 1.5",
            "priors.pi must be a number in (0, 1] (fixed) or a table {a, b} (a Beta prior), got 1.5 (float).",
        ),
        ("bayesB", "pi = 'high'", "priors.pi must be a number in (0, 1] (fixed) or a table {a, b}"),
        ("bayesB", "pi = { a = -1, b = 1 }", "priors.pi: Beta a must be"),
        ("bayesC", "pi = { a = 1, c = 1 }", "Unknown key(s) in priors.pi: c. Allowed: a, b."),
        ("bayesC", "pi = { a = 1 }", "Missing required key priors.pi.b."),
        (
            "bayesCpi",
            "pi = 0.1",
            "priors.pi must be a table {a, b} (the Beta prior of the sampled pi) for "
            "model.type = 'bayesCpi', got 0.1 (float); use model.type = 'bayesC' to fix pi.",
        ),
        ("BRR", "variance = -1", "priors.variance must be a number > 0, got -1 (int)."),
        (
            "BRR",
            "variance = 'big'",
            "priors.variance must be a number (fixed) or a table {df, scale}, got 'big' (str).",
        ),
        ("BRR", "variance = { df = 0, scale = 1 }", "priors.variance: RidgePrior variance prior must be proper"),
        ("bayesLasso", "lambda2 = [1]", "priors.lambda2 must be a number (fixed) or a table {shape, rate}"),
        ("bayesLasso", "lambda2 = { shape = 1, rate = -2 }", "priors.lambda2: Gamma rate must be finite and > 0"),
        (
            "bayesR",
            "gamma = [1e-4, 1e-3]",
            "priors.gamma must be a list of numbers starting with 0 followed by "
            "numbers > 0 (e.g. [0, 1e-4, 1e-3, 1e-2]), got [0.0001, 0.001] (list).",
        ),
        ("bayesR", "dirichlet = [1, 0, 1, 1]", "priors.dirichlet must be a non-empty list of numbers > 0"),
        ("bayesR", "dirichlet = [1, 1]", "priors.dirichlet: BayesR dirichlet must hold 4 positive"),
        (
            "bayesR",
            "gamma = [0, 0.01, 0.1]\ndirichlet = [1, 1]",  # each alone is valid: the pair is named
            "[priors] of model.type = 'bayesR': BayesR dirichlet must hold 3 positive",
        ),
        ("GBLUP", "sigma2_g = 0", "priors.sigma2_g must be a number > 0, got 0 (int)."),
        (
            "GBLUP",
            "sigma2_a = 1",
            "[priors] key(s) not used by model.type = 'GBLUP': sigma2_a (a key of animal, single-step).",
        ),
    ],
)
def test_prior_errors_name_the_key(tmp_path, capsys, kind, priors, message):
    assert "bayesgen: error: " + message in _error(tmp_path, capsys, _marker_spec(kind, priors))


def test_model_type_must_be_a_string(tmp_path, capsys):
    err = _error(tmp_path, capsys, _marker_spec("BRR").replace('type = "BRR"', "type = 3"))
    assert "model.type must be one of animal, GBLUP, bayesA" in err and "(a string), got 3 (int)." in err


@pytest.mark.parametrize(
    "data,message",
    [
        (
            'phenotypes = "phen.csv"',
            "model.type = 'bayesB' needs data.genotypes (or data.simulate with n_markers > 0).",
        ),
        (
            "simulate = { n_founders = 10, n_generations = 1, n_offspring = 10, n_markers = 0 }",
            "model.type = 'bayesB' needs genotypes, but data.simulate.n_markers = 0 simulates none.",
        ),
    ],
)
def test_marker_model_without_genotypes(tmp_path, capsys, data, message):
    assert "bayesgen: error: " + message in _error(tmp_path, capsys, _marker_spec("bayesB", data=data))


@pytest.mark.parametrize(
    "genotypes,message",
    [
        ('{ plink = "absent" }', "data.genotypes.plink: PLINK file(s) not found: {base}/absent.bed"),
        (
            '{ plink = "geno", id = "id" }',
            "Unknown key(s) in data.genotypes (PLINK form): id. Allowed: call_rate, maf, packed, plink.",
        ),
        (
            '{ plink = "geno", path = "g.csv" }',
            "data.genotypes takes either path (a CSV file, with id) or plink (a PLINK file set), not both.",
        ),
        ("{ plink = 3 }", "data.genotypes.plink must be a non-empty string, got 3 (int)."),
        ('{ plink = "geno", maf = 0.6 }', "data.genotypes.maf must be a number in [0, 0.5], got 0.6 (float)."),
        (
            '{ plink = "geno", call_rate = "high" }',
            "data.genotypes.call_rate must be a number in [0, 1], got 'high' (str).",
        ),
        ('{ plink = "short" }', "data.genotypes.plink: short.bed has 18 bytes, but short.fam lists 50 individuals"),
        ('{ plnk = "geno" }', "Unknown key(s) in data.genotypes: plnk. Allowed: id, path, plink."),
        (
            '{ plink = "gaps", call_rate = 1.0 }',
            "data.genotypes.plink: No marker of gaps.bed is left after quality control",
        ),
    ],
)
def test_plink_errors_name_the_key(tmp_path, capsys, genotypes, message):
    _, values = _plink_files(tmp_path)
    for ext in (".fam", ".bim"):  # a set whose .bed does not match its .fam/.bim
        (tmp_path / f"short{ext}").write_bytes((tmp_path / f"geno{ext}").read_bytes())
    (tmp_path / "short.bed").write_bytes((tmp_path / "geno.bed").read_bytes()[:18])
    gaps = values.copy()
    gaps[0, :] = -127  # every marker misses one genotype: call_rate = 1 removes them all
    to_bed(tmp_path / "gaps.bed", gaps)
    text = _marker_spec("BRR", data=f'phenotypes = "phen.csv"\ngenotypes = {genotypes}')
    capsys.readouterr()
    err = _error(tmp_path, capsys, text)
    assert "bayesgen: error: " + message.replace("{base}", str(tmp_path)) in err


def test_bed_given_as_csv_suggests_the_plink_form(tmp_path, capsys):
    _plink_files(tmp_path)
    text = _marker_spec("BRR", data='phenotypes = "phen.csv"\ngenotypes = { path = "geno.bed", id = "id" }')
    assert 'For PLINK write genotypes = { plink = "geno" }.' in _error(tmp_path, capsys, text)


@pytest.mark.parametrize(
    "spec,plink,message",
    [
        ("nosim.toml", "out/x", "has no data.simulate table: there is nothing to simulate."),
        ("nomarkers.toml", "out/x", "data.simulate.n_markers = 0 simulates no genotypes to write as PLINK."),
        ("sim.toml", ".", "--plink: . is a directory; give a prefix such as sim."),
    ],
)
def test_simulate_command_errors(tmp_path, capsys, monkeypatch, spec, plink, message):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "nosim.toml", _marker_spec("BRR", data='phenotypes = "phen.csv"\ngenotypes = { plink = "g" }'))
    _write(
        tmp_path / "nomarkers.toml",
        _marker_spec(
            "animal", data="simulate = { n_founders = 10, n_generations = 1, n_offspring = 10, n_markers = 0 }"
        ),
    )
    _write(tmp_path / "sim.toml", _marker_spec("BRR"))
    assert main(["simulate", spec, "--plink", plink]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_simulate_command_unwritable_directory_exits_2_before_simulating(tmp_path, capsys, monkeypatch):
    """Issue 16 item 11: an unwritable --plink directory gave exit 1 and a traceback after the
    simulation. It is probed with a temporary file as fit probes its output; permission bits
    do not stop root, so the operating system's refusal is simulated."""
    import tempfile

    from bayesgen.cli import simulate as simulate_module

    spec = _write(tmp_path / "sim.toml", _marker_spec("BRR"))
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.TemporaryFile

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    monkeypatch.setattr(simulate_module, "simulation_of", lambda path: pytest.fail("simulated before the check"))
    assert main(["simulate", spec, "--plink", str(locked / "sub" / "p")]) == 2
    err = capsys.readouterr().err
    assert (
        f"bayesgen: error: --plink: {locked / 'sub' / 'p'} cannot be written: directory {locked} is not writable "
        "(Permission denied)." in err
    )
    assert "Traceback" not in err and list(locked.iterdir()) == []


def test_simulate_command_plink_prefix_errors(tmp_path, capsys):
    spec = _write(tmp_path / "sim.toml", _marker_spec("BRR"))
    assert main(["simulate", spec, "--plink", ""]) == 2
    assert "--plink must be a non-empty path prefix" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["simulate", spec, "--plink", str(tmp_path / "file" / "sim")]) == 2
    assert (
        f"--plink: {tmp_path / 'file' / 'sim'} cannot be created: {tmp_path / 'file'} is a file, not a directory."
        in capsys.readouterr().err
    )
