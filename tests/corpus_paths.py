"""Where the shared corpus of real manifests lives: ../shared/corpus beside the clone (absent in a
user's clone, where the tests that need it skip)."""
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
