"""The value strategies are tie-free in the dtype under test: DISTINCT values stay distinct once
cast to float16 or bfloat16, within one tensor and over the tensors of one global call."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import models
from conformance import strategies as hh

DTYPES = pytest.mark.parametrize("dtype", hh.FLOAT_DTYPES, ids=str)


def _distinct_magnitudes(values: list[float], dtype: torch.dtype) -> bool:
    cast = torch.tensor(values, dtype=torch.float64).to(dtype)
    return bool(cast.abs().unique().numel() == len(values)) and bool(cast.isfinite().all())


@DTYPES
@pytest.mark.parametrize("n", [1, 256, 257, 2048, 2049, 5000])
def test_exact_magnitudes_are_distinct_and_exact_in_the_dtype(dtype, n):
    values = hh.exact_magnitudes(n, dtype)
    assert len(values) == n and _distinct_magnitudes(values, dtype)
    assert torch.tensor(values, dtype=torch.float64).to(dtype).double().tolist() == values


@DTYPES
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_distinct_values_are_distinct_in_the_dtype(dtype, data):
    n = data.draw(st.integers(1, 3000))
    assert _distinct_magnitudes(data.draw(hh.distinct_values(n, dtype)), dtype)


@DTYPES
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_tensors_of_one_global_call_are_jointly_distinct(dtype, data):
    """Each subject alone draws 1..n: three of them tie with each other (the H200 run's DEVICE-3
    false failure) until `make_jointly_distinct` spreads one set of magnitudes over them all."""
    subjects = [data.draw(hh.subjects(torch.device("cpu"), dtype=dtype)) for _ in range(3)]
    hh.make_jointly_distinct(data.draw, [s.param for s in subjects])
    values = torch.cat([s.param.detach().reshape(-1).double() for s in subjects]).tolist()
    assert _distinct_magnitudes(values, dtype)


@DTYPES
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_global_targets_draw_distinct_values_over_all_tensors(dtype, data):
    import reference.prune as reference

    targets = data.draw(hh.global_targets(reference, torch.device("cpu"), dtype=dtype,
                                          earlier=False))
    values = torch.cat([s.param.detach().reshape(-1).double() for s in targets.subjects]).tolist()
    assert _distinct_magnitudes(values, dtype)


def test_a_dtype_the_device_lacks_is_never_drawn(monkeypatch):
    """torch 2.1's CPU had no float16 topk, mps has no float64: the strategies leave such a dtype
    out instead of crashing every property that draws it."""
    from conformance import capabilities

    real = capabilities.dtype_problem

    def lacks_float16(device, dtype):
        return "no Half kernels here" if dtype == torch.float16 else real(device, dtype)

    monkeypatch.setattr(capabilities, "dtype_problem", lacks_float16)
    assert torch.float16 not in capabilities.supported_dtypes("cpu")
    assert capabilities.dtype_problems("cpu") == ["no Half kernels here"]

    @settings(max_examples=30, deadline=None)
    @given(data=st.data())
    def draws(data):
        assert data.draw(hh.dtypes("cpu")) != torch.float16
        assert data.draw(hh.subjects(torch.device("cpu"))).param.dtype != torch.float16

    draws()


def test_max_numel_above_256_is_honoured_and_values_stay_distinct(monkeypatch):
    """--max-numel 1000 draws tensors beyond 256 entries (it used to stop there silently), their
    DISTINCT values distinct in bfloat16."""
    monkeypatch.setattr(hh.limits, "max_numel", 1000)
    sizes = []

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def draws(data):
        shape = data.draw(hh.shapes(min_dims=3, max_dims=4))
        numel = math.prod(shape)
        assert numel <= 1000
        sizes.append(numel)
        values = data.draw(hh.score_values(shape, hh.DISTINCT))
        assert _distinct_magnitudes(values, torch.bfloat16)

    draws()
    assert max(sizes) > 256


def test_max_numel_beyond_what_the_values_allow_is_refused():
    with pytest.raises(ValueError, match=r"--max-numel 5000 is outside 1\.\.4096"):
        hh.Limits().set_max_numel(5000)
    with pytest.raises(ValueError, match="outside"):
        hh.Limits().set_max_numel(0)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_an_extra_kind_is_drawn_where_named_and_runs(data):
    """SelfAttention (models.EXTRA_KINDS) is drawn when a property names it; its forward takes
    the one input every subject has."""
    subject = data.draw(hh.subjects(torch.device("cpu"), kinds=("SelfAttention",)))
    assert isinstance(subject.module, models.SelfAttention)
    assert subject.name in models.EXTRA_KINDS["SelfAttention"].tensors
    assert subject.forward().shape == subject.inputs.shape
    assert subject.source.startswith("SelfAttention(")


def test_an_unknown_kind_is_refused_with_the_kinds_there_are():
    assert not set(models.EXTRA_KINDS) & set(models.KINDS), "extra kinds stay out of the default"
    with pytest.raises(KeyError, match=r"'Nope'.*SelfAttention"):
        models.kind_named("Nope")
