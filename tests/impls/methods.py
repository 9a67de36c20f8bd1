"""Pruning methods written by users, for `prune-conformance method` (conformance.method_contract).

`FooBarPruningMethod` is the tutorial's, unchanged; the others keep the contract in other ways
(a structured method, a seeded random one, one written against the reference), or break one
clause each, the way a user's method typically goes wrong.
"""

import torch
import torch.nn.utils.prune as prune

import reference.prune as reference_prune


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor
    """
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


class ReferenceFooBar(reference_prune.BasePruningMethod):
    """The tutorial's method written against the reference's base class."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


class EveryOtherChannel(prune.BasePruningMethod):
    """Structured: prune every other channel along `dim`."""

    PRUNING_TYPE = "structured"

    def __init__(self, dim=-1):
        self.dim = dim

    def compute_mask(self, t, default_mask):
        index = torch.arange(0, t.shape[self.dim], 2, device=default_mask.device)
        return default_mask.clone().index_fill(self.dim, index, 0)


class RandomHalf(prune.BasePruningMethod):
    """Random, reproducible: draws from torch's generator of the tensor's device."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, p=0.5):
        self.p = p

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask[torch.rand_like(t, dtype=torch.float32) < self.p] = 0
        return mask


# --- broken variants: each breaks one clause --------------------------------------------------

class RevivingFooBar(prune.BasePruningMethod):
    """Starts from ones instead of default_mask: revives what earlier calls pruned (COMPOSE-1)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = torch.ones_like(default_mask)
        mask.view(-1)[::2] = 0
        return mask


class BoolMaskFooBar(prune.BasePruningMethod):
    """Returns a bool mask instead of one in default_mask's dtype (REPARAM-2)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone().bool()
        mask.view(-1)[::2] = False
        return mask


class Float64FooBar(prune.BasePruningMethod):
    """Returns a float64 mask whatever the parameter's dtype (REPARAM-2)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone().double()
        mask.view(-1)[::2] = 0
        return mask


class HalvingFooBar(prune.BasePruningMethod):
    """Scales entries by 0.5 instead of pruning them: a mask that is not binary (REPARAM-2)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] *= 0.5
        return mask


class StructuredWithoutDim(prune.BasePruningMethod):
    """Says 'structured' but has no `dim` attribute (COMPOSE-5)."""

    PRUNING_TYPE = "structured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask[::2] = 0
        return mask


class PartialChannels(prune.BasePruningMethod):
    """Says 'structured' but prunes single entries, not whole channels (COMPOSE-2)."""

    PRUNING_TYPE = "structured"

    def __init__(self, dim=0):
        self.dim = dim

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


class UnseededRandom(prune.BasePruningMethod):
    """Draws from a private generator seeded from the OS: torch.manual_seed does not reach it,
    so the same seed gives another mask each call (SELECT-7)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self):
        self.generator = torch.Generator()
        self.generator.seed()

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        draws = torch.rand(t.shape, generator=self.generator).to(t.device)
        mask[draws < 0.5] = 0
        return mask


class FlatMask(prune.BasePruningMethod):
    """Returns the mask flattened: the wrong shape for every tensor of 2 or more dims (CUSTOM-1)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone().flatten()
        mask[::2] = 0
        return mask


class NoPruningType(prune.BasePruningMethod):
    """Forgets PRUNING_TYPE: a container cannot tell what the method acts on (COMPOSE-5)."""

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


# --- not methods at all -----------------------------------------------------------------------

class NotAMethod:
    """Has compute_mask but does not subclass BasePruningMethod."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask


def foobar_unstructured(module, name):
    """The tutorial's functional form: a function, not a class."""
    FooBarPruningMethod.apply(module, name)
    return module
