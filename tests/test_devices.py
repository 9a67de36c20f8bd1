"""Device identity (conformance/devices.py): the rule every DEVICE-1 check uses, pinned with
`torch.device` values so that it is checked without the devices themselves."""

from __future__ import annotations

import re

import pytest
import torch

from conformance import checks as ck
from conformance import devices


def current(index: int):
    return lambda device_type: None if device_type in devices.INDEXLESS else index


D = torch.device


@pytest.mark.parametrize(("seen", "wanted", "index", "same"), [
    (D("cuda", 0), D("cuda"), 0, True),  # the H200 run: `cuda` asked, `cuda:0` seen
    (D("cuda", 1), D("cuda"), 1, True),  # `cuda` is the current device, whichever it is
    (D("cuda", 0), D("cuda"), 1, False),
    (D("cuda", 1), D("cuda", 1), 0, True),  # an explicit index is exactly that device
    (D("cuda", 0), D("cuda", 1), 0, False),
    (D("cuda", 0), D("cuda", 0), 3, True),
    (D("xpu", 0), D("xpu"), 0, True),
    (D("cpu"), D("cpu"), 0, True),
    (D("cpu"), D("cpu", 0), 0, True),  # the CPU has no index
    (D("meta"), D("meta"), 0, True),
    (D("meta"), D("cpu"), 0, False),
    (D("cuda", 0), D("cpu"), 0, False),
    (D("cpu"), D("cuda"), 0, False),
])
def test_same_device(seen, wanted, index, same):
    assert devices.same_device(seen, wanted, current(index)) is same
    assert devices.same_device(str(seen), str(wanted), current(index)) is same


def test_concrete_fills_in_the_current_index():
    assert devices.concrete("cuda", current(2)) == D("cuda", 2)
    assert devices.concrete("cuda:1", current(2)) == D("cuda", 1)
    assert devices.concrete("cpu:0", current(2)) == D("cpu")


def test_current_index_of_this_machine():
    assert devices.current_index("cpu") is None and devices.current_index("meta") is None
    if not torch.cuda.is_available():
        assert devices.current_index("cuda") == 0  # not initialised: its first device


def test_expect_on_device_accepts_the_requested_device_and_names_both_otherwise():
    ck.expect_on_device(torch.ones(1), D("cpu", 0), "DEVICE-1", "device of w")
    ck.expect_on_device(torch.ones(1, device="meta"), D("meta"), "DEVICE-1", "device of w")
    with pytest.raises(ck.SpecViolation, match=r"DEVICE-1: device of w: expected meta \(asked "
                                               r"for meta\), seen cpu"):
        ck.expect_on_device(torch.ones(1), D("meta"), "DEVICE-1", "device of w")


@pytest.mark.parametrize("impl", ["reference", "torch"])
def test_device_properties_accept_an_indexed_device(impl):
    """A CPU proxy of the H200 run's false DEVICE-1 failures: `--device cpu:0` asks for a device
    with an index, tensors report `cpu`, and a correct implementation must pass."""
    from support import run_suite

    result = run_suite(impl, "--device", "cpu:0", "-k", "stay_on or keeps_every", "-q")
    assert result.returncode == 0, result.stdout
    assert " passed" in result.stdout and not re.search(r"\d+ failed", result.stdout)
