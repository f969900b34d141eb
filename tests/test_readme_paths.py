"""Every Python file and test the README cites exists, so a reader can find the evidence.

A citation is a code span (`...`) whose first word (after `python`) is a `.py` path,
optionally with `::name`, or a bare `::name`, which belongs to the file cited last
(`tests/a.py::test_x`, `::test_y`). A path with a folder is taken from the repository's
root, as is a bare file name found there (`models.py`); any other bare name must name
exactly one file of the repository (`test_data_loader.py`); a `::name` must be
a function or class defined at the top of that file.
"""
import ast
import re

import pytest

from tests.support.processes import REPO

README = REPO / "README.md"
CITATION = re.compile(r"^(?P<path>[\w./*-]+\.py)?(?:::(?P<name>\w+))?$")
SKIPPED_FOLDERS = {".venv", ".git", "__pycache__", "demo_data", "demo_output", "output"}


def cited(text):
    """(path or None, name or None) of each citation of `text`, in order."""
    found = []
    for span in re.findall(r"`([^`\n]+)`", text):
        words = span.split()
        word = words[1] if words[0] == "python" and len(words) > 1 else words[0]
        match = CITATION.match(word)
        if match and (match["path"] or match["name"]):
            found.append((match["path"], match["name"]))
    return found


def repository_files():
    return [path for path in REPO.rglob("*.py")
            if not SKIPPED_FOLDERS & set(path.relative_to(REPO).parts)]


def resolve(path, files):
    """The files a cited path names: one for a path or a bare name, any for a glob."""
    if "*" in path:
        return [f for f in files if f.relative_to(REPO).match(path)]
    if "/" in path or (REPO / path).is_file():  # a bare name at the root: a top-level script
        return [REPO / path] if (REPO / path).is_file() else []
    return [f for f in files if f.name == path]


def defined_names(path):
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def stale_citations(text, files):
    """Each citation of `text` that names no file, several files, or no definition."""
    stale, current = [], None
    for path, name in cited(text):
        if path is not None:
            matches = resolve(path, files)
            if not matches or ("*" not in path and len(matches) > 1):
                stale.append(f"{path}: {len(matches)} files")
                current = None
                continue
            current = matches[0]
        if name is not None:
            if current is None:
                stale.append(f"::{name}: no file before it")
            elif name not in defined_names(current):
                stale.append(f"{current.relative_to(REPO)}::{name}: not defined there")
    return stale


def test_every_cited_file_and_test_exists():
    assert stale_citations(README.read_text(), repository_files()) == []


def test_the_readme_cites_tests_and_benchmarks():
    # Guards the parser: a README whose citations it no longer sees would pass above.
    citations = cited(README.read_text())
    assert sum(name is not None for _, name in citations) >= 20
    assert any(path and path.startswith("benchmarks/") for path, _ in citations)


@pytest.mark.parametrize("citation, problem", [
    ("`tests/data/test_data_imageio.py::test_masks`", "0 files"),
    ("`tests/conftest.py::no_such_fixture`", "not defined there"),
    ("`conftest.py`", "files"),  # several conftest.py: ambiguous
    ("`::test_alone`", "no file before it"),
    ("`benchmarks/bench_nothing.py --fast`", "0 files"),
])
def test_a_stale_citation_is_reported(citation, problem):
    stale = stale_citations(f"see {citation} here", repository_files())
    assert len(stale) == 1 and problem in stale[0]


def test_a_later_name_belongs_to_the_file_cited_before_it():
    text = "`tests/conftest.py::repo_root`, `::original_checkpoint_dir` and `::nothing`"
    assert stale_citations(text, repository_files()) == [
        "tests/conftest.py::nothing: not defined there"]
