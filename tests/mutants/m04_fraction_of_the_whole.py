"""On a tensor already pruned, a float amount counts k over all entries instead of the remaining
ones (it still prunes only remaining entries): 0.5 then 0.5 prunes everything.

Must be caught by AMOUNT-3 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-3'
FILE = 'base.py'
OLD = (
    '        partial = method.compute_mask(candidates, default_ma'
    'sk=mask.new_ones(candidates.shape))\n'
)
NEW = (
    '        # k over the whole tensor: the entries pruned earlie'
    'r join as unprunable +inf scores.\n'
    '        padded = torch.cat([candidates, candidates.new_full('
    "(mask.numel() - candidates.numel(),), float('inf'))])\n"
    '        partial = method.compute_mask(padded, default_mask=m'
    'ask.new_ones(padded.shape))[: candidates.numel()]\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
