import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzzing  # noqa: E402,F401  - the Hypothesis profile, loaded before any test module is collected
