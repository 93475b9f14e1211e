"""The README's and the documentation's Python code and the scripts in ``examples/`` run as written.

README and docs rule: every fenced block opened with ```` ```python ```` is executed, top to bottom, in
one shared namespace (as cells of a notebook: a block may use names an earlier block
defined, e.g. ``bg`` or ``geno``). Other blocks (```` ```bash ````, plain ```` ``` ````) are not
run. Each block is compiled with README.md as its file name and its own line numbers, so a
failure points at the README line. Each page of ``docs/`` (``*.md``) runs the same way in a
namespace of its own, with ``BAYESGEN_EXAMPLE_QUICK=1`` set (its blocks use short chains as
written). A page whose code reads ``../shared/data`` runs with that path pointing at the
reference data beside the repository, and is skipped, saying so, when they are absent.

Examples: every ``examples/*.py`` is run as ``__main__`` with ``BAYESGEN_EXAMPLE_QUICK=1``
(tiny sizes and few draws; the default sizes are for users).

Both run in a temporary working directory with matplotlib's non-interactive backend
(``MPLBACKEND=Agg``), so that nothing is written into the repository and no window opens.
"""

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").rglob("*.md"))
SHARED_DATA = ROOT.parent / "shared" / "data"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number of the code, code) of every ```python block of a Markdown text."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _FENCE.finditer(text)]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A temporary working directory, the Agg backend, and figures closed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if "matplotlib" in sys.modules:  # the environment variable is read only on import
        sys.modules["matplotlib"].use("Agg")
    yield tmp_path
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def test_python_blocks_are_found_with_their_line_numbers():
    text = "intro\n```bash\nls\n```\n\n```python\nx = 1\ny = 2\n```\ntext\n```python\nz = x\n```\n"
    assert python_blocks(text) == [(7, "x = 1\ny = 2\n"), (12, "z = x\n")]


def test_every_readme_python_block_runs_as_written(sandbox):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 1, f"expected the README's Python example, found {len(blocks)}"
    namespace = {"__name__": "__readme__"}
    for line, code in blocks:
        # Leading newlines keep README line numbers in tracebacks.
        exec(compile("\n" * (line - 1) + code, str(README), "exec"), namespace)
    assert list(sandbox.iterdir()) == []


def test_docs_pages_are_found():
    names = {p.relative_to(ROOT / "docs").as_posix() for p in DOCS}
    assert {"getting-started.md", "guide/heritability.md", "guide/gwas.md", "api.md"} <= names, names


@pytest.mark.parametrize("page", DOCS, ids=[p.relative_to(ROOT / "docs").as_posix() for p in DOCS])
def test_every_docs_python_block_runs_as_written(page, sandbox, monkeypatch):
    name = page.relative_to(ROOT).as_posix()
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{name} has no Python block")
    if any("../shared/data" in code for _, code in blocks):
        if not SHARED_DATA.is_dir():
            pytest.skip(f"{name} reads ../shared/data, which is absent ({SHARED_DATA})")
        blocks = [(line, code.replace("../shared/data", SHARED_DATA.as_posix())) for line, code in blocks]
    monkeypatch.setenv("BAYESGEN_EXAMPLE_QUICK", "1")
    namespace = {"__name__": "__docs__"}
    for line, code in blocks:
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, sandbox, monkeypatch):
    monkeypatch.setenv("BAYESGEN_EXAMPLE_QUICK", "1")
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")


def test_examples_are_found():
    assert {p.name for p in EXAMPLES} >= {"heritability.py", "genomic_prediction.py", "diagnostics.py"}


def test_test_command_states_both_suite_times_and_the_quick_part_alone():
    """Issue 16 item 19: the README's test command ran 27 minutes and said so nowhere."""
    text = README.read_text(encoding="utf-8")
    command = next(line for line in text.splitlines() if line.startswith('pip install -e ".[test]"'))
    assert re.search(r"# \d+(\.\d+)? min \+ \d+ min", command), command
    intro = text.split("## What it fits")[0]
    assert re.search(r"quick suite \(`pytest`\s+alone: \d+ tests.*\) [\d.]+ min at load", intro)
    assert re.search(r"statistical\s+suite \(\d+ tests\) \d+ min at load", intro)
    assert "To run only the quick part, run `pytest`" in intro


def test_readme_is_a_landing_page_of_at_most_250_lines():
    """Issue 22 item 2: the reference, tutorials and benchmark history live in docs/."""
    n_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert n_lines <= 250, f"README.md has {n_lines} lines"


def test_readme_relative_links_point_at_files():
    """Links into docs/ are relative so that they work on GitHub and in a clone."""
    text = README.read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) if "://" not in t]
    assert len(targets) >= 10, targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_readme_example_prints_the_output_shown(sandbox, capsys):
    """The landing page's example and the table printed under it agree (seeded: the same draws).

    Means, sds and interval bounds within 0.01: a change of the sampler's draws for this seed
    fails it; paste the printed table (shown in the failure) under the example then.
    """
    text = README.read_text(encoding="utf-8")
    ((line, code),) = python_blocks(text)
    exec(compile("\n" * (line - 1) + code, str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    shown = re.search(r"\nprints .*?\n```\n(.*?)```", text, re.DOTALL).group(1)

    def rows(table):
        out = {}
        for row in table.splitlines():
            parts = row.split()
            if len(parts) == 9:
                out[parts[0]] = [float(v) for v in parts[1:5]]  # mean, sd, 2.5%, 97.5%
        return out

    expected, got = rows(shown), rows(printed)
    assert set(expected) == set(got) and len(expected) == 5, (expected, got)
    for name, values in expected.items():
        assert got[name] == pytest.approx(values, abs=0.01), f"{name}: the example now prints\n{printed}"
