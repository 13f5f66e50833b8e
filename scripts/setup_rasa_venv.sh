#!/usr/bin/env bash
# Create or refresh the Rasa environment (Python 3.10, Rasa Open Source 3.6.21) at $RASA_VENV
# (default: .venv-rasa). See ARCHITECTURE.md "Two Python environments".
#
#   scripts/setup_rasa_venv.sh            # what `make rasa-venv` runs
#   scripts/setup_rasa_venv.sh --relock   # unconstrained install, then rewrite constraints-rasa.txt
#   RASA_VENV=/tmp/x scripts/setup_rasa_venv.sh
#
# Python 3.10 is looked up as: $RASA_PYTHON, then `$(pyenv prefix 3.10.13)/bin/python` (or any
# pyenv 3.10.x), then python3.10 on PATH.
#
# constraints-rasa.txt is the lock: every package's exact version. A stamp file
# ($RASA_VENV/.tawasul-stamp) holds the sha256 of the lock and of this script's install recipe;
# when it matches, pip is not run at all. A fresh install downloads about 1 GB and takes
# one to a few minutes (71 s measured on a 2-core machine with a warm pip cache).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

RASA_VENV="${RASA_VENV:-.venv-rasa}"
STAMP="$RASA_VENV/.tawasul-stamp"
LOCK="constraints-rasa.txt"
RASA_VERSION="3.6.21"
# pip itself is pinned (not in the lock: `pip freeze` leaves it out); 24.0 resolves this stack.
PIP_VERSION="24.0"

relock=0
case "${1:-}" in
    "") ;;
    --relock) relock=1 ;;
    -h | --help)
        sed -n '2,15p' "$0"
        exit 0
        ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac

# python310_ok PATH: true when PATH runs and is CPython 3.10.x.
python310_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

find_python310() {
    local path prefix tried=()
    if [ -n "${RASA_PYTHON:-}" ]; then
        path="$(command -v "$RASA_PYTHON" || true)"
        [ -n "$path" ] || die "RASA_PYTHON=$RASA_PYTHON: not found"
        python310_ok "$path" || die "RASA_PYTHON=$RASA_PYTHON is $("$path" -V 2>&1 || echo 'not runnable'); Rasa 3.6 needs Python 3.10"
        printf '%s\n' "$path"
        return 0
    fi
    if command -v pyenv >/dev/null 2>&1; then
        # The version these machines have first, then any other 3.10.x pyenv knows.
        for prefix in "$(pyenv prefix 3.10.13 2>/dev/null || true)" \
            $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -t. -k3,3nr | while read -r v; do pyenv prefix "$v" 2>/dev/null; done); do
            [ -n "$prefix" ] || continue
            path="$prefix/bin/python"
            if [ -x "$path" ] && python310_ok "$path"; then
                printf '%s\n' "$path"
                return 0
            fi
            tried+=("$path")
        done
    fi
    path="$(command -v python3.10 || true)"
    if [ -n "$path" ] && python310_ok "$path"; then
        printf '%s\n' "$path"
        return 0
    fi
    [ -n "$path" ] && tried+=("$path")
    die "Python 3.10 not found (tried: ${tried[*]:-pyenv 3.10.x and python3.10 on PATH}). Rasa Open Source $RASA_VERSION needs Python 3.10: install it (e.g. 'pyenv install 3.10.13') or set RASA_PYTHON=/path/to/python3.10"
}

[ "$relock" = 1 ] || [ -f "$LOCK" ] || die "$LOCK is missing in $REPO_ROOT (create it with: $0 --relock)"

# The stamp covers the lock plus the install recipe (versions pinned in this script).
want="$({ cat "$LOCK" 2>/dev/null || true; printf 'rasa==%s pip==%s\n' "$RASA_VERSION" "$PIP_VERSION"; } | sha256sum | cut -d' ' -f1)"

if [ "$relock" = 0 ] && [ -x "$RASA_VENV/bin/rasa" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    log "$RASA_VENV is up to date (stamp matches $LOCK)"
    exit 0
fi

start=$(date +%s)
if [ -x "$RASA_VENV/bin/python" ] && python310_ok "$RASA_VENV/bin/python"; then
    log "$RASA_VENV exists ($("$RASA_VENV/bin/python" -V 2>&1)); $LOCK changed or no stamp yet"
else
    if [ -e "$RASA_VENV" ] && [ ! -f "$RASA_VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$RASA_VENV" 2>/dev/null)" ]; then
        die "$RASA_VENV exists but is not a virtualenv; move it away or set RASA_VENV=another/path"
    fi
    py="$(find_python310)"
    log "using $py ($("$py" -V 2>&1))"
    "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 \
        || die "$py cannot create virtualenvs (no ensurepip/venv module)"
    if [ -f "$RASA_VENV/pyvenv.cfg" ]; then
        log "[1/3] recreating broken virtualenv $RASA_VENV"
        "$py" -m venv --clear "$RASA_VENV"
    else
        log "[1/3] creating virtualenv $RASA_VENV"
        "$py" -m venv "$RASA_VENV"
    fi
fi

rm -f "$STAMP"
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip=("$RASA_VENV/bin/python" -m pip)
log "[2/3] pinning pip==$PIP_VERSION"
"${pip[@]}" install --no-input --quiet "pip==$PIP_VERSION"

if [ "$relock" = 1 ]; then
    log "[3/3] installing rasa==$RASA_VERSION WITHOUT the lock (relock; TensorFlow etc. ~1 GB of downloads)"
    "${pip[@]}" install --no-input --progress-bar on "rasa==$RASA_VERSION"
    "${pip[@]}" check
    {
        printf '%s\n' "# Lock for .venv-rasa (Python 3.10, Rasa Open Source $RASA_VERSION): exact versions of every package,"
        printf '%s\n' "# generated with 'pip freeze --all' after an unconstrained 'pip install rasa==$RASA_VERSION' (Linux x86_64)."
        printf '%s\n' "# Regenerate with: scripts/setup_rasa_venv.sh --relock"
        "${pip[@]}" freeze --all | grep -v '^pip=='
    } >"$LOCK.tmp"
    mv -f "$LOCK.tmp" "$LOCK"
    log "wrote $LOCK ($(grep -vc '^#' "$LOCK") packages)"
    want="$({ cat "$LOCK"; printf 'rasa==%s pip==%s\n' "$RASA_VERSION" "$PIP_VERSION"; } | sha256sum | cut -d' ' -f1)"
else
    log "[3/3] installing rasa==$RASA_VERSION with $LOCK (TensorFlow etc. ~1 GB of downloads on a cold cache)"
    "${pip[@]}" install --no-input --progress-bar on "rasa==$RASA_VERSION" -c "$LOCK"
fi

"$RASA_VENV/bin/python" -c "import rasa, sys; sys.exit(0 if rasa.__version__ == '$RASA_VERSION' else 1)" \
    || die "rasa $RASA_VERSION did not import from $RASA_VENV"

printf '%s\n' "$want" >"$STAMP.tmp"
mv -f "$STAMP.tmp" "$STAMP"
log "done in $(($(date +%s) - start)) s: $RASA_VENV ready (rasa $RASA_VERSION, $("$RASA_VENV/bin/python" -V 2>&1)), stamp written to $STAMP"
