"""What the benchmarks share: one way to start a measured child process, and claims checked.

Each benchmark ends by calling `check` once per claim it makes; `make bench`
collects the lines it prints (one per claim: the claim, the measured ratio,
PASS or FAIL) and fails when any claim fails.
"""
import os
import subprocess
import sys


def start_python(*args, env=None, **popen):
    """Starts `python *args` in a fresh interpreter (the benchmarks' only way to start
    a child), with `env` added to this process's environment."""
    return subprocess.Popen([sys.executable, *map(str, args)],
                            env=None if env is None else {**os.environ, **env}, **popen)


def run_python(*args, env=None):
    """Runs `python *args` to its end; returns (exit status, stdout, stderr) as text."""
    process = start_python(*args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    out, err = process.communicate()
    return process.returncode, out, err


def check(claim, measured, target, at_most=False, unit="x"):
    """Prints one claim's line for `make bench` and says whether it holds.

    Args:
        claim: str. What is claimed, in words.
        measured: float. The ratio (or value) measured in this run.
        target: float. The bound the claim promises.
        at_most: bool. The measurement must not exceed `target` (else: reach it).
        unit: str. Printed after the numbers. Defaults to "x" (a ratio).

    Returns:
        bool: whether the claim holds.
    """
    holds = measured <= target if at_most else measured >= target
    bound = "<=" if at_most else ">="
    print(f"CLAIM {'PASS' if holds else 'FAIL'} | {claim} | measured {measured:.3f}{unit} "
          f"(claim {bound} {target:g}{unit})", flush=True)
    return holds
