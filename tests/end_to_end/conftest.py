"""Lets the end-to-end test import its pipeline module."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
