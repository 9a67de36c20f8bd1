"""Device identity: is a tensor on the device the run asked for?

`torch.device('cuda')` is not equal to a CUDA tensor's `device(type='cuda', index=0)`, so comparing
devices with `==` fails a correct implementation on every GPU. The rule, decided here once:

- a requested device without an index (`cuda`) means the current device of that type
  (`torch.cuda.current_device()`), as torch itself reads it when it allocates;
- a requested device with an index (`cuda:1`) means exactly that one;
- device types without indices (`cpu`, `meta`) ignore any index: `cpu:0` is the CPU.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# Types whose tensors carry no index: torch reports `device(type='cpu')` whatever was asked.
INDEXLESS = frozenset({"cpu", "meta"})

CurrentIndex = Callable[[str], "int | None"]


def current_index(device_type: str) -> int | None:
    """The index torch allocates on for a device of `device_type` given without one."""
    if device_type in INDEXLESS:
        return None
    backend = getattr(torch, device_type, None)
    current = getattr(backend, "current_device", None)
    if current is None:
        return 0
    try:
        return int(current())
    except Exception:  # a backend that is not initialised here: its first device
        return 0


def concrete(device: torch.device | str, current: CurrentIndex = current_index) -> torch.device:
    """`device` with the index it stands for: `cuda` -> `cuda:<current>`, `cpu:0` -> `cpu`."""
    device = torch.device(device)
    if device.type in INDEXLESS:
        return torch.device(device.type)
    index = device.index if device.index is not None else current(device.type)
    return torch.device(device.type, index)


def same_device(seen: torch.device | str, wanted: torch.device | str,
                current: CurrentIndex = current_index) -> bool:
    """Whether a tensor on `seen` is on the device `wanted` names (see the module's rule).
    `current` gives the current index of a device type; tests pass their own."""
    return concrete(seen, current) == concrete(wanted, current)


def generator_state(device: torch.device | str) -> torch.Tensor | None:
    """The state of the default random generator of `device` (a copy), or None where its type
    has none that torch exposes (`meta`): equal states before and after a call mean it drew
    nothing there."""
    device = torch.device(device)
    if device.type == "cpu":
        return torch.random.get_rng_state()
    getter = getattr(getattr(torch, device.type, None), "get_rng_state", None)
    return None if getter is None else getter(concrete(device))
