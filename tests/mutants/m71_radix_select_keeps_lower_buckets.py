"""The radix select, which ranks 2**20 scores and more, keeps the candidates of the buckets below
the k-th smallest's as well as those in it: the threshold comes out too low and large tensors get
fewer entries pruned than k. Smaller tensors are not affected.

Must be caught by SELECT-1 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-1'
FILE = 'selection.py'
OLD = 'candidates = [chunk[_digits(chunk, shift) == digit] for chunk in candidates]'
NEW = 'candidates = [chunk[_digits(chunk, shift) <= digit] for chunk in candidates]'

globals().update(export(__file__, FILE, OLD, NEW))
