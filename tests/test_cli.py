from pathlib import Path

import arviz as az
import pytest

from bayesgen.cli.main import main

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("spec,scalar", [("animal.toml", "sigma2_a"), ("bayesA.toml", "sigma2_g")])
def test_fit_runs_a_shipped_spec_and_writes_netcdf(tmp_path, capsys, spec, scalar):
    out = tmp_path / "fit.nc"
    code = main(["fit", str(MODELS / spec), "--draws", "20", "--burn", "5", "--chains", "2", "--output", str(out),
                 "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert scalar in printed and "r_hat" in printed and "h2" in printed
    idata = az.from_netcdf(str(out))
    assert idata.posterior.sizes["draw"] == 20 and scalar in idata.posterior


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


@pytest.mark.parametrize("extra_model,extra,message", [
    ("", "colour = 3", "Unknown key(s) in [sampler]: colour"),
    ("fixd = ['sex']", "", "Unknown key(s) in [model]: fixd"),
    ("", "[prior]\nsigma2_a = 1.0", "Unknown key(s) in the spec (top-level sections): prior"),
    ("", "[priors]\nsigma2_a = { df = 5 }", "Missing required key priors.sigma2_a.scale"),
    ("", "[priors]\nsigma2_a = 'wide'", "priors.sigma2_a must be a number"),
    ("", "[priors]\nsigma2_a = { df = -1, scale = 1 }", "priors.sigma2_a: ScaledInvChi2 df"),
    ("fixed = 'sex'", "", "model.fixed must be a list"),
    ("", "[priors]\ndf = 4", "priors.df applies to bayesA models only"),
])
def test_bad_spec_names_the_key(tmp_path, capsys, extra_model, extra, message):
    code = main(["fit", _spec(tmp_path, GOOD.format(extra_model=extra_model, extra=extra)), "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_required_keys_and_files(tmp_path, capsys):
    spec = _spec(tmp_path, '[model]\ntype = "animal"\nid = "id"\n')
    assert main(["fit", spec]) == 2
    assert "Missing required key model.trait" in capsys.readouterr().err
    spec = _spec(tmp_path, '[data]\nphenotypes = "nope.csv"\n[model]\ntype = "animal"\ntrait = "y"\nid = "id"\n')
    assert main(["fit", spec]) == 2
    assert "data.phenotypes: file not found" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "absent.toml")]) == 2
    assert "Spec file not found" in capsys.readouterr().err
    spec = _spec(tmp_path, '[model]\ntype = "bayesB"\ntrait = "y"\nid = "id"\n')
    assert main(["fit", spec]) == 2
    assert "model.type must be one of animal, bayesA" in capsys.readouterr().err


def test_spec_reading_csv_files(tmp_path, capsys):
    import bayesgen as bg

    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=30, n_markers=0, seed=2)
    sim.phenotypes.to_csv(tmp_path / "phen.csv", index=False)
    sim.pedigree.to_csv(tmp_path / "ped.csv", index=False)
    spec = _spec(tmp_path, """
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
""")
    assert main(["fit", spec, "--no-progress"]) == 0
    assert "sigma2_a" in capsys.readouterr().out
