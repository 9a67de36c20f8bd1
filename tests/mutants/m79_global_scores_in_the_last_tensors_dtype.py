"""Global L1 pruning compares the scores of all tensors in the last tensor's dtype instead of their
promoted one: a float16 tensor after a float32 one rounds the float32 scores, so that entries
differing in float32 tie and the tie rule prunes the wrong one.

Must be caught by GLOBAL-2 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-2'
FILE = 'prune.py'
OLD = 'magnitudes = [magnitude_scores(s.detach().to(score_dtype)) for s in scores]'
NEW = 'magnitudes = [magnitude_scores(s.detach().to(scores[-1].dtype)) for s in scores]'

globals().update(export(__file__, FILE, OLD, NEW))
