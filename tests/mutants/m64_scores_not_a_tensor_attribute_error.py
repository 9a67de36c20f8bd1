"""Importance scores that are not a tensor are rejected with AttributeError (as torch fails on
`.shape`) instead of TypeError.

Must be caught by ERRORS-3 (ERRORS).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ERRORS', 'ERRORS-3'
FILE = 'errors.py'
OLD = 'class NotATensorError(TypeError, AttributeError):'
NEW = 'class NotATensorError(AttributeError):'

globals().update(export(__file__, FILE, OLD, NEW))
