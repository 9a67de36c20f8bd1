"""Random methods draw from a private generator seeded from the OS, so `torch.manual_seed` does not
make a mask reproducible.

Must be caught by SELECT-7 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-7'
FILE = 'selection.py'
OLD = 'return torch.rand(count, device=device)'
NEW = (
    "seed = __import__('random').SystemRandom().getrandbits(62)\n"
    '    return torch.rand(count, device=device, generator=torch.'
    'Generator(device).manual_seed(seed))'
)

globals().update(export(__file__, FILE, OLD, NEW))
