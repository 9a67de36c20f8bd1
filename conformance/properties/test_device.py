"""DEVICE: devices, dtypes and memory layouts.

Parity properties run the same program twice with `conformance.parity` and compare: on the CPU and
on --device (DEVICE-3, DEVICE-4), or on one device in two layouts (DEVICE-8). With --device cpu the
"other" side is the CPU with another thread count, so the properties still compare two runs.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import assume, given, note, reject, settings
from hypothesis import strategies as st

from conformance import bad_inputs as bi
from conformance import capabilities, measure, models, parity
from conformance import checks as ck
from conformance import strategies as hh
from conformance.registry import GLOBAL, METHODS, Call, Method, method_ids, methods

CPU = torch.device("cpu")
DETERMINISTIC = methods(deterministic=True)
RANDOM = methods(random=True)
FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _skip_unless(device: torch.device, dtype: torch.dtype) -> None:
    problem = capabilities.dtype_problem(device, dtype)
    if problem:
        pytest.skip(problem)


def _dtypes(device: torch.device) -> st.SearchStrategy[torch.dtype]:
    supported = capabilities.supported_dtypes(device)
    if not supported:
        pytest.skip(f"no float dtype of {hh.FLOAT_DTYPES} is supported on {device}")
    return st.sampled_from(supported)


def _configs(device: torch.device) -> tuple[parity.Config, parity.Config]:
    """(the CPU, --device); with --device cpu, the CPU with 2 threads and with 1."""
    if device.type == "cpu":
        return parity.Config(CPU, threads=2), parity.Config(CPU, threads=1)
    return parity.Config(CPU), parity.Config(device)


def _later(data: st.DataObject, call: Call) -> Call:
    """A call made after earlier ones: a fraction, valid whatever the earlier calls left."""
    if call.method.takes_amount and isinstance(call.amount, int):
        amount = data.draw(st.sampled_from(FRACTIONS), label="amount")
        return Call(call.method, {**call.kwargs, "amount": amount})
    return call


def _draw_steps(data: st.DataObject, subject: models.Subject, last: Method,
                earlier: list[Method], mode: str) -> list[parity.Step]:
    """0-2 earlier calls of `earlier` methods, then a call of `last`, then maybe a remove."""
    steps = []
    count = data.draw(st.integers(0, 2), label="earlier calls") if earlier else 0
    for index in range(count + 1):
        pool = [last] if index == count else earlier
        call = data.draw(hh.calls(subject, pool, mode=mode), label="call")
        steps.append(parity.Step.prune(call if index == 0 else _later(data, call),
                                       seed=data.draw(hh.seeds(), label="seed")))
    if data.draw(st.booleans(), label="remove"):
        steps.append(parity.Step.remove())
    return steps


def _draw_global_steps(data: st.DataObject, subjects: list[models.Subject], mode: str,
                       ) -> list[parity.Step]:
    steps = []
    if data.draw(st.booleans(), label="earlier call"):
        call = data.draw(hh.calls(subjects[0], DETERMINISTIC, mode=mode), label="call")
        steps.append(parity.Step.prune(call))
    total = sum(s.param.numel() for s in subjects)
    amount = data.draw(st.one_of(st.sampled_from(FRACTIONS), st.integers(0, total))
                       if not steps else st.sampled_from(FRACTIONS), label="amount")
    scores = {}
    for i, s in enumerate(subjects):
        if data.draw(st.booleans(), label=f"scores of m{i}"):
            scores[i] = data.draw(hh.score_tensors(tuple(s.param.shape), s.param.dtype, CPU, mode))
    steps.append(parity.Step.global_(range(len(subjects)), "L1Unstructured", scores, amount=amount))
    if data.draw(st.booleans(), label="remove"):
        steps.append(parity.Step.remove(data.draw(st.integers(0, len(subjects) - 1))))
    return steps


def _parity_program(data: st.DataObject, device: torch.device, target: str, mode: str,
                    ) -> tuple[list[models.Subject], list[parity.Step]]:
    """Unpruned CPU subjects and a program ending with `target` (deterministic earlier calls;
    each step seeded, so that a random `target` replays)."""
    dtype = data.draw(_dtypes(device), label="dtype")
    if target == GLOBAL:
        subjects = [data.draw(hh.subjects(CPU, mode=mode, dtype=dtype), label=f"m{i}")
                    for i in range(data.draw(st.integers(1, 3), label="modules"))]
        if mode == hh.DISTINCT:
            hh.make_jointly_distinct(data.draw, [s.param for s in subjects])
        return subjects, _draw_global_steps(data, subjects, mode)
    method = METHODS[target]
    subject = data.draw(hh.subjects(CPU, mode=mode, dtype=dtype, min_dims=method.min_dims()),
                        label="m0")
    earlier = [m for m in DETERMINISTIC if m.applies_to(tuple(subject.param.shape))]
    return [subject], _draw_steps(data, subject, method, earlier, mode)


PARITY_TARGETS = [*method_ids(DETERMINISTIC), GLOBAL]


def _expect_parity(prune, subjects: list[models.Subject], steps: list[parity.Step],
                   configs: tuple[parity.Config, parity.Config], clause: str, **how: str) -> None:
    """Run the program in both configurations and compare; an example whose model cannot run in
    a configuration even unpruned is discarded: it says nothing about pruning."""
    try:
        other, here = (parity.run(prune, subjects, steps, config) for config in configs)
    except parity.UnsupportedConfig as exc:
        note(f"discarded: {exc}")
        reject()
    parity.expect_parity(other, here, clause, **how)


# --- DEVICE-9: the default device --------------------------------------------------------------

def _default_device_program(data: st.DataObject, device: torch.device, target: str,
                            ) -> tuple[list[models.Subject], list[parity.Step]]:
    """A call of `target` that prunes some units but not all (one that prunes nothing or all
    need not make a tensor, or read what it made), then perhaps a call of any method and a
    remove; global: as DEVICE-3's."""
    if target == GLOBAL:
        return _parity_program(data, device, target, hh.DISTINCT)
    method = METHODS[target]
    subject = data.draw(hh.subjects(CPU, dtype=data.draw(_dtypes(device), label="dtype"),
                                    min_dims=method.min_dims()), label="m0")
    call = data.draw(hh.calls(subject, [method]), label="call")
    if method.takes_amount:
        mask = measure.mask_or_ones(subject.module, subject.name)
        units = measure.remaining_units(mask, call.dim)
        assume(units >= 2)
        call = Call(method, {**call.kwargs,
                             "amount": data.draw(st.integers(1, units - 1), label="amount")})
    steps = [parity.Step.prune(call, seed=data.draw(hh.seeds(), label="seed"))]
    if data.draw(st.booleans(), label="later call"):
        fits = [m for m in METHODS.values() if m.applies_to(tuple(subject.param.shape))]
        later = _later(data, data.draw(hh.calls(subject, fits), label="call"))
        steps.append(parity.Step.prune(later, seed=data.draw(hh.seeds(), label="seed")))
    if data.draw(st.booleans(), label="remove"):
        steps.append(parity.Step.remove())
    return [subject], steps


@pytest.mark.clause("DEVICE-9")
@pytest.mark.parametrize("target", [*method_ids(list(METHODS.values())), GLOBAL])
@hh.fewer_examples(4)
@given(data=st.data())
def test_the_default_device_changes_nothing(prune, device, target, data):
    """The same program on --device with and without another default device in force (meta
    beside the CPU, so that a tensor made on the default device shows on a CPU-only machine):
    identical masks, random ones included (same seeds), and outputs."""
    subjects, steps = _default_device_program(data, device, target)
    elsewhere = parity.Config(device, default_device=bi.other_device(device))
    _expect_parity(prune, subjects, steps, (parity.Config(device), elsewhere), "DEVICE-9",
                   ties="exact")


# --- DEVICE-1: where the tensors live ------------------------------------------------------------

def _expect_on(device: torch.device, subject: models.Subject, what: str) -> None:
    module, name = subject.module, subject.name
    for label, t in ((f"{name}_orig", module._parameters.get(f"{name}_orig")),
                     (f"{name}_mask", module._buffers.get(f"{name}_mask")),
                     (name, getattr(module, name))):
        ck.expect(t is not None, "DEVICE-1", f"{what}: module.{label} is missing")
        ck.expect_on_device(t, device, "DEVICE-1", f"device of module.{label} {what}")


@pytest.mark.clause("DEVICE-1")
@pytest.mark.parametrize("method", list(METHODS.values()), ids=method_ids(list(METHODS.values())))
@hh.fewer_examples(4)
@given(data=st.data())
def test_tensors_stay_on_the_parameters_device(prune, device, method, data):
    dtype = data.draw(_dtypes(device), label="dtype")
    subject = data.draw(hh.subjects(device, dtype=dtype, min_dims=method.min_dims()))
    for _ in range(data.draw(st.integers(1, 2), label="calls")):
        call = data.draw(hh.calls(subject, [method]), label="call")
        with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
            call(prune, subject.module, subject.name)
        _expect_on(device, subject, f"after {call}")
    subject.forward()
    _expect_on(device, subject, "after a forward")
    prune.remove(subject.module, subject.name)
    ck.expect_on_device(subject.param, device, "DEVICE-1", "device of the parameter after remove")


@pytest.mark.clause("DEVICE-1")
@hh.fewer_examples(4)
@given(data=st.data())
def test_global_keeps_every_tensor_on_its_device(prune, device, data):
    dtype = data.draw(_dtypes(device), label="dtype")
    subjects = [data.draw(hh.subjects(device, dtype=dtype), label=f"m{i}") for i in range(2)]
    total = sum(s.param.numel() for s in subjects)
    amount = data.draw(hh.amounts(total), label="amount")
    prune.global_unstructured([(s.module, s.name) for s in subjects], prune.L1Unstructured,
                              amount=amount)
    for i, s in enumerate(subjects):
        _expect_on(device, s, f"of m{i} after global_unstructured(amount={amount!r})")


@pytest.mark.clause("DEVICE-1", "CUSTOM-1")
@pytest.mark.parametrize("state", ["fresh", "pruned"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_a_users_mask_made_on_the_cpu_is_moved_to_the_parameters_device(prune, device, state,
                                                                        data):
    """A user's method that builds its mask with `torch.ones(t.shape)` (on the CPU, whatever the
    parameter's device): the stored mask is on the parameter's device. On a CPU run the module
    is moved to `meta` first, so that the mask's device is another one there too."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    steps = [f"module = {subject.source}"]
    if state == "pruned":
        steps += hh.pruned_by_calls(data.draw, prune, subject, 1, 2)
    target = torch.device("meta") if device.type == "cpu" else device
    if target != device:
        module.to(target)
        steps.append("module.to('meta')")

    class OnesOnTheCpu(prune.BasePruningMethod):
        PRUNING_TYPE = "global"

        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            return torch.ones(t.shape, device="cpu")

    OnesOnTheCpu.apply(module, name)
    steps.append(f"OnesOnTheCpu.apply(module, {name!r})  # returns torch.ones(t.shape)")
    mask = module._buffers[f"{name}_mask"]
    ck.expect_on_device(mask, target, "DEVICE-1", f"device of module.{name}_mask after\n"
                        + "\n".join(steps))


# --- DEVICE-2: every float dtype ---------------------------------------------------------------

@pytest.mark.clause("DEVICE-2")
@pytest.mark.parametrize("dtype", hh.FLOAT_DTYPES, ids=[str(d).removeprefix("torch.")
                                                       for d in hh.FLOAT_DTYPES])
@hh.fewer_examples(2)
@given(data=st.data())
def test_every_float_dtype_prunes_exact_counts(prune, device, dtype, data):
    _skip_unless(device, dtype)
    subject = data.draw(hh.subjects(device, dtype=dtype))
    for _ in range(data.draw(st.integers(1, 2), label="calls")):
        call = data.draw(hh.calls(subject, methods(takes_amount=True)), label="call")
        before = measure.mask_or_ones(subject.module, subject.name)
        with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
            call(prune, subject.module, subject.name)
        after = measure.mask_or_ones(subject.module, subject.name)
        ck.expect_binary_mask(after, measure.original(subject.module, subject.name), "DEVICE-2")
        remaining = measure.remaining_units(before, call.dim)
        ck.expect_equal(remaining - measure.remaining_units(after, call.dim),
                        measure.expected_count(call.amount, remaining), "DEVICE-2",
                        f"units pruned by {call} on a {dtype} tensor of {remaining} units")


# --- DEVICE-3, DEVICE-4: the same masks as on the CPU ---------------------------------------------

@pytest.mark.clause("DEVICE-3")
@pytest.mark.parametrize("target", PARITY_TARGETS)
@hh.fewer_examples(4)
@given(data=st.data())
def test_deterministic_calls_agree_with_the_cpu(prune, device, target, data):
    """Identical masks where the scores decide; with ties, any valid choice (then unchecked)."""
    mode = data.draw(st.sampled_from([hh.DISTINCT, hh.TIES]), label="values")
    subjects, steps = _parity_program(data, device, target, mode)
    _expect_parity(prune, subjects, steps, _configs(device), "DEVICE-3")


@pytest.mark.clause("DEVICE-4")
@pytest.mark.parametrize("target", PARITY_TARGETS)
@hh.fewer_examples(4)
@given(data=st.data())
def test_ties_give_identical_masks_on_every_device(prune, device, target, data):
    subjects, steps = _parity_program(data, device, target, hh.TIES)
    _expect_parity(prune, subjects, steps, _configs(device), "DEVICE-4", ties="exact")


# --- random methods on the device ------------------------------------------------------------

def _random_case(data: st.DataObject, device: torch.device, method: Method,
                 ) -> tuple[models.Subject, Call]:
    """A fresh subject and a call that really draws: 0 < k < units."""
    subject = data.draw(hh.subjects(device, dtype=data.draw(_dtypes(device)),
                                    min_dims=method.min_dims()))
    call = data.draw(hh.calls(subject, [method]), label="call")
    units = measure.remaining_units(measure.mask_or_ones(subject.module, subject.name), call.dim)
    assume(units >= 2)
    amount = data.draw(st.integers(1, units - 1), label="amount")
    return subject, Call(method, {**call.kwargs, "amount": amount})


def _pruned_mask(prune, subject: models.Subject, call: Call, seed: int,
                 perturb_cpu: bool = False) -> torch.Tensor:
    """The mask `call` gives a copy of the (unpruned) subject, the device seeded with `seed`."""
    module = copy.deepcopy(subject.module)
    with hh.seeded(seed, subject.param.device):
        if perturb_cpu:
            torch.default_generator.manual_seed(seed ^ 0x5DEECE66D)  # the CPU's alone
        call(prune, module, subject.name)
    return measure.mask_or_ones(module, subject.name).cpu()


@pytest.mark.clause("SELECT-6", "SELECT-7", "STRUCT-5")
@pytest.mark.parametrize("method", RANDOM, ids=method_ids(RANDOM))
@hh.fewer_examples(4)
@given(data=st.data())
def test_random_methods_on_the_device_are_exact_and_reproducible(prune, device, method, data):
    subject, call = _random_case(data, device, method)
    seed = data.draw(hh.seeds(), label="seed")
    mask = _pruned_mask(prune, subject, call, seed)
    units = measure.remaining_units(torch.ones_like(mask), call.dim)
    clause = "STRUCT-5" if method.structured else "SELECT-6"
    ck.expect_equal(units - measure.remaining_units(mask, call.dim), call.amount, clause,
                    f"units pruned by {call} on {device}")
    if method.structured:
        dims = measure.channel_dims(mask.dim(), call.dim)
        whole = mask.amin(dim=dims) == mask.amax(dim=dims)
        ck.expect(bool(whole.all()), clause, f"{call} on {device} must prune whole channels")
    again = _pruned_mask(prune, subject, call, seed)
    ck.expect_same_mask(again, mask, "SELECT-7",
                        f"{call} twice on {device} after torch.manual_seed({seed})")


@pytest.mark.clause("DEVICE-5")
@pytest.mark.parametrize("method", RANDOM, ids=method_ids(RANDOM))
@hh.fewer_examples(4)
@given(data=st.data())
def test_random_methods_draw_from_the_device_generator(prune, device, method, data):
    if device.type == "cpu":
        pytest.skip("DEVICE-5 needs a --device other than the CPU: on the CPU the parameter's "
                    "generator is the CPU generator")
    subject, call = _random_case(data, device, method)
    seed = data.draw(hh.seeds(), label="seed")
    module = copy.deepcopy(subject.module)
    with hh.seeded(seed, device):
        cpu_state = torch.get_rng_state()
        call(prune, module, subject.name)
        ck.expect(torch.equal(torch.get_rng_state(), cpu_state), "DEVICE-5",
                  f"{call} on a {device} parameter drew from the CPU generator")
    ck.expect_same_mask(_pruned_mask(prune, subject, call, seed, perturb_cpu=True),
                        measure.mask_or_ones(module, subject.name).cpu(), "DEVICE-5",
                        f"{call} on {device} with the CPU generator reseeded in between: the mask "
                        "must depend on the device's generator alone")


# --- DEVICE-6: tensors on another device --------------------------------------------------------

OTHER_DEVICE = bi.bad_calls(clauses=["DEVICE-6"])


@pytest.mark.clause("DEVICE-6")
@pytest.mark.parametrize("entry", OTHER_DEVICE, ids=[b.id for b in OTHER_DEVICE])
@hh.fewer_examples(5)
@given(data=st.data())
def test_another_device_is_rejected_unchanged(prune, device, entry, data):
    """Scores, a custom mask or a global partner on another device ('meta' when --device is
    the CPU): ValueError naming the device, nothing changed."""
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry), label="call")
    invocation = drawn.invocation
    exc = ck.expect_rejected_unchanged(torch.nn.ModuleList(invocation.modules),
                                       lambda: invocation.run(prune), entry.error, "DEVICE-6",
                                       invocation.source, atomic_clause="DEVICE-6")
    for value in invocation.names:
        ck.expect_message_names(exc, value, "DEVICE-6", invocation.source)


# --- DEVICE-7: counts beyond float32's integers ---------------------------------------------------

BIG = 2**24
BIG_TARGETS = ["l1_unstructured", "random_unstructured", "custom_from_mask", GLOBAL]


def _big_holder(numel: int, device: torch.device, seed: int) -> models.Subject:
    values = torch.randn(numel, generator=torch.Generator().manual_seed(seed))
    return models.holder_of(values.to(device))


@pytest.mark.slow
@pytest.mark.clause("DEVICE-7")
@pytest.mark.parametrize("target", BIG_TARGETS)
@settings(max_examples=3)
@given(data=st.data())
def test_counts_stay_exact_beyond_float32_integers(prune, device, target, data):
    _skip_unless(device, torch.float32)
    numel = BIG + data.draw(st.integers(1, 7), label="entries over 2**24")
    seed = data.draw(hh.seeds(), label="seed")
    subjects = [_big_holder(numel, device, seed)]
    if target == GLOBAL:
        subjects.append(_big_holder(data.draw(st.integers(1, 100)), device, seed + 1))
    total = sum(s.param.numel() for s in subjects)
    if target == "custom_from_mask":
        zeros = data.draw(st.sampled_from([1, BIG // 2 + 1, BIG + 1, numel - 1]), label="zeros")
        mask = torch.ones(numel, device=device)
        mask[torch.randperm(numel, generator=torch.Generator().manual_seed(seed))[:zeros]] = 0
        prune.custom_from_mask(subjects[0].module, "weight", mask=mask)
        expected = zeros
    else:
        amount = data.draw(st.one_of(
            st.sampled_from([total - 1, BIG + 1, 0.5, 1.0 - 2**-20]),
            st.integers(0, total - 1).map(lambda j: (j + 0.5) / total)), label="amount")
        with hh.seeded(seed, device):
            if target == GLOBAL:
                prune.global_unstructured([(s.module, "weight") for s in subjects],
                                          prune.L1Unstructured, amount=amount)
            else:
                getattr(prune, target)(subjects[0].module, "weight", amount=amount)
        expected = measure.expected_count(amount, total)
    pruned = sum(measure.pruned_entries(measure.current_mask(s.module, "weight")) for s in subjects)
    ck.expect_equal(pruned, expected, "DEVICE-7", f"entries pruned by {target} of {total} "
                                                  f"entries (2**24 + {total - BIG})")


# --- DEVICE-8: memory layouts -----------------------------------------------------------------

LAYOUTS = ("transposed", "channels_last")


def _prunes_something(subject: models.Subject, call: Call) -> Call:
    """The call with an amount that prunes at least one unit: a call that prunes nothing need not
    look at the tensor at all, and would not test its layout."""
    units = measure.remaining_units(measure.mask_or_ones(subject.module, subject.name), call.dim)
    if call.method.takes_amount and units and measure.expected_count(call.amount, units) == 0:
        return Call(call.method, {**call.kwargs, "amount": 1})
    return call


def _tensor_arg(method: Method) -> str | None:
    if method.takes_importance_scores:
        return "importance_scores"
    return "mask" if method.function == "custom_from_mask" else None


def _layout_cases(entries: list[Method]) -> list:
    return [pytest.param(m, layout, id=f"{m.function}-{layout}")
            for m in entries for layout in LAYOUTS]


@pytest.mark.clause("DEVICE-8")
@pytest.mark.parametrize(("method", "layout"), _layout_cases(DETERMINISTIC))
@hh.fewer_examples(4)
@given(data=st.data())
def test_layout_gives_the_mask_of_the_contiguous_copy(prune, device, method, layout, data):
    """A transposed or channels_last parameter, importance scores or mask, or both."""
    dtype = data.draw(_dtypes(device), label="dtype")
    subject = data.draw(hh.relaid_subjects(device, layout, dtype), label="m0")
    argument = _tensor_arg(method)
    where = data.draw(st.sampled_from(["parameter", "scores", "both"] if argument
                                      else ["parameter"]), label="non-contiguous")
    steps = []
    for index in range(data.draw(st.integers(1, 2), label="calls")):
        call = data.draw(hh.calls(subject, [method], importance_scores=False), label="call")
        call = _prunes_something(subject, call) if index == 0 else _later(data, call)
        if argument == "importance_scores" and (where != "parameter" or data.draw(st.booleans())):
            scores = data.draw(hh.score_tensors(tuple(subject.param.shape), dtype, device))
            call = Call(method, {**call.kwargs, "importance_scores": scores})
        steps.append(parity.Step.prune(call))
    contiguous = parity.Config(device)
    laid_out = parity.Config(device, layout if where != "scores" else "contiguous",
                             scores_layout=layout if where != "parameter" else "contiguous")
    _expect_parity(prune, [subject], steps, (contiguous, laid_out), "DEVICE-8")


@pytest.mark.clause("DEVICE-8")
@pytest.mark.parametrize(("method", "layout"), _layout_cases(RANDOM))
@hh.fewer_examples(4)
@given(data=st.data())
def test_random_methods_prune_exact_counts_on_any_layout(prune, device, method, layout, data):
    dtype = data.draw(_dtypes(device), label="dtype")
    template = data.draw(hh.relaid_subjects(device, layout, dtype), label="m0")
    subject = parity.replicate(template, parity.Config(device, layout))
    call = _prunes_something(subject, data.draw(hh.calls(subject, [method]), label="call"))
    units = measure.remaining_units(torch.ones_like(subject.param), call.dim)
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        try:
            call(prune, subject.module, subject.name)
        except Exception as exc:
            ck.fail("DEVICE-8", f"{call} on a {layout} parameter of shape "
                                f"{tuple(subject.param.shape)} raised {type(exc).__name__}: {exc}")
    mask = measure.current_mask(subject.module, subject.name)
    ck.expect_binary_mask(mask, measure.original(subject.module, subject.name), "DEVICE-8")
    ck.expect_equal(units - measure.remaining_units(mask, call.dim),
                    measure.expected_count(call.amount, units), "DEVICE-8",
                    f"units pruned by {call} on a {layout} parameter")
    if method.structured:
        dims = measure.channel_dims(mask.dim(), call.dim)
        ck.expect(bool((mask.amin(dim=dims) == mask.amax(dim=dims)).all()), "DEVICE-8",
                  f"{call} on a {layout} parameter must prune whole channels")
