"""Which units to prune: the deterministic k-smallest selection and channel norms.

The k smallest scores are found with a linear-time selection of the k-th smallest instead of a
full top-k; entries below it are pruned, and of the entries equal to it only the lowest flat
indices (SELECT-3), so the result depends on the values alone, not on device, layout or threads.

Two algorithms give the same masks (DEVICE-4). On the CPU (`HOST_GUIDED_DEVICES`) the selection
reads counts on the host between passes: a radix select whose candidates shrink every round
(`torch.kthvalue` below 2**20 scores), and surplus ties given back by index. On every other
device a host read waits for all queued kernels, so the selection stays there
(reference.select_on_device): full passes with the state in device tensors.

Selections may be restricted to the entries a boolean `within` flags: a re-prune ranks the
remaining entries in place (COMPOSE-2) instead of gathering them.

Spec: SELECT-1, SELECT-2, SELECT-3, SELECT-4, STRUCT-1, STRUCT-2, STRUCT-3, DEVICE-4.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence

import torch

from reference.errors import InvalidNormError
from reference.select_on_device import KEY_DTYPE, smallest_k_on_device

# Norms of low-precision tensors are accumulated in float32: summing squares in float16 overflows
# and rounding the norms back to float16 would turn distinct channels into ties.
_ACCUMULATE_IN_FLOAT32 = (torch.float16, torch.bfloat16)

# The device types whose selection may read values on the host between passes. The others take
# the device-resident path; tests empty this set to drive that path on the CPU.
HOST_GUIDED_DEVICES = {"cpu"}

# Below this many scores kthvalue's copies are small and it is quicker than counting digits.
_RADIX_MIN = 1 << 20
# The radix select ranks 12 bits of the keys per round: 4096 bins, few enough that torch counts
# and sums them serially (it splits ops over 32768 elements across threads, which costs more
# than it saves on small arrays). It goes through the keys in chunks, so that its temporaries
# stay a chunk's size whatever the size of the scores.
_DIGIT_BITS = 12
_DIGIT_MASK = (1 << _DIGIT_BITS) - 1
_BINS = 1 << _DIGIT_BITS
_CHUNK = 1 << 22

Flags = torch.Tensor | None


def smallest_k(
    scores: torch.Tensor, k: int, within: Flags = None, *, nan_outside: bool = False
) -> torch.Tensor:
    """Boolean mask of the k smallest entries of the 1-d `scores` (among those `within` flags).

    Spec: SELECT-1, SELECT-3, SELECT-4, STRUCT-2.

    NaN ranks above +inf (SELECT-4); among equal scores the lowest index is chosen first (SELECT-3).
    """
    return smallest_k_of_pieces([scores], k, [within], nan_outside=nan_outside)[0]


def rank_outside_last(scores: torch.Tensor, within: Flags) -> bool:
    """Set the float `scores` outside `within` to NaN, in place; True if done.

    NaN ranks above every number and the NaNs tie (SELECT-4), so with k no more than the
    flagged entries the k-th smallest score is the same, and the host-guided path ranks the
    scores without looking at `within` (`nan_outside=True`), which then only splits NaN ties.
    For a caller's own copy of the scores: one pass instead of one per radix round.
    """
    if within is None or not scores.is_floating_point():
        return False
    scores.masked_fill_(within.logical_not(), math.nan)
    return True


def smallest_k_of_pieces(
    pieces: Sequence[torch.Tensor],
    k: int,
    within: Sequence[Flags] | None = None,
    *,
    nan_outside: bool = False,
) -> list[torch.Tensor]:
    """Boolean masks, one per piece, of the k smallest entries of the concatenation of the 1-d
    `pieces`, found without concatenating them (global pruning ranks many tensors together).

    Spec: SELECT-1, SELECT-3, SELECT-4, STRUCT-2, GLOBAL-2.

    `within`, one boolean tensor (or None: every entry) per piece, restricts the ranking to the
    flagged entries; k must not exceed their number. NaN ranks above +inf (SELECT-4); among
    equal scores the lowest index of the concatenation is chosen first (SELECT-3).
    `nan_outside`: the scores outside `within` are NaN (rank_outside_last).
    """
    flags = list(within) if within is not None else [None] * len(pieces)
    if k <= 0:
        return [torch.zeros_like(piece, dtype=torch.bool) for piece in pieces]
    if all(f is None for f in flags) and k >= sum(piece.numel() for piece in pieces):
        return [torch.ones_like(piece, dtype=torch.bool) for piece in pieces]
    if any(piece.device.type not in HOST_GUIDED_DEVICES for piece in pieces):
        return smallest_k_on_device(pieces, k, flags)
    threshold = kth_smallest(pieces, k, None if nan_outside else flags)
    nan_threshold = bool(torch.isnan(threshold))
    # With a NaN threshold every number is below it, and the ties are the NaNs.
    chosen = [
        torch.ones_like(piece, dtype=torch.bool) if nan_threshold else piece <= threshold
        for piece in pieces
    ]
    for mask, left in zip(chosen, flags, strict=True):
        # NaN scores outside `within` are above any numeric threshold already.
        if left is not None and (nan_threshold or not nan_outside):
            mask &= left
    # Every score equal to the threshold is chosen so far: give back the surplus ties of highest
    # index, last chunk of the last piece first, so that the lowest indices are pruned. Tie-free
    # scores have none; a few surplus ties are mostly all found in the last chunk.
    surplus = sum(int(torch.count_nonzero(mask)) for mask in chosen) - k
    for piece, mask in _chunks_from_the_end(pieces, chosen):
        if surplus <= 0:
            break
        ties = (torch.isnan(piece) if nan_threshold else piece == threshold) & mask
        # Only the tie indices are materialised, and only when some of them must be given back.
        given_back = ties.nonzero().squeeze(1)[-surplus:]
        mask[given_back] = False
        surplus -= given_back.numel()
    return chosen


def _chunks_from_the_end(
    pieces: Sequence[torch.Tensor], masks: Sequence[torch.Tensor]
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Aligned views of `pieces` and `masks`, _CHUNK entries each, highest indices first."""
    for piece, mask in zip(reversed(pieces), reversed(masks), strict=True):
        for start in reversed(range(0, piece.numel(), _CHUNK)):
            yield piece[start:start + _CHUNK], mask[start:start + _CHUNK]


def kth_smallest(
    pieces: Sequence[torch.Tensor], k: int, within: Sequence[Flags] | None = None
) -> torch.Tensor:
    """The k-th smallest entry (1 <= k <= total) of the concatenation of the 1-d `pieces` (of
    their entries that `within` flags), ranked as torch.kthvalue ranks them: NaN above +inf
    (SELECT-4), -0.0 equal to 0.0.

    On the CPU, kthvalue copies the scores and allocates an int64 index per entry. Large
    non-negative float scores (magnitudes, norms, uniform draws: all that the built-in methods
    rank) are ranked there by a radix select over their bit patterns instead; their callers set
    what `within` leaves out to NaN (rank_outside_last), so the radix select ranks all entries.
    """
    flags = list(within) if within is not None else [None] * len(pieces)
    keys = _order_keys(pieces) if all(f is None for f in flags) else None
    if keys is None:
        kept = [p if f is None else p[f] for p, f in zip(pieces, flags, strict=True)]
        scores = kept[0] if len(kept) == 1 else torch.cat(kept)
        return torch.kthvalue(scores, k).values
    dtype = pieces[0].dtype
    return torch.tensor(_kth_smallest_key(keys, k), dtype=KEY_DTYPE[dtype]).view(dtype)


def _order_keys(pieces: Sequence[torch.Tensor]) -> list[torch.Tensor] | None:
    """Integer keys ordered as the float `pieces`, or None where the radix select does not
    apply: few scores, mixed or other dtypes, a sign bit set.

    The bit pattern of a float without its sign bit, read as an int, grows with the float: +inf
    lies above every number and NaNs above +inf, as SELECT-4 ranks them. A sign bit (a negative
    number, -0.0, a negative NaN) would break that order, so those scores go to kthvalue.
    """
    dtype = pieces[0].dtype
    if (
        sum(piece.numel() for piece in pieces) < _RADIX_MIN
        or dtype not in KEY_DTYPE
        or any(piece.dtype != dtype for piece in pieces)
    ):
        return None
    keys = [piece.detach().contiguous().view(KEY_DTYPE[dtype]) for piece in pieces]
    if any(piece_keys.numel() and piece_keys.min() < 0 for piece_keys in keys):
        return None
    return keys


def _kth_smallest_key(keys: Sequence[torch.Tensor], k: int) -> int:
    """The k-th smallest of the non-negative integer `keys`, 12 bits per round, highest first.

    Each round counts the candidates' digits, finds the digit whose bucket holds the k-th
    smallest and keeps only the candidates of that bucket; once every bit has been ranked they
    all hold the same key. (The last round's digit may overlap bits already ranked: those are
    the same in every candidate, so they do not change which bucket is chosen.)
    """
    candidates = [chunk for piece in keys for chunk in piece.split(_CHUNK)]
    shift = keys[0].element_size() * 8
    while shift > 0:
        shift = max(shift - _DIGIT_BITS, 0)
        counts = sum(torch.bincount(_digits(chunk, shift), minlength=_BINS)
                     for chunk in candidates)
        cumulative = counts.cumsum(0)
        digit = int(torch.searchsorted(cumulative, k))
        k -= int(cumulative[digit] - counts[digit])
        candidates = [chunk[_digits(chunk, shift) == digit] for chunk in candidates]
    return int(torch.cat(candidates)[0])


def _digits(keys: torch.Tensor, shift: int) -> torch.Tensor:
    """Bits shift .. shift+11 of `keys`."""
    digits = keys >> shift
    # The top digit needs no mask: the keys are non-negative, nothing lies above it.
    if shift + _DIGIT_BITS < keys.element_size() * 8:
        digits.bitwise_and_(_DIGIT_MASK)
    return digits


def remaining_entries(t: torch.Tensor, remaining: torch.Tensor) -> torch.Tensor:
    """`t[remaining]` for a boolean `remaining` of t's shape: the entries of `t` left by an
    earlier mask, flattened in row-major order (COMPOSE-2).

    When every entry remains (global pruning of unpruned tensors) that is all of `t`, without a
    copy. Otherwise the entries are gathered chunk by chunk: boolean indexing of the whole
    tensor first builds an int64 index per remaining entry, twice the size of float32 entries.
    """
    if bool(remaining.all()):
        return t.reshape(-1)
    chunks = zip(t.reshape(-1).split(_CHUNK), remaining.reshape(-1).split(_CHUNK), strict=True)
    return torch.cat([entries[left] for entries, left in chunks])


def magnitude_scores(t: torch.Tensor) -> torch.Tensor:
    """|t| flattened in row-major order of the logical shape (SELECT-1, SELECT-3).

    abs() maps -0.0 to 0.0, so the two are one score (SELECT-4).
    """
    return t.detach().abs().reshape(-1)


def random_scores(count: int, device: torch.device) -> torch.Tensor:
    """`count` uniform scores drawn from the generator of `device` (SELECT-6, SELECT-7, DEVICE-5).

    Ranking them and pruning the k smallest picks every k-subset with equal probability.
    """
    return torch.rand(count, device=device)


def validate_norm_order(n: object) -> None:
    """Reject an `n` that is not a norm order of STRUCT-2, naming it (STRUCT-6)."""
    if isinstance(n, str) and n == "fro":
        return
    is_real = isinstance(n, numbers.Real) and not isinstance(n, bool)
    # Negative finite p is no norm (vector_norm computes it anyway, as a harmonic-like mean).
    if not is_real or math.isnan(n) or (math.isfinite(n) and n < 0):
        raise InvalidNormError(
            f"n={n!r} is not a norm order: expected 'fro', 0, a real number p > 0, inf or -inf"
        )


def norm_order(n: float | str) -> float:
    """The `ord` of torch.linalg.vector_norm that `n` names (STRUCT-2): 'fro' is 2."""
    return 2.0 if n == "fro" else float(n)


def normalize_dim(dim: int, ndim: int) -> int:
    """`dim` counted from the front; IndexError outside [-ndim, ndim) (STRUCT-3, ERRORS-2)."""
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"dim={dim} is out of range for a tensor with {ndim} dims: expected "
            f"{-ndim} <= dim < {ndim}"
        )
    return dim % ndim


def check_structured(t: torch.Tensor) -> None:
    """Channels need a tensor of at least 2 dims (STRUCT-4)."""
    if t.dim() < 2:
        raise ValueError(
            f"structured pruning needs a tensor with 2 or more dims, got shape {tuple(t.shape)} "
            f"({t.dim()} dims)"
        )


def channel_norms(t: torch.Tensor, n: float | str, dim: int) -> torch.Tensor:
    """The L_n norm of every channel of `t` along `dim`, over all other dims.

    Spec: STRUCT-1, STRUCT-2.
    """
    others = [d for d in range(t.dim()) if d != dim]
    scores = t.detach()
    if not scores.is_floating_point():
        scores = scores.to(torch.float64)
    accumulate = torch.float32 if scores.dtype in _ACCUMULATE_IN_FLOAT32 else None
    return torch.linalg.vector_norm(scores, ord=norm_order(n), dim=others, dtype=accumulate)


def remaining_channel_flags(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Per channel along `dim`: whether it holds at least one entry with mask 1 (COMPOSE-2)."""
    others = [d for d in range(mask.dim()) if d != dim]
    return (mask == 1).sum(dim=others) > 0


def remaining_channels(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Indices of the channels along `dim` holding at least one entry with mask 1 (COMPOSE-2)."""
    return remaining_channel_flags(mask, dim).nonzero().squeeze(1)


def along(flags: torch.Tensor, dim: int, ndim: int) -> torch.Tensor:
    """Per-channel `flags` shaped to broadcast along `dim` of an `ndim`-dim tensor."""
    shape = [1] * ndim
    shape[dim] = flags.numel()
    return flags.view(shape)
