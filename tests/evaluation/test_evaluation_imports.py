"""The package's modules import one another without a circle (native.py and the evaluator
once did: each needed the other, so SplitScores moved to evaluation/scores.py)."""
import ast
import graphlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "attention_deeplab"


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree, modules):
    """The package's modules a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attention_deeplab"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
    return found


def import_graph():
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported(ast.parse(path.read_text()), paths) - {name}
            for name, path in paths.items()}


def test_no_module_of_the_package_imports_itself_in_a_circle():
    graph = import_graph()
    assert "attention_deeplab.evaluation.scores" in graph["attention_deeplab.evaluation.native"]
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None
