"""`random_unstructured` gives `amount` a default (0.5) that torch's signature does not have.

Must be caught by API-1 (API).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'API', 'API-1'
FILE = 'prune.py'
OLD = (
    'def random_unstructured(module: nn.Module, name: str, amount'
    ': int | float) -> nn.Module:'
)
NEW = (
    'def random_unstructured(module: nn.Module, name: str, amount'
    ': int | float = 0.5) -> nn.Module:'
)

globals().update(export(__file__, FILE, OLD, NEW))
