#!/usr/bin/env bash
# Regenerate constraints.txt (what `make lock` runs): install requirements-dev.txt WITHOUT the
# old constraints into a fresh temporary venv and write its `pip freeze` (minus pip and
# setuptools), keeping the header comment. Then run `make venv` to apply it to .venv.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

py="$(find_python)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tawasul-lock.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

log "creating a temporary venv with $py ($("$py" -V 2>&1)) in $tmp"
"$py" -m venv "$tmp/venv"
log "installing requirements-dev.txt (no constraints)"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$tmp/venv/bin/python" -m pip install --no-input -q -r requirements-dev.txt

header="# Exact versions of every package in .venv (pip freeze, setuptools kept; regenerate with \`make lock\`)."
if [ -f constraints.txt ]; then
    first="$(head -n 1 constraints.txt)"
    case "$first" in '#'*) header="$first" ;; esac
fi
{
    printf '%s\n' "$header"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$tmp/venv/bin/python" -m pip freeze \
        | grep -Eiv '^(pip|wheel|distribute)=='
} >"$tmp/constraints.txt"
if cmp -s "$tmp/constraints.txt" constraints.txt; then
    log "constraints.txt unchanged"
else
    cp "$tmp/constraints.txt" constraints.txt
    log "constraints.txt updated:"
    git --no-pager diff --stat -- constraints.txt >&2 || true
    log "run 'make venv' to apply it"
fi
