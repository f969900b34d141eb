"""Fails when a test ran in none of the given pytest runs: skipped in each run that
collected it, and never passed or failed in any (CI: `make test`, then `make test-backends`).

    python scripts/check_skips.py test-results/test.xml test-results/test-backends.xml

Each argument is a `pytest --junitxml` file. A test that one run skips and another
does not collect counts as skipped in both; one that any run executes is fine.
Exit status 1 lists the tests that never ran, with a skip reason of each.
"""
import argparse
import sys
import xml.etree.ElementTree as ET


def read_junit(path):
    """The test cases of one junit file: {test id: skip reason, or None if it ran}."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        skipped = case.find("skipped")
        cases[test] = None if skipped is None else (skipped.get("message") or "skipped")
    return cases


def never_run(paths):
    """Tests skipped in every run that collected them: {test id: a skip reason}, sorted."""
    ran, skipped = set(), {}
    for path in paths:
        for test, reason in read_junit(path).items():
            if reason is None:
                ran.add(test)
            else:
                skipped.setdefault(test, reason)
    # A module skipped whole at collection (`::tests.x.test_y`) ran if any of its tests did.
    modules = {test.split("::")[0] for test in ran}
    modules |= {module.rsplit(".", 1)[0] for module in modules}  # a class's module
    return {test: skipped[test] for test in sorted(set(skipped) - ran)
            if not (test.startswith("::") and test[2:] in modules)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit", nargs="+", help="pytest --junitxml files, one per run")
    args = parser.parse_args(argv)
    missing = never_run(args.junit)
    for test, reason in missing.items():
        print(f"skipped in every run: {test} ({reason})", file=sys.stderr)
    if missing:
        print(f"{len(missing)} test(s) ran nowhere: run them in one of "
              f"{', '.join(args.junit)} (Makefile test-backends) or remove them.",
              file=sys.stderr)
        return 1
    print(f"every test ran in at least one of {len(args.junit)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
