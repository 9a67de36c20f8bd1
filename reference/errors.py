"""Exception classes and argument checks shared by the reference (ERRORS, DEVICE-6).

Where torch 2.13 raises another type than the spec asks for, the reference raises a class that
subclasses both, so that code written against torch (catching torch's type) keeps working.
"""

from __future__ import annotations

import torch


class ShapeMismatchError(ValueError, AssertionError):
    """A tensor argument has another shape than the parameter (ERRORS-3, CUSTOM-5).

    torch 2.13 checks these shapes with `assert`, hence the `AssertionError` base.
    """


class DeviceMismatchError(ValueError, RuntimeError):
    """Tensors that must share a device do not (DEVICE-6); torch fails later with RuntimeError."""


class InvalidNormError(ValueError, RuntimeError):
    """`n` is not a norm order of STRUCT-2 (STRUCT-6); torch raises RuntimeError from torch.norm."""


class NotATensorError(TypeError, AttributeError):
    """A tensor argument is something else (ERRORS-3); torch fails reading its `.shape`."""


class NotAppliedError(RuntimeError, AssertionError):
    """A method that was never applied to a tensor is asked for its module's tensors.

    torch 2.13 raises AssertionError (or AttributeError) here.
    """


def check_tensor(value: object, what: str) -> torch.Tensor:
    """Return `value` if it is a tensor, else raise NotATensorError naming it (ERRORS-3)."""
    if not isinstance(value, torch.Tensor):
        raise NotATensorError(
            f"{what} must be a torch.Tensor, got {type(value).__name__}: {value!r}"
        )
    return value


def check_same_shape(value: torch.Tensor, expected: torch.Tensor, what: str, of: str) -> None:
    """Raise ShapeMismatchError naming both shapes unless they agree (ERRORS-3, CUSTOM-5)."""
    if value.shape != expected.shape:
        raise ShapeMismatchError(
            f"{what} has shape {tuple(value.shape)}, expected the shape of {of}: "
            f"{tuple(expected.shape)}"
        )


def check_same_device(value: torch.Tensor, expected: torch.Tensor, what: str, of: str) -> None:
    """Raise DeviceMismatchError naming both devices unless they agree (DEVICE-6)."""
    if value.device != expected.device:
        raise DeviceMismatchError(
            f"{what} is on device {value.device}, expected the device of {of}: {expected.device}"
        )
