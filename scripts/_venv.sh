# shellcheck shell=bash
# Sourced by the scripts: creates or reuses .venv at the repository root and installs the kit with
# its test extras. Reinstalls only when pyproject.toml or the torch pin changed. It sets no shell
# option, so that sourcing it in an interactive shell changes nothing but PATH (each script sets
# its own `set -euo pipefail`); a failing step returns 1.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PRUNE_VENV:-$ROOT/.venv}"
# Pinned: an open range lets pip fetch a multi-GB CUDA build; 2.13.0 (CPU) is the tested release.
TORCH_SPEC="${PRUNE_TORCH:-torch==2.13.0}"
# Further requirements that go with that torch (scripts/release-check: numpy<2 below torch 2.3).
read -r -a EXTRA_PINS <<<"${PRUNE_PINS:-}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "setting up $VENV ..." >&2
  "$PYTHON" -m venv "$VENV" || return 1
fi
stamp="$VENV/.prune-conformance-installed"
wanted="$(sha1sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $TORCH_SPEC ${EXTRA_PINS[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "installing $TORCH_SPEC ${EXTRA_PINS[*]} and prune-conformance[test] into $VENV ..." >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$TORCH_SPEC" \
    "${EXTRA_PINS[@]}" || return 1
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test]" \
    "$TORCH_SPEC" "${EXTRA_PINS[@]}" || return 1
  echo "$wanted" >"$stamp"
fi
export PATH="$VENV/bin:$PATH"
