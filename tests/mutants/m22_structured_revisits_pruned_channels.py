"""A structured call after an earlier one ranks all channels, the fully pruned ones too (their norm
0 makes them the first choice), so it prunes fewer new channels than asked.

Must be caught by COMPOSE-2 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-2'
FILE = 'methods.py'
OLD = '    remaining = remaining_channel_flags(mask, dim)\n'
NEW = '    remaining = torch.ones(mask.shape[dim], dtype=torch.bool, device=mask.device)\n'

globals().update(export(__file__, FILE, OLD, NEW))
