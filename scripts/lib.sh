# shellcheck shell=bash
# Helpers shared by the scripts in this folder. Source it; don't run it.
#   REPO_ROOT     absolute path of the repository
#   log / die     progress and error messages (stderr), prefixed with the script's name
#   find_python   prints the path of a Python >= 3.11 ($PYTHON, then python3, python3.13 ...)

# shellcheck disable=SC2034  # used by the scripts that source this file
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
_SCRIPT_NAME="$(basename "$0" .sh)"

log() { printf '%s: %s\n' "$_SCRIPT_NAME" "$*" >&2; }
die() { printf '%s: error: %s\n' "$_SCRIPT_NAME" "$*" >&2; exit 1; }

# Minimum Python for the app environment (see ARCHITECTURE.md "Two Python environments").
TAWASUL_MIN_PYTHON="3.11"

# python_ok PATH: true when PATH runs and is >= TAWASUL_MIN_PYTHON.
python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate path tried=()
    if [ -n "${PYTHON:-}" ]; then
        path="$(command -v "$PYTHON" || true)"
        [ -n "$path" ] || die "PYTHON=$PYTHON: not found"
        python_ok "$path" || die "PYTHON=$PYTHON is $("$path" -V 2>&1 || echo 'not runnable'); need Python >= $TAWASUL_MIN_PYTHON"
        printf '%s\n' "$path"
        return 0
    fi
    for candidate in python3 python3.13 python3.12 python3.11; do
        path="$(command -v "$candidate" || true)"
        [ -n "$path" ] || continue
        if python_ok "$path"; then
            printf '%s\n' "$path"
            return 0
        fi
        tried+=("$candidate ($("$path" -V 2>&1 || echo 'not runnable'))")
    done
    die "no Python >= $TAWASUL_MIN_PYTHON found (tried: ${tried[*]:-nothing on PATH}). Install one (Debian 12: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11"
}
