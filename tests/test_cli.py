"""The bayesgen command line: specs, their errors, exit codes, interrupts."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import arviz as az
import pytest

from bayesgen.cli.main import main

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("spec,scalar", [("animal.toml", "sigma2_a"), ("bayesA.toml", "var_g")])
def test_fit_runs_a_shipped_spec_and_writes_netcdf(tmp_path, capsys, spec, scalar):
    out = tmp_path / "fit.nc"
    code = main(
        [
            "fit",
            str(MODELS / spec),
            "--draws",
            "20",
            "--burn",
            "5",
            "--chains",
            "2",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert scalar in printed and "r_hat" in printed and "h2" in printed
    idata = az.from_netcdf(str(out))
    assert idata.posterior.sizes["draw"] == 20 and scalar in idata.posterior


def test_fit_of_simulated_data_prints_the_true_values_beside_the_estimates(tmp_path, capsys):
    """Issue 16 item 18: the newcomer's first command shows the recovery of h2 = 0.4."""
    code = main(
        [
            "fit",
            str(MODELS / "animal.toml"),
            "--draws",
            "20",
            "--burn",
            "5",
            "--chains",
            "2",
            "--output",
            str(tmp_path / "fit.nc"),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "mcse_mean" in line)
    assert header.split()[:3] == ["true", "mean", "sd"]
    table = printed.split("Convergence (")[0]  # the summary, not the convergence report under it
    rows = {
        line.split()[0]: line.split()[1]
        for line in table.splitlines()
        if line.split() and line.split()[0] in ("beta[Intercept]", "beta[sex[M]]", "sigma2_a", "sigma2_e", "h2")
    }
    assert rows == {"beta[Intercept]": "10.5", "beta[sex[M]]": "-0.5", "sigma2_a": "0.4", "sigma2_e": "0.6",
                    "h2": "0.4"}  # fmt: skip
    assert "true: the values data.simulate used; beta from its mean and sex effect (reference level F)." in printed


def test_fit_of_files_prints_no_true_values(tmp_path, capsys):
    import bayesgen as bg

    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=30, n_markers=0, seed=2)
    sim.phenotypes.to_csv(tmp_path / "phen.csv", index=False)
    sim.pedigree.to_csv(tmp_path / "ped.csv", index=False)
    spec = _spec(
        tmp_path,
        '[data]\nphenotypes = "phen.csv"\npedigree = "ped.csv"\n[model]\ntype = "animal"\n'
        'trait = "y"\nid = "id"\n[sampler]\ndraws = 5\nburn = 0\nchains = 1\n',
    )
    assert main(["fit", spec, "--no-progress"]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "mcse_mean" in line)
    assert header.split()[0] == "mean" and "true:" not in printed


def _spec(tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return str(path)


GOOD = """
[data]
simulate = {{ n_founders = 10, n_generations = 1, n_offspring = 20, n_markers = 0, seed = 1 }}
[model]
type = "animal"
trait = "y"
id = "id"
{extra_model}
[sampler]
draws = 5
burn = 0
chains = 1
{extra}
"""


BASE = GOOD.format(extra_model="", extra="")


@pytest.mark.parametrize(
    "extra_model,extra,message",
    [
        ("", "colour = 3", "Unknown key(s) in [sampler]: colour"),
        ("fixd = ['sex']", "", "Unknown key(s) in [model]: fixd"),
        ("", "[prior]\nsigma2_a = 1.0", "Unknown key(s) in the spec (top-level sections): prior"),
        ("", "[priors]\nsigma2_a = { df = 5 }", "Missing required key priors.sigma2_a.scale"),
        ("", "[priors]\nsigma2_a = 'wide'", "priors.sigma2_a must be a number"),
        ("", "[priors]\nsigma2_a = { df = -1, scale = 1 }", "priors.sigma2_a: ScaledInvChi2 df"),
        ("fixed = 'sex'", "", "model.fixed must be a list"),
        ("", "[priors]\ndf = 4", "[priors] key(s) not used by model.type = 'animal': df (a key of bayesA, bayesB)"),
    ],
)
def test_bad_spec_names_the_key(tmp_path, capsys, extra_model, extra, message):
    code = main(["fit", _spec(tmp_path, GOOD.format(extra_model=extra_model, extra=extra)), "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_required_keys_and_files(tmp_path, capsys):
    spec = _spec(tmp_path, '[model]\ntype = "animal"\nid = "id"\n')
    assert main(["fit", spec]) == 2
    assert "Missing required key model.trait" in capsys.readouterr().err
    spec = _spec(
        tmp_path,
        '[data]\nphenotypes = "nope.csv"\npedigree = "ped.csv"\n[model]\ntype = "animal"\ntrait = "y"\nid = "id"\n',
    )
    assert main(["fit", spec]) == 2
    assert "data.phenotypes: file not found" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "absent.toml")]) == 2
    assert "Spec file not found" in capsys.readouterr().err
    spec = _spec(tmp_path, '[model]\ntype = "bayesQ"\ntrait = "y"\nid = "id"\n')
    assert main(["fit", spec]) == 2
    assert "model.type must be one of animal, GBLUP, bayesA, BRR, bayesB" in capsys.readouterr().err


def test_spec_reading_csv_files(tmp_path, capsys):
    import bayesgen as bg

    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=30, n_markers=0, seed=2)
    sim.phenotypes.to_csv(tmp_path / "phen.csv", index=False)
    sim.pedigree.to_csv(tmp_path / "ped.csv", index=False)
    spec = _spec(
        tmp_path,
        """
[data]
phenotypes = "phen.csv"
pedigree = { path = "ped.csv", id = "id", sire = "sire", dam = "dam" }
[model]
type = "animal"
trait = "y"
id = "id"
fixed = ["sex"]
[priors]
sigma2_e = { df = 4, scale = 0.5 }
[sampler]
draws = 10
burn = 2
chains = 1
seed = 3
""",
    )
    assert main(["fit", spec, "--no-progress"]) == 0
    assert "sigma2_a" in capsys.readouterr().out


# ----------------------------------------------------------------------------- output path (issue 5, item 3)
def _unwritable_directory(tmp_path):
    """A directory in which no file can be created, even by root (who ignores permission bits)."""
    if os.geteuid() == 0:
        return Path("/sys")  # sysfs refuses new files to everyone
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked


@pytest.mark.parametrize(
    "make_output,message",
    [
        (lambda tmp: tmp, "is a directory; expected a netCDF file name"),
        (
            lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt" / "fit.nc",
            "file.txt is a file, not a directory",
        ),
        (lambda tmp: tmp / "fit.csv", "does not end in .nc"),
        (lambda tmp: _unwritable_directory(tmp) / "sub" / "fit.nc", "is not writable"),
    ],
)
def test_output_path_is_checked_before_sampling(tmp_path, capsys, make_output, message):
    output = make_output(tmp_path)
    code = main(["fit", _spec(tmp_path, BASE), "--output", str(output), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"bayesgen: error: --output: {output}" in captured.err and message in captured.err
    assert captured.out == ""  # stopped before the model was even built


def test_output_written_into_new_directories(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "fit.nc"
    assert main(["fit", _spec(tmp_path, BASE), "--output", str(out), "--no-progress"]) == 0
    assert az.from_netcdf(str(out)).posterior.sizes["draw"] == 5


# ----------------------------------------------------------------------------- spec types (items 8, 15)
def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    "old,new,message",
    [
        ('id = "id"', 'id = "id"\nintercept = "yes"', "model.intercept must be true or false, got 'yes' (str)."),
        ('id = "id"', 'id = "id"\nintercept = 0', "model.intercept must be true or false, got 0 (int)."),
        ('trait = "y"', "trait = 3", "model.trait must be a non-empty string, got 3 (int)."),
        ('id = "id"', 'id = ""', "model.id must be a non-empty string, got '' (str)."),
        (
            'id = "id"',
            'id = "id"\nrandom = "herd"',
            "model.random must be a list of column names (strings), got 'herd' (str).",
        ),
        (
            'id = "id"',
            'id = "id"\nfixed = [1]',
            "model.fixed must be a list of column names (strings), got [1] (list).",
        ),
        ("draws = 5", 'draws = "5"', "sampler.draws must be an integer >= 1, got '5' (str)."),
        ("burn = 0", "burn = -1", "sampler.burn must be an integer >= 0, got -1 (int)."),
        ("chains = 1", "chains = 1.5", "sampler.chains must be an integer >= 1, got 1.5 (float)."),
        ("chains = 1", "chains = 1\nthin = 0", "sampler.thin must be an integer >= 1, got 0 (int)."),
        ("chains = 1", "chains = 1\nseed = -1", "sampler.seed must be an integer >= 0, got -1 (int)."),
        ("chains = 1", "chains = 1\ncores = 0", "sampler.cores must be an integer >= 1, got 0 (int)."),
        (
            "chains = 1",
            'chains = 1\nstore = "all"',
            "sampler.store must be one of 'auto', 'full', 'summary', got 'all' (str).",
        ),
        (
            "chains = 1",
            "chains = 1\nstore = true",
            "sampler.store must be one of 'auto', 'full', 'summary', got True (bool).",
        ),
        (
            "chains = 1",
            "chains = 1\n[priors]\nsigma2_a = true",
            "priors.sigma2_a must be a number (fixed) or a table {df, scale}, got True (bool).",
        ),
        ("chains = 1", "chains = 1\n[priors]\nsigma2_a = -1", "priors.sigma2_a must be a number > 0, got -1 (int)."),
        (
            "chains = 1",
            'chains = 1\n[priors]\nsigma2_e = { df = "4", scale = 1 }',
            "priors.sigma2_e.df must be a number, got '4' (str).",
        ),
        (
            "chains = 1",
            "chains = 1\n[priors]\nsigma2_e = { df = 4, scale = false }",
            "priors.sigma2_e.scale must be a number, got False (bool).",
        ),
        (
            "chains = 1",
            'chains = 1\n[output]\npath = ""',
            "output.path must be a non-empty string naming a netCDF file (*.nc), got '' (str).",
        ),
        (
            "chains = 1",
            "chains = 1\n[output]\npath = 5",
            "output.path must be a non-empty string naming a netCDF file (*.nc), got 5 (int).",
        ),
    ],
)
def test_every_spec_value_is_type_checked(tmp_path, capsys, old, new, message):
    code = main(["fit", _spec(tmp_path, _with(BASE, old, new)), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"bayesgen: error: {message}" in captured.err
    assert captured.out == ""  # nothing built, nothing sampled


def test_command_line_overrides_are_checked_and_named(tmp_path, capsys):
    spec = _spec(tmp_path, BASE)
    assert main(["fit", spec, "--draws", "0"]) == 2
    assert "bayesgen: error: --draws must be an integer >= 1, got 0 (int)." in capsys.readouterr().err
    assert main(["fit", spec, "--output", ""]) == 2
    assert "bayesgen: error: --output must be a non-empty string" in capsys.readouterr().err


BAYES_A = """
[data]
simulate = {{ n_founders = 10, n_generations = 1, n_offspring = 20, n_markers = 30, seed = 1 }}
[model]
type = "bayesA"
trait = "y"
id = "id"
[priors]
{priors}
[sampler]
draws = 5
burn = 0
chains = 1
"""


@pytest.mark.parametrize(
    "priors,message",
    [
        ("df = '5'", "priors.df must be a number > 0, got '5' (str)."),
        ("df = true", "priors.df must be a number > 0, got True (bool)."),
        ("df = 0", "priors.df must be a number > 0, got 0 (int)."),
        ("scale = 'x'", "priors.scale must be a number (fixed) or a table {shape, rate}, got 'x' (str)."),
        ("scale = { shape = '1.1', rate = 1 }", "priors.scale.shape must be a number, got '1.1' (str)."),
        ("scale = { shape = -1, rate = 1 }", "priors.scale: Gamma shape must be finite and > 0"),
    ],
)
def test_bayes_a_priors_are_type_checked(tmp_path, capsys, priors, message):
    assert main(["fit", _spec(tmp_path, BAYES_A.format(priors=priors)), "--no-progress"]) == 2
    assert f"bayesgen: error: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("files", ['phenotypes = "phen.csv"', 'genotypes = { path = "g.csv", id = "id" }'])
def test_simulate_together_with_files_is_an_error(tmp_path, capsys, files):
    assert main(["fit", _spec(tmp_path, _with(BASE, "[data]\n", f"[data]\n{files}\n")), "--no-progress"]) == 2
    key = files.split(" ")[0]
    assert f"data.simulate cannot be combined with data.{key}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("n_offspring = 20", "n_offspring = -5", "data.simulate.n_offspring must be an integer >= 1, got -5."),
        (
            "n_generations = 1",
            'n_generations = "x"',
            "data.simulate.n_generations must be an integer >= 1, got 'x' (str).",
        ),
        ("seed = 1 }", 'seed = 1, h2 = "0.4" }', "data.simulate.h2 must be a number, got '0.4' (str)."),
        (
            "seed = 1 }",
            "seed = 1, n_offsprings = 5 }",
            "Unknown key(s) in data.simulate: n_offsprings. Allowed: censoring, family, genetic_model",
        ),
        ("simulate = {", "simulate = 5\n# {", "data.simulate must be a table of simulate() arguments, got 5 (int)."),
    ],
)
def test_simulate_arguments_are_named(tmp_path, capsys, old, new, message):
    assert main(["fit", _spec(tmp_path, _with(BASE, old, new)), "--no-progress"]) == 2
    assert f"bayesgen: error: {message}" in capsys.readouterr().err


def test_spec_path_that_is_a_directory(tmp_path, capsys):
    assert main(["fit", str(tmp_path)]) == 2
    assert f"bayesgen: error: Spec path {tmp_path} is a directory; expected a TOML file" in capsys.readouterr().err


FILES_BAYES_A = """
[data]
phenotypes = "phen.csv"
genotypes = {{ path = "{genotypes}", id = "id" }}
[model]
type = "bayesA"
trait = "y"
id = "id"
"""


def test_genotypes_path_that_is_a_directory(tmp_path, capsys):
    (tmp_path / "phen.csv").write_text("id,y\na,1\n")
    (tmp_path / "geno").mkdir()
    assert main(["fit", _spec(tmp_path, FILES_BAYES_A.format(genotypes="geno"))]) == 2
    assert f"data.genotypes: {tmp_path / 'geno'} is a directory; expected a CSV file." in capsys.readouterr().err


@pytest.mark.parametrize("name", ["geno.bed", "geno.csv"])  # found by suffix or by the .bed magic bytes
def test_plink_bed_given_as_genotypes(tmp_path, capsys, name):
    (tmp_path / "phen.csv").write_text("id,y\na,1\n")
    (tmp_path / name).write_bytes(b"\x6c\x1b\x01\x8a\xff\x00\x8a")
    assert main(["fit", _spec(tmp_path, FILES_BAYES_A.format(genotypes=name))]) == 2
    assert f"data.genotypes: {tmp_path / name} is a PLINK .bed file, not a CSV" in capsys.readouterr().err


def test_binary_phenotype_file_names_the_file(tmp_path, capsys):
    (tmp_path / "phen.csv").write_bytes(b"id,y\n\xff\xfe\x8a,1\n")
    (tmp_path / "g.csv").write_text("id,m1\na,0\n")
    assert main(["fit", _spec(tmp_path, FILES_BAYES_A.format(genotypes="g.csv"))]) == 2
    assert f"data.phenotypes: {tmp_path / 'phen.csv'} is not a text (UTF-8) CSV file." in capsys.readouterr().err


def test_spec_with_utf8_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "bom.toml"
    path.write_text("\ufeff" + BASE, encoding="utf-8")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert main(["fit", str(path), "--no-progress"]) == 0
    assert "sigma2_a" in capsys.readouterr().out


# ----------------------------------------------------------------------------- version, interrupt (items 18, 1)
def test_version(capsys):
    import bayesgen

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"bayesgen {bayesgen.__version__}"


def _interrupt_after(spec: Path, output: Path, iterations: int):
    """Run ``bayesgen fit`` in a subprocess and send SIGINT once the progress bar shows at least
    ``iterations`` iterations (summed over chains); returns (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayesgen.cli.main", "fit", str(spec), "--output", str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A suite started in the background without job control (``nohup pytest &``) ignores
        # SIGINT, and a child would inherit that and never see the interrupt: give it the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen, printed = [], []
    reader = threading.Thread(target=lambda: seen.extend(iter(lambda: os.read(proc.stderr.fileno(), 4096), b"")))
    printer = threading.Thread(target=lambda: printed.extend(iter(lambda: os.read(proc.stdout.fileno(), 4096), b"")))
    reader.start()
    printer.start()
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            counts = [int(n) for n in re.findall(rb"(\d+)/\d+ \[", b"".join(seen))]
            if counts and max(counts) >= iterations:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)  # a child that ignores the interrupt fails here, not hangs
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join()
        printer.join()
    return code, b"".join(printed).decode(), b"".join(seen).decode(errors="replace")


INTERRUPTED = """
[data]
simulate = {{ n_founders = 10, n_generations = 1, n_offspring = 20, n_markers = 0, seed = 1 }}
[model]
type = "animal"
trait = "y"
id = "id"
[sampler]
chains = 2
draws = {draws}
burn = {burn}
thin = 100
seed = 1
"""  # thin = 100: a million draws take 10^8 iterations per chain, so the run cannot end before SIGINT


def test_ctrl_c_writes_the_draws_kept_and_exits_130(tmp_path):
    spec = Path(_spec(tmp_path, INTERRUPTED.format(draws=10**6, burn=0)))
    output = tmp_path / "partial.nc"
    code, out, err = _interrupt_after(spec, output, iterations=5000)
    assert code == 130, err
    assert "Traceback" not in err
    idata = az.from_netcdf(str(output))
    assert idata.attrs["interrupted"] == 1
    kept = idata.posterior.sizes["draw"]
    assert 0 < kept < 10**6 and idata.posterior.sizes["chain"] >= 1
    assert f"bayesgen: interrupted: kept {kept} draws" in err
    assert f"InferenceData written to {output}" in out


def test_ctrl_c_before_any_draw_exits_130_without_traceback(tmp_path):
    spec = Path(_spec(tmp_path, INTERRUPTED.format(draws=1, burn=10**9)))
    output = tmp_path / "none.nc"
    code, out, err = _interrupt_after(spec, output, iterations=50)
    assert code == 130, err
    assert "bayesgen: interrupted before any draw was kept; nothing written." in err
    assert "Traceback" not in err
    assert not output.exists()


# ----------------------------------------------------------------------------- the remaining spec messages
def test_spec_file_errors(tmp_path, capsys):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[model]\n")
    assert main(["fit", str(binary)]) == 2
    assert f"Spec {binary} is not a UTF-8 text file; expected a TOML file" in capsys.readouterr().err
    assert main(["fit", _spec(tmp_path, "[model\ntype = 1\n")]) == 2
    assert "is not valid TOML: " in capsys.readouterr().err
    (tmp_path / "file.txt").write_text("x")
    assert main(["fit", str(tmp_path / "file.txt" / "spec.toml")]) == 2
    assert f"Cannot read spec file {tmp_path / 'file.txt' / 'spec.toml'}: Not a directory." in capsys.readouterr().err
    assert main(["fit", _spec(tmp_path, "model = 5\n")]) == 2
    assert "[model] must be a table, got 5 (int)." in capsys.readouterr().err


def test_existing_output_file_that_cannot_be_written(tmp_path, capsys, monkeypatch):
    # Permission bits do not stop root, so the refusal of the operating system is simulated.
    out = tmp_path / "old.nc"
    out.write_text("x")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == out else real_access(path, mode))
    assert main(["fit", _spec(tmp_path, BASE), "--output", str(out)]) == 2
    assert f"bayesgen: error: --output: {out} exists and is not writable." in capsys.readouterr().err


def test_unknown_override_is_rejected():
    from bayesgen.cli.spec import SpecError, load_spec

    with pytest.raises(SpecError, match="Unknown sampler setting --colour."):
        load_spec(MODELS / "animal.toml", {"colour": 3})


FILES_ANIMAL = """
[data]
{data}
[model]
type = "{kind}"
trait = "y"
id = "id"
{priors}
"""


@pytest.mark.parametrize(
    "kind,data,priors,message",
    [
        (
            "animal",
            'phenotypes = 5\npedigree = "ped.csv"',
            "",
            "data.phenotypes must be a file path or a table with a 'path' key, got 5 (int).",
        ),
        (
            "animal",
            'phenotypes = "phen.csv"\npedigree = { path = "" }',
            "",
            "data.pedigree.path must be a non-empty string, got '' (str).",
        ),
        ("animal", 'phenotypes = "phen.csv"\npedigree = { id = "id" }', "", "Missing required key data.pedigree.path."),
        (
            "animal",
            'phenotypes = "phen.csv"\npedigree = { path = "ped.csv", mother = "dam" }',
            "",
            "Unknown key(s) in data.pedigree: mother. Allowed: dam, id, path, sire.",
        ),
        (
            "animal",
            'phenotypes = "phen.csv"\npedigree = { path = "ped.csv", sire = 3 }',
            "",
            "data.pedigree.sire must be a non-empty string, got 3 (int).",
        ),
        (
            "animal",
            'phenotypes = "phen.csv"\npedigree = { path = "ped.csv", sire = "father" }',
            "",
            "data.pedigree ({base}/ped.csv): Column(s) 'father' not found in the pedigree table",
        ),
        (
            "animal",
            'phenotypes = { path = "phen.csv", seperator = ";" }\npedigree = "ped.csv"',
            "",
            "data.phenotypes ({base}/phen.csv): read_csv() got an unexpected keyword argument 'seperator'",
        ),
        (
            "animal",
            'phenotypes = "empty.csv"\npedigree = "ped.csv"',
            "",
            "data.phenotypes: cannot read {base}/empty.csv as CSV: No columns to parse from file",
        ),
        (
            "animal",
            'phenotypes = "phen.csv"\npedigree = "ped.csv"',
            "[model.extra]",
            "Unknown key(s) in [model]: extra",
        ),
        ("animal", 'phenotypes = "phen.csv"', "", "model.type = 'animal' needs data.pedigree (or data.simulate)."),
        ("animal", 'pedigree = "ped.csv"', "", '[data] needs either simulate = { ... } or phenotypes = "file.csv"'),
        (
            "animal",
            'phenotypes = "phen.csv"\npedigree = "ped.csv"',
            "[priors]\nscale = 1.0",
            "[priors] key(s) not used by model.type = 'animal': scale (a key of bayesA, bayesB).",
        ),
        ("bayesA", 'phenotypes = "phen.csv"', "", "model.type = 'bayesA' needs data.genotypes"),
        ("bayesA", 'phenotypes = "phen.csv"\ngenotypes = "g.csv"', "", "Missing required key data.genotypes.id."),
        (
            "bayesA",
            'phenotypes = "phen.csv"\ngenotypes = { path = "g.csv", id = "id" }',
            "[priors]\nsigma2_a = 1.0",
            "[priors] key(s) not used by model.type = 'bayesA': sigma2_a (a key of animal, single-step). Allowed for bayesA: "
            "df, rule, scale, sigma2_e.",
        ),
        (
            "bayesA",
            "simulate = { n_founders = 10, n_generations = 1, n_offspring = 10, n_markers = 0 }",
            "",
            "model.type = 'bayesA' needs genotypes, but data.simulate.n_markers = 0 simulates none.",
        ),
        (
            "animal",
            "simulate = { n_founders = 10, n_generations = 2, n_offspring = 1, n_markers = 0, seed = 1 }",
            "",
            "data.simulate: Generation 1 has no males or no females; increase n_offspring.",
        ),
        ("animal", 'phenotypes = "phen.csv"\npedigree = "ped.csv"', "", None),  # the files themselves are fine
    ],
)
def test_data_and_model_errors_name_the_key_or_file(tmp_path, capsys, kind, data, priors, message):
    (tmp_path / "phen.csv").write_text("id,weight\nA1,1.0\nA2,2.0\n")  # no column "y": the model's error
    (tmp_path / "ped.csv").write_text("id,sire,dam\nA1,,\nA2,,\n")
    (tmp_path / "g.csv").write_text("id,m1\nA1,0\nA2,2\n")
    (tmp_path / "empty.csv").write_text("")
    spec = _spec(tmp_path, FILES_ANIMAL.format(data=data, kind=kind, priors=priors))
    assert main(["fit", spec, "--no-progress"]) == 2
    err = capsys.readouterr().err
    if message is None:
        assert "bayesgen: error: Column(s) 'y' not found" in err
    else:
        assert "bayesgen: error: " + message.replace("{base}", str(tmp_path)) in err


def test_sensitivity_flag_prints_the_power_scaling_table(tmp_path, capsys):
    spec = _spec(tmp_path, BASE.replace("draws = 5", "draws = 200").replace("chains = 1", "chains = 2"))
    assert main(["fit", spec, "--sensitivity", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Power-scaling sensitivity" in printed
    assert "sigma2_a" in printed.split("Power-scaling sensitivity")[1]


def test_a_single_draw_gives_nan_statistics_without_warning_noise(tmp_path, capsys):
    code = main(
        [
            "fit",
            str(MODELS / "animal.toml"),
            "--draws",
            "1",
            "--burn",
            "2",
            "--chains",
            "1",
            "--output",
            str(tmp_path / "one.nc"),
            "--no-progress",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "RuntimeWarning" not in captured.err and "Shape validation failed" not in captured.err
    assert "fewer than 4 draws per chain" in captured.out


@pytest.mark.parametrize(
    "extra_model,extra,message",
    [
        (
            "sampler = 'gibbs'",
            "",
            "model.sampler must be one of 'auto', 'single-site', 'joint', 'pcg', 'collapsed', got 'gibbs'",
        ),
        ("", "[priors]\nrule = 'flat'", "priors.rule must be one of 'default', 'bglr', got 'flat'"),
    ],
)
def test_sampler_and_prior_rule_keys_are_checked(tmp_path, capsys, extra_model, extra, message):
    assert main(["fit", _spec(tmp_path, GOOD.format(extra_model=extra_model, extra=extra))]) == 2
    assert message in capsys.readouterr().err


def test_sampler_and_prior_rule_reach_the_model(tmp_path):
    from bayesgen.cli.spec import load_spec

    text = GOOD.format(extra_model="sampler = 'single-site'", extra="[priors]\nrule = 'bglr'")
    model = load_spec(_spec(tmp_path, text)).model
    # Single-site: every term its own block, the animals' group move, the translation move of beta against
    # the animals' mean, and the likelihood.
    assert [b["block"] for b in model.describe()["sampler"]] == ["term", "term", "group move", "translation", "term"]
    assert model.residual.prior.to_dict()["family"] == "ScaledInvChi2"
    default = load_spec(_spec(tmp_path, BASE)).model
    assert default.residual.prior.to_dict()["family"] == "HalfT"
