"""Masks drawn as small character grids, so a failure about *which* entries were pruned can be seen.

`#` kept, `.` pruned; in the seen grid a differing cell is drawn `X` (kept but should be pruned) or
`o` (pruned but should be kept). Tensors of more than two dims are drawn as rows of their first
dim by the flattened rest; anything larger than the grid limit is summarised by counts per row.
"""

from __future__ import annotations

import torch

MAX_SIDE = 32
KEPT, PRUNED, WRONGLY_KEPT, WRONGLY_PRUNED = "#", ".", "X", "o"


def as_grid(mask: torch.Tensor) -> torch.Tensor:
    """A bool (kept) matrix: 0-d and 1-d become one row, n-d rows of dim 0."""
    kept = mask.detach().ne(0).cpu()
    if kept.dim() == 0:
        return kept.reshape(1, 1)
    if kept.dim() == 1:
        return kept.reshape(1, -1)
    return kept.reshape(kept.shape[0], -1)


def draw(mask: torch.Tensor, reference: torch.Tensor | None = None) -> list[str]:
    """Lines of the grid; with `reference`, cells that differ from it are marked."""
    grid = as_grid(mask)
    ref = None if reference is None else as_grid(reference)
    rows, cols = grid.shape
    if rows > MAX_SIDE or cols > MAX_SIDE:
        return _summary(grid, ref)
    lines = []
    for r in range(rows):
        cells = []
        for c in range(cols):
            kept = bool(grid[r, c])
            if ref is not None and kept != bool(ref[r, c]):
                cells.append(WRONGLY_KEPT if kept else WRONGLY_PRUNED)
            else:
                cells.append(KEPT if kept else PRUNED)
        lines.append("".join(cells))
    return lines


def _summary(grid: torch.Tensor, ref: torch.Tensor | None) -> list[str]:
    rows, cols = grid.shape
    lines = [f"{rows}x{cols} mask, kept {int(grid.sum())} of {grid.numel()}"]
    if ref is not None and ref.shape == grid.shape:
        differ = grid.ne(ref)
        bad_rows = differ.any(dim=1).nonzero().flatten().tolist()
        if bad_rows:
            first = tuple(differ.nonzero()[0].tolist())
            lines.append(f"{int(differ.sum())} cells differ, the first at {first}, in rows "
                         f"{bad_rows[:16]}" + (" ..." if len(bad_rows) > 16 else ""))
    return lines


def masks_side_by_side(
    expected: torch.Tensor, seen: torch.Tensor,
    expected_label: str = "expected", seen_label: str = "seen",
) -> str:
    """Expected beside seen; the seen grid marks the cells that differ."""
    if as_grid(expected).shape != as_grid(seen).shape:
        return (f"{expected_label} shape {tuple(expected.shape)}, "
                f"{seen_label} shape {tuple(seen.shape)}")
    left = draw(expected)
    right = draw(seen, reference=expected)
    width = max(len(expected_label), *(len(line) for line in left))
    lines = [f"{expected_label:<{width}}   {seen_label}"]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        lines.append(f"{a:<{width}}   {b}")
    legend = f"({KEPT} kept, {PRUNED} pruned, {WRONGLY_KEPT} kept but expected pruned, " \
             f"{WRONGLY_PRUNED} pruned but expected kept)"
    return "\n".join([*lines, legend])


def beside_default(default: torch.Tensor, mask: torch.Tensor, labels: tuple[str, str]) -> str:
    """A mask computed from `default` beside it (# kept, . pruned); in the mask, an entry kept
    although `default` prunes it is X and a value other than 0 and 1 is ?: a user's method may
    return any tensor, where masks_side_by_side compares two binary masks."""
    left = draw(default)
    grid, before = as_grid(mask), as_grid(default)
    if grid.shape != before.shape or len(left) != grid.shape[0]:
        return masks_side_by_side(default, mask, *labels)  # too large: counts per row
    values = mask.detach().cpu()
    values = values.reshape(grid.shape) if values.dim() >= 1 else values.reshape(1, 1)
    right = []
    for r in range(grid.shape[0]):
        row = []
        for col in range(grid.shape[1]):
            value = float(values[r, col])
            if value not in (0.0, 1.0):
                row.append("?")
            elif value and not bool(before[r, col]):
                row.append("X")
            else:
                row.append(KEPT if value else PRUNED)
        right.append("".join(row))
    width = max(len(labels[0]), *(len(line) for line in left))
    lines = [f"{labels[0]:<{width}}   {labels[1]}"]
    lines += [f"{a:<{width}}   {b}" for a, b in zip(left, right, strict=True)]
    cells = "".join(right)
    legend = [f"{KEPT} kept", f"{PRUNED} pruned"]
    legend += [f"X kept although {labels[0]} prunes it"] if "X" in cells else []
    legend += ["? neither 0 nor 1"] if "?" in cells else []
    lines.append(f"({', '.join(legend)})")
    return "\n".join(lines)

