"""Comparing evaluated runs: one table, paired statistics, cross-validation folds pooled."""
from attention_deeplab.comparison.compare import compare_runs
from attention_deeplab.errors import ComparisonError

__all__ = ["ComparisonError", "compare_runs"]
