"""The suite's tiers hold: markers by directory, a parallel README command whose benchmark
figures still print, collection without the training stack, an in-process unit tier.

Each check runs pytest in a subprocess (so they are `slow`), on the real tests/conftest.py.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
_MARKERS = """
def pytest_collection_finish(session):
    for item in session.items:
        print("MARKS", item.nodeid, ",".join(sorted({m.name for m in item.iter_markers()})))
"""


def _pytest(*args: str, cwd: Path = REPO, plugins: Path = REPO) -> subprocess.CompletedProcess:
    """pytest ARGS in a subprocess; `plugins` is a folder whose modules `-p` may name."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(plugins)])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip


def _readme_test_command() -> list[list[str]]:
    """The README's test command (what .ci/run runs), split into its pytest invocations."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    command = lines[lines.index("<!-- setup:test -->") + 2]
    return [shlex.split(part) for part in command.split("&&")]


def test_the_readme_runs_the_suite_in_parallel_then_the_wall_clock_benchmarks_alone():
    parallel, alone = _readme_test_command()
    assert parallel[:3] == ["python", "-m", "pytest"] and "-n" in parallel
    assert parallel[-2:] == ["-m", "not wallclock"]
    assert alone == ["python", "-m", "pytest", "-m", "wallclock"]
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert any(requirement.startswith("pytest-xdist") for requirement in dev)
    declared = {m.split(":")[0] for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"bench", "e2e", "slow", "wallclock"} <= declared


@pytest.mark.slow
def test_markers_follow_the_directories(tmp_path):
    (tmp_path / "show_marks.py").write_text(_MARKERS)
    paths = ("tests/bench", "tests/e2e", "tests/engines", "tests/unit/test_packaging.py")
    done = _pytest("--collect-only", "-q", "-p", "show_marks", *paths, plugins=tmp_path)
    marks = {}
    for line in done.stdout.splitlines():
        if line.startswith("MARKS "):
            _, nodeid, names = [*line.split(" ", 2), ""][:3]
            marks[nodeid] = set(names.split(",")) - {""}
    assert done.returncode == 0 and marks, done.stdout[-2000:] + done.stderr[-2000:]
    for nodeid, names in marks.items():
        top = nodeid.split("/")[1]
        expected = {"bench": {"bench"}, "e2e": {"e2e", "slow"}, "engines": {"slow"}}.get(top, set())
        assert expected <= names, (nodeid, names)
        assert top != "unit" or not names & {"bench", "e2e"}, (nodeid, names)
    tmux_bench = [n for n in marks if n.startswith("tests/bench/test_bench_tui.py")]
    assert tmux_bench and all("e2e" in marks[n] for n in tmux_bench)  # it needs tmux


@pytest.mark.slow
def test_benchmark_figures_print_from_parallel_workers():
    bench = "tests/bench/test_bench_runs.py::test_poll_cost_while_logging_50_steps_per_second"
    done = _pytest("-n", "1", "-m", "wallclock", bench)
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.split("benchmarks", 1)
    assert len(summary) == 2, done.stdout[-3000:]
    assert "one poll, 5 new steps on a 10k-step run, p95:" in summary[1]


@pytest.mark.slow
def test_a_test_module_that_imports_the_training_stack_is_a_collection_error(tmp_path):
    (tmp_path / "test_heavy.py").write_text("import datasets\n\n\ndef test_x():\n    pass\n")
    (tmp_path / "test_light.py").write_text("def test_y():\n    pass\n")
    isolated = ("-c", os.devnull, "--rootdir", str(tmp_path))
    done = _pytest("--collect-only", "-p", "tests.conftest", *isolated, str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert "ERROR collecting test_heavy.py" in done.stdout
    assert "imported" in done.stdout and "datasets" in done.stdout
    assert "test_light.py" not in done.stdout.split("ERROR", 1)[1]


@pytest.mark.slow
def test_a_unit_test_that_starts_a_process_must_be_marked_slow(tmp_path):
    (tmp_path / "test_spawns.py").write_text(textwrap.dedent("""
        import subprocess
        import pytest

        def test_unmarked():
            subprocess.run(["true"], check=True)

        @pytest.mark.slow
        def test_marked():
            subprocess.run(["true"], check=True)

        def test_in_process():
            assert sum([1, 2]) == 3
    """))  # fmt: skip
    isolated = (
        "-c",
        os.devnull,
        "--rootdir",
        str(tmp_path),
        "-W",
        "ignore::pytest.PytestUnknownMarkWarning",
    )
    done = _pytest("-p", "tests.unit.conftest", *isolated, str(tmp_path), cwd=tmp_path)
    assert "3 passed, 1 error" in done.stdout, done.stdout[-3000:]  # the error: teardown
    assert "ERROR test_spawns.py::test_unmarked" in done.stdout
    assert "started 1 process(es), first: true" in done.stdout
    assert "mark it @pytest.mark.slow" in done.stdout
