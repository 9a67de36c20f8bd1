"""Benchmarks of reference.prune against torch.nn.utils.prune (scripts/bench).

Timings live here, never in pass/fail tests (GUIDE.md). `cases` builds the workloads on tie-free
data, `measure` times them and measures their peak memory, `report` writes the table, `cli` ties
them together.
"""
