"""The pytest plugin: header, implementation loading, missing names, known departures."""

from __future__ import annotations

import json

from support import IMPLS, run_kit, run_suite

HALF_WAY = "test_amount.py and test_exact_half_way_fractions_round_to_even"
# One parametrization, for runs where the property fails and is shrunk (seconds per method).
ONE_HALF_WAY = HALF_WAY + " and l1_unstructured"


def test_header_names_implementation_torch_device_profile_and_seed():
    result = run_suite("reference", "--collect-only", "--hypothesis-seed", "1234")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "prune-conformance: implementation reference (0.1.0, " in out
    assert "reference/prune.py" in out
    assert "prune-conformance: torch 2." in out and "device cpu" in out
    assert "hypothesis profile 'ci', seed 1234" in out
    assert "expected failures none" in out


def test_without_impl_the_plugin_tests_the_documented_default():
    # conformance.config.DEFAULT_IMPL, as for the CLI's run, compare and method commands.
    result = run_kit("-m", "pytest", "--pyargs", "conformance", "--collect-only",
                     "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prune-conformance: implementation torch (torch 2." in result.stdout
    named = run_kit("-m", "pytest", "--pyargs", "conformance", "--collect-only",
                    "-p", "no:cacheprovider", env={"PRUNE_IMPL": "reference"})
    assert "prune-conformance: implementation reference (" in named.stdout


def test_max_numel_beyond_the_cap_is_a_usage_error_in_one_line():
    result = run_suite("reference", "--collect-only", "--max-numel", "5000")
    assert result.returncode == 4
    assert "--max-numel 5000 is outside 1..4096" in result.stderr
    assert "Traceback" not in result.stderr


def test_torch_gets_its_shipped_expected_failures():
    result = run_suite("torch", "--collect-only")
    assert "expected failures " in result.stdout and "expected/torch.txt" in result.stdout


def test_unknown_implementation_is_a_usage_error_in_one_line():
    result = run_suite("no_such_module_anywhere", "--collect-only")
    assert result.returncode == 4  # pytest's usage error
    assert "unknown implementation 'no_such_module_anywhere'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_name_fails_only_the_properties_that_need_it():
    impl = str(IMPLS / "no_random_structured.py")
    result = run_suite(impl, "-k", "test_amount.py and random_structured and int_amount")
    assert result.returncode == 1
    assert "API-1: implementation" in result.stdout
    assert "has no 'random_structured'" in result.stdout
    assert "lacks random_structured" in result.stdout  # said once, in the header
    ok = run_suite(impl, "-k", "test_amount.py and l1_unstructured and int_amount")
    assert ok.returncode == 0, ok.stdout


def test_a_departure_fails_and_names_its_clause():
    result = run_suite(str(IMPLS / "half_up_rounding.py"), "-k", ONE_HALF_WAY)
    assert result.returncode == 1
    assert "AMOUNT-2: " in result.stdout


def test_listed_departure_is_expected_and_not_shrunk(tmp_path):
    listing = tmp_path / "half_up.txt"
    listing.write_text("test_amount.py::test_exact_half_way_fractions_round_to_even"
                       " | AMOUNT-2 | rounds half up\n")
    result = run_suite(str(IMPLS / "half_up_rounding.py"), "-k", HALF_WAY,
                       "--expected-failures", str(listing), "--hypothesis-show-statistics", "-rx")
    assert result.returncode == 0, result.stdout
    assert "xfailed" in result.stdout and "AMOUNT-2: rounds half up" in result.stdout
    assert "during shrink phase" not in result.stdout, "known departures must not be shrunk"


def test_listed_property_that_passes_fails_the_run(tmp_path):
    listing = tmp_path / "stale.txt"
    listing.write_text("test_amount.py::test_exact_half_way_fractions_round_to_even"
                       " | AMOUNT-2 | no longer true\n")
    result = run_suite("reference", "-k", HALF_WAY, "--expected-failures", str(listing))
    assert result.returncode == 1
    assert "XPASS(strict)" in result.stdout


def test_expected_failures_none_disables_the_shipped_file():
    result = run_suite("torch", "--collect-only", "--expected-failures", "none")
    assert "expected failures none" in result.stdout


def test_malformed_expected_failures_file_is_a_usage_error(tmp_path):
    listing = tmp_path / "bad.txt"
    listing.write_text("just one field\n")
    result = run_suite("reference", "--collect-only", "--expected-failures", str(listing))
    assert result.returncode == 4
    assert f"{listing}:1:" in result.stderr


HALF_UP_ENTRY = ("test_amount.py::test_exact_half_way_fractions_round_to_even | AMOUNT-2 | "
                 "rounds half up")


def _half_up_run(tmp_path, entry: str, *args: str):
    listing = tmp_path / "half_up.txt"
    listing.write_text(entry + "\n")
    return run_suite(str(IMPLS / "half_up_rounding.py"), "-k", ONE_HALF_WAY,
                     "--expected-failures", str(listing), "-rx", *args)


def test_a_departure_scoped_to_this_device_is_expected_and_says_its_scope(tmp_path):
    result = _half_up_run(tmp_path, HALF_UP_ENTRY + " | device=cpu")
    assert result.returncode == 0, result.stdout
    assert "xfailed" in result.stdout and "[expected where device=cpu]" in result.stdout


def test_a_departure_scoped_to_another_device_or_release_is_held_to_the_spec(tmp_path):
    for scope in ("device=cuda", "torch<1.0", "device=cpu torch>=99"):
        result = _half_up_run(tmp_path, f"{HALF_UP_ENTRY} | {scope}")
        assert result.returncode == 1, (scope, result.stdout)
        assert "AMOUNT-2: " in result.stdout and "xfailed" not in result.stdout, scope


def test_a_parametrized_entry_out_of_scope_is_not_covered_by_its_functions_entry(tmp_path):
    """The most specific id listed decides: `test_x[p] | ... | device=cuda` holds test_x[p] to the
    spec on the CPU even though `test_x` is listed for every device."""
    listing = tmp_path / "two.txt"
    listing.write_text(
        "test_amount.py::test_exact_half_way_fractions_round_to_even | AMOUNT-2 | all\n"
        "test_amount.py::test_exact_half_way_fractions_round_to_even[l1_unstructured] | AMOUNT-2"
        " | not here | device=cuda\n")
    result = run_suite(str(IMPLS / "half_up_rounding.py"), "-k", HALF_WAY,
                       "--expected-failures", str(listing), "-rfx")
    assert result.returncode == 1, result.stdout
    assert "FAILED" in result.stdout and "[l1_unstructured]" in result.stdout
    assert "xfailed" in result.stdout  # the other parametrizations stay expected


def test_a_departure_that_fails_as_stated_is_expected(tmp_path):
    result = _half_up_run(tmp_path, HALF_UP_ENTRY + " | raises=SpecViolation match='round'")
    assert result.returncode == 0, result.stdout
    assert "xfailed" in result.stdout


def test_a_departure_that_fails_otherwise_than_stated_is_unexpected(tmp_path):
    for how in ("raises=IndexError", "match='no such words'"):
        result = _half_up_run(tmp_path, f"{HALF_UP_ENTRY} | {how}")
        assert result.returncode == 1, (how, result.stdout)
        assert "failed otherwise: SpecViolation: AMOUNT-2" in result.stdout, how


def test_an_entry_that_matches_no_property_is_a_warning(tmp_path):
    listing = tmp_path / "stale.txt"
    listing.write_text("test_amount.py::test_that_was_renamed | AMOUNT-2 | old\n"
                       "test_struct.py::test_of_a_file_not_collected | STRUCT-1 | says nothing\n")
    # One property file, over xdist: each worker finds the stale entry, the run names it once.
    result = run_kit("-m", "pytest", "--pyargs", "conformance.properties.test_amount",
                     "--impl", "reference", "--hypothesis-profile", "ci", "-p", "no:cacheprovider",
                     "-k", HALF_WAY, "-n", "2", "--expected-failures", str(listing))
    assert result.returncode == 0, result.stdout
    assert (f"warning: expected failure {listing}:1: "
            "test_amount.py::test_that_was_renamed matches no property") in result.stdout
    assert "test_of_a_file_not_collected" not in result.stdout
    assert result.stdout.count("test_that_was_renamed matches no property") == 1


def test_two_entries_in_force_for_one_property_are_a_usage_error(tmp_path):
    listing = tmp_path / "twice.txt"
    listing.write_text(f"{HALF_UP_ENTRY} | device=cpu\n{HALF_UP_ENTRY} | torch>=2\n")
    result = run_suite("reference", "--collect-only", "--expected-failures", str(listing))
    assert result.returncode == 4
    assert f"{listing}:2:" in result.stderr and "both scopes" in result.stderr


def test_a_sometimes_departure_may_pass_but_must_fail_as_stated(tmp_path):
    """The reference passes: no XPASS for a `sometimes` entry. The half-up implementation fails:
    expected only if it fails the stated way."""
    listing = tmp_path / "sometimes.txt"
    listing.write_text(HALF_UP_ENTRY + " | sometimes match='round'\n")
    passing = run_suite("reference", "-k", HALF_WAY, "--expected-failures", str(listing))
    assert passing.returncode == 0, passing.stdout
    assert "XPASS" not in passing.stdout and "xpassed" in passing.stdout
    failing = _half_up_run(tmp_path, HALF_UP_ENTRY + " | sometimes match='round'")
    assert failing.returncode == 0 and "xfailed" in failing.stdout, failing.stdout
    otherwise = _half_up_run(tmp_path, HALF_UP_ENTRY + " | sometimes match='no such words'")
    assert otherwise.returncode == 1, otherwise.stdout


def test_a_sometimes_departure_that_passes_counts_as_passed_in_the_report(tmp_path):
    listing = tmp_path / "sometimes.txt"
    listing.write_text(HALF_UP_ENTRY + " | sometimes match='round'\n")
    result = run_kit("-m", "conformance.cli", "run", "reference", "--profile", "ci", "-k",
                     HALF_WAY, "--expected-failures", str(listing), "--report", str(tmp_path))
    assert result.returncode == 0, result.stdout
    run = json.loads((tmp_path / "report.json").read_text())
    assert run["summary"]["passed"] > 0 and run["summary"]["unexpected-pass"] == 0


PROBE = '''
import os
def pytest_collection_finish(session):
    from hypothesis import core
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(os.environ["PROBE_DIR"], worker), "w") as f:
        f.write(str(core.global_force_seed))
'''


def test_a_run_without_a_seed_gets_one_that_the_header_names_and_every_worker_uses(tmp_path):
    """Plain pytest under a random profile: one seed, named in the header (it replays the run),
    in force in every xdist worker; a derandomized profile keeps none."""
    import re

    (tmp_path / "seed_probe.py").write_text(PROBE)
    env = {"PYTHONPATH": str(tmp_path), "PROBE_DIR": str(tmp_path)}
    result = run_kit("-m", "pytest", "--pyargs", "conformance", "--impl", "reference", "-k",
                     "test_amount.py and int_amount", "-p", "no:cacheprovider", "-p",
                     "seed_probe", "-n", "2", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    seed = re.search(r"hypothesis profile 'default', seed (\d+)", result.stdout)
    assert seed, result.stdout
    seen = {p.read_text() for p in tmp_path.glob("gw*")}
    assert seen == {seed[1]}, seen
