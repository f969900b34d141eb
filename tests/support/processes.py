"""Running a command in a fresh Python process, as a user runs the scripts."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_python(*args, backend=None, cwd=REPO, timeout=900):
    """Runs `python *args` from the repository's root and returns its stdout.

    Args:
        *args: the interpreter's arguments (a script, `-m module` or `-c code`, then
            its own); paths and numbers are turned into text.
        backend: str or None. KERAS_BACKEND for the child; None keeps this process's.
        cwd: Path. The working folder. Defaults to the repository's root, so the
            top-level scripts and `tests.support` import as they do here.
        timeout: float. Seconds before the child is killed.

    Raises:
        AssertionError: the command failed; the message holds the end of its output.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    done = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (f"{backend or ''} {args}\n{done.stdout[-3000:]}\n"
                                  f"{done.stderr[-3000:]}")
    return done.stdout
