"""The experiments' tests share odd_values.py (what every fuzz test of an experiment checks)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # so that the tests can `import odd_values`
