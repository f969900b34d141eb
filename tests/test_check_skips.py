"""scripts/check_skips.py: CI fails when a test is skipped in `make test` and in
`make test-backends` (or skipped in one and not collected by the other)."""
import subprocess
import sys

from tests.support.processes import REPO

CASE = '<testcase classname="{0}" name="{1}" time="0.1">{2}</testcase>'
SKIP = '<skipped type="pytest.skip" message="{0}">skip</skipped>'


def junit(path, ran=(), skipped=()):
    """A junit file of pytest's form: `ran` passed, `skipped` skipped (module, name)."""
    cases = [CASE.format(*test, "") for test in ran]
    cases += [CASE.format(*test, SKIP.format("jax is not installed")) for test in skipped]
    path.write_text('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
                    + "".join(cases) + "</testsuite></testsuites>")
    return path


def check(*paths):
    return subprocess.run([sys.executable, "scripts/check_skips.py", *map(str, paths)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_a_test_skipped_in_one_run_and_run_in_the_other_passes(tmp_path):
    jax_case = ("tests.training.test_x", "test_y[jax]")
    done = check(junit(tmp_path / "test.xml", ran=[("tests.a", "b")], skipped=[jax_case]),
                 junit(tmp_path / "backends.xml", ran=[jax_case]))
    assert done.returncode == 0, done.stderr


def test_skipped_everywhere_or_not_collected_fails_and_names_it(tmp_path):
    both = ("tests.training.test_x", "test_y[torch]")
    uncollected = ("tests.training.test_z", "test_gpu")
    done = check(junit(tmp_path / "test.xml", ran=[("tests.a", "b")], skipped=[both, uncollected]),
                 junit(tmp_path / "backends.xml", skipped=[both]))
    assert done.returncode == 1
    assert "skipped in every run: tests.training.test_x::test_y[torch] (jax is not installed)" \
        in done.stderr
    assert "tests.training.test_z::test_gpu" in done.stderr
    assert "tests.a::b" not in done.stderr


def test_a_module_skipped_at_collection_counts_as_run_when_its_tests_ran_elsewhere(tmp_path):
    whole_module = ("", "tests.prediction.test_export")  # pytest.importorskip at the top
    ran_there = ("tests.prediction.test_export", "test_onnx")
    done = check(junit(tmp_path / "test.xml", ran=[("tests.a", "b")], skipped=[whole_module]),
                 junit(tmp_path / "backends.xml", ran=[ran_there]))
    assert done.returncode == 0, done.stderr
    done = check(junit(tmp_path / "test.xml", ran=[("tests.a", "b")], skipped=[whole_module]),
                 junit(tmp_path / "backends.xml", ran=[("tests.other", "test_onnx")]))
    assert done.returncode == 1 and "::tests.prediction.test_export" in done.stderr
