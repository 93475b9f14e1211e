"""``import bayesgen`` stays light: heavy dependencies load only when a name that needs them is used."""

import subprocess
import sys

import pytest

HEAVY = ["arviz", "matplotlib", "numba", "pandas", "scipy", "scipy.sparse", "xarray"]


def _loaded_after(code):
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_import_bayesgen_loads_no_heavy_dependency():
    assert _loaded_after("import bayesgen") == set()


def test_public_names_resolve_on_first_use_and_are_cached():
    import bayesgen as bg

    assert set(bg.__all__) <= set(dir(bg))
    for name in bg.__all__:
        assert getattr(bg, name) is getattr(bg, name)
    from bayesgen import BayesA

    assert BayesA is bg.BayesA


def test_unknown_attribute_names_the_attribute():
    import bayesgen as bg

    with pytest.raises(AttributeError, match="no attribute 'NotAThing'"):
        bg.NotAThing  # noqa: B018


def test_using_a_name_loads_what_it_needs():
    assert "pandas" in _loaded_after("import bayesgen as bg\nbg.Genotypes")


def test_subpackages_reachable_as_attributes():
    import bayesgen as bg

    assert bg.kernels.sweep_markers_gaussian is not None
    assert bg.data.Genotypes is bg.Genotypes


def test_arviz_is_imported_without_numba_and_numba_is_restored():
    # arviz's import-time numba compilation is skipped (start-up); our kernels still get numba.
    code = (
        "import numba\nimport bayesgen.output.inference_data\nimport arviz\n"
        "assert sys.modules['numba'] is numba\nassert not arviz.Numba.numba_flag"
    )
    assert {"arviz", "numba"} <= _loaded_after(code)
