"""What a device can compute: which float dtypes it prunes, detected once per process.

A device or release that lacks a kernel pruning needs (float64 on Apple's `mps`, float16 `topk` on
torch 2.1's CPU) would otherwise crash every property that draws that dtype, each reported as a
bare RuntimeError. The strategies draw only the dtypes the device computes; the run's header names
the others with the reason.
"""

from __future__ import annotations

import torch

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

_DTYPE_PROBLEMS: dict[tuple[str, torch.dtype], str | None] = {}


def dtype_problem(device: torch.device | str, dtype: torch.dtype) -> str | None:
    """Why `device` cannot prune tensors of `dtype` (the operations pruning needs fail), or None.

    Cached per process: a device's support does not change during a run.
    """
    key = (str(device), dtype)
    if key not in _DTYPE_PROBLEMS:
        try:
            t = torch.arange(6, device=torch.device(device)).to(dtype).reshape(2, 3)
            t.abs().reshape(-1).topk(2, largest=False)
            torch.linalg.vector_norm(t, ord=1, dim=1)
            # A generator of its own: the probe must not move torch's global random state,
            # which properties seed and replay.
            generator = torch.Generator(device=torch.device(device)).manual_seed(0)
            torch.rand(3, device=torch.device(device), dtype=dtype, generator=generator)
            _DTYPE_PROBLEMS[key] = None
        except Exception as exc:
            _DTYPE_PROBLEMS[key] = (f"{dtype} is not supported on {device} "
                                    f"({type(exc).__name__}: {str(exc)[:200]})")
    return _DTYPE_PROBLEMS[key]


def supported_dtypes(device: torch.device | str) -> tuple[torch.dtype, ...]:
    return tuple(d for d in FLOAT_DTYPES if dtype_problem(device, d) is None)


def dtype_problems(device: torch.device | str) -> list[str]:
    """The reasons of the float dtypes `device` lacks, for the run's header."""
    return [p for p in (dtype_problem(device, d) for d in FLOAT_DTYPES) if p]
