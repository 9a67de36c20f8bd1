"""The k smallest scores, found on the scores' own device without reading a value on the host.

On a GPU every value the host reads (`.item()`, `int()`, a Python `if` on a tensor, boolean
indexing, `nonzero`, `bincount`) waits for every queued kernel. Here the whole selection stays
on the device: a radix select over integer keys whose state (the key prefix chosen so far and
the rank still to find) lives in 1-element tensors, bucket counts by `index_add_`, and the cut
among equal scores by a running cumulative sum. Only k, a Python int, comes from the host.

It ranks as the host-guided path of reference.selection does: NaN above +inf (SELECT-4), -0.0
equal to 0.0, ties to the lowest index (SELECT-3), so that masks are identical on every device
(DEVICE-4). Every device type not listed in `selection.HOST_GUIDED_DEVICES` takes this path.

Spec: SELECT-1, SELECT-3, SELECT-4, GLOBAL-2, DEVICE-4.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# Integer dtypes of the float dtypes' width: the view that exposes a float's bit pattern.
KEY_DTYPE = {
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.float32: torch.int32,
    torch.float64: torch.int64,
}
# The bit pattern of +inf: patterns above it (sign bit clear) are NaNs.
_INF_BITS = {
    torch.float16: 0x7C00,
    torch.bfloat16: 0x7F80,
    torch.float32: 0x7F800000,
    torch.float64: 0x7FF0000000000000,
}
_INTEGER_KEYS = (torch.int16, torch.int32, torch.int64)
# 12 bits per round: 4096 buckets (and one for the keys out of the running), 3 rounds for float32.
_DIGIT_BITS = 12
# Keys are computed, counted and compared a chunk at a time, so that every temporary stays a
# chunk's size whatever the size of the scores.
CHUNK = 1 << 22


def order_keys(scores: torch.Tensor) -> torch.Tensor:
    """Signed integer keys that order as SELECT-4 ranks `scores`: -inf < ... < -0.0 = 0.0 < ...
    < +inf < NaN, every NaN one key whatever its sign and payload.

    A float's bit pattern without its sign bit (its magnitude) grows with the magnitude; negated
    for a negative float it orders negative numbers too.
    """
    dtype = scores.dtype
    if dtype in KEY_DTYPE:
        bits = scores.view(KEY_DTYPE[dtype])
        magnitude = bits & torch.iinfo(bits.dtype).max
        keys = torch.where(bits < 0, -magnitude, magnitude)
        return keys.masked_fill_(magnitude > _INF_BITS[dtype], _INF_BITS[dtype] + 1)
    if dtype in (torch.uint8, torch.int8):
        # Widened, so that the top digit shifted to non-negative still fits the dtype.
        return scores.to(torch.int16)
    if dtype in _INTEGER_KEYS:
        return scores
    raise TypeError(f"scores of dtype {dtype} cannot be ranked: expected a real dtype")


def smallest_k_on_device(
    pieces: Sequence[torch.Tensor], k: int, within: Sequence[torch.Tensor | None]
) -> list[torch.Tensor]:
    """Boolean masks, one per 1-d piece, of the k smallest entries of the concatenation of the
    `pieces` among those that `within` flags (None: all of a piece); 1 <= k <= their number.

    No value is read on the host: the masks are built from the k-th smallest key and the number
    of entries equal to it that still belong to the k smallest, both device tensors.
    """
    chunks = [pair for piece, flags in zip(pieces, within, strict=True)
              for pair in split_alike(piece, flags, CHUNK)]
    kth, ties_to_take = _kth_smallest_key(chunks, k)
    masks = []
    ties_taken = torch.zeros(1, dtype=torch.int64, device=pieces[0].device)
    for piece, flags in zip(pieces, within, strict=True):
        mask = torch.empty(piece.shape, dtype=torch.bool, device=piece.device)
        for out, (chunk, chunk_flags) in zip(
            mask.split(CHUNK), split_alike(piece, flags, CHUNK), strict=True
        ):
            if not chunk.numel():
                continue
            keys = order_keys(chunk)
            below, ties = keys < kth, keys == kth
            if chunk_flags is not None:
                below &= chunk_flags
                ties &= chunk_flags
            # The rank of each tie in the concatenation: the lowest indices are taken first.
            rank = ties.cumsum(0, dtype=torch.int32)
            torch.logical_or(below, ties & (rank <= ties_to_take - ties_taken), out=out)
            ties_taken = ties_taken + rank[-1:]
        masks.append(mask)
    return masks


def split_alike(
    piece: torch.Tensor, flags: torch.Tensor | None, size: int
) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """`piece` and its `flags` (or None) cut alike into chunks of `size` entries."""
    chunks = piece.split(size)
    flag_chunks = flags.split(size) if flags is not None else [None] * len(chunks)
    return list(zip(chunks, flag_chunks, strict=True))


def _kth_smallest_key(
    chunks: Sequence[tuple[torch.Tensor, torch.Tensor | None]], k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k-th smallest key of the flagged entries of `chunks`, and its rank among the entries
    holding that key: how many of them belong to the k smallest. Both are 1-element tensors.

    Each round counts the digits of the keys that share the prefix chosen so far (the others
    go to an extra bucket), finds the bucket that holds the k-th smallest and appends its digit
    to the prefix; after the last round the prefix is the key itself.
    """
    device = chunks[0][0].device
    width = torch.iinfo(order_keys(chunks[0][0][:0]).dtype).bits
    prefix = torch.zeros(1, dtype=torch.int64, device=device)
    rank = torch.full((1,), k, dtype=torch.int64, device=device)
    for shift, bits in _rounds(width):
        outside = 1 << bits
        counts = torch.zeros(outside + 1, dtype=torch.int64, device=device)
        first = shift + bits == width
        for chunk, flags in chunks:
            keys = order_keys(chunk)
            if first:
                # The top digit of a signed key is signed: shifted to 0 .. outside - 1.
                digits = (keys >> shift) + (outside >> 1)
                out_of_running = None if flags is None else ~flags
            else:
                digits = (keys >> shift) & (outside - 1)
                out_of_running = (keys >> (shift + bits)) != prefix
                if flags is not None:
                    out_of_running |= ~flags
            if out_of_running is not None:
                digits.masked_fill_(out_of_running, outside)
            ones = torch.ones((), dtype=torch.int64, device=device).expand(digits.numel())
            index = digits if digits.dtype in (torch.int32, torch.int64) else digits.int()
            counts.index_add_(0, index, ones)
        counts = counts[:outside]
        cumulative = counts.cumsum(0)
        digit = torch.searchsorted(cumulative, rank)
        rank = rank - (cumulative - counts).gather(0, digit)
        prefix = prefix * outside + digit - (outside >> 1 if first else 0)
    return prefix, rank


def _rounds(width: int) -> list[tuple[int, int]]:
    """(shift, bits) of each round's digit, the highest digit first, for keys of `width` bits."""
    rounds = []
    while width > 0:
        bits = min(_DIGIT_BITS, width)
        width -= bits
        rounds.append((width, bits))
    return rounds
