#!/usr/bin/env bash
# Create or refresh the app environment (Python >= 3.11) at $VENV (default: .venv).
#
#   scripts/setup_venv.sh            # what `make venv` runs
#   VENV=/tmp/x scripts/setup_venv.sh
#
# Installs requirements-dev.txt (which includes requirements.txt) pinned by constraints.txt.
# A stamp file ($VENV/.tawasul-stamp) holds the sha256 of those files; when it matches,
# pip is not run at all, so a second run takes a few milliseconds.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

VENV="${VENV:-.venv}"
STAMP="$VENV/.tawasul-stamp"

# Sorted in the C locale so the hash does not depend on the user's locale.
mapfile -t req_files < <(LC_ALL=C; shopt -s nullglob; printf '%s\n' requirements*.txt constraints.txt)
[ -f requirements-dev.txt ] || die "requirements-dev.txt is missing in $REPO_ROOT"
[ -f constraints.txt ] || die "constraints.txt is missing in $REPO_ROOT"

# File names are part of the hash, so renaming or adding a requirements file also counts.
want="$(sha256sum "${req_files[@]}" | sha256sum | cut -d' ' -f1)"

# Fast path: stamp matches and the venv's interpreter is present.
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    log "$VENV is up to date (stamp matches ${req_files[*]})"
    exit 0
fi

# (Re)create the venv when it is missing, broken (e.g. its base Python was removed) or too old.
if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
    log "$VENV exists ($("$VENV/bin/python" -V 2>&1)); requirements changed or no stamp yet"
else
    if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ]; then
        die "$VENV exists but is not a virtualenv; move it away or set VENV=another/path"
    fi
    py="$(find_python)"
    log "using $py ($("$py" -V 2>&1))"
    if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        case "$py" in
            /usr/bin/*)
                log "$py has no venv/ensurepip module; installing Debian's python3-venv"
                "$REPO_ROOT/scripts/ensure_packages.sh" python3-venv
                ;;
        esac
        "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 \
            || die "$py cannot create virtualenvs (no ensurepip); on Debian: apt-get install python3-venv"
    fi
    if [ -f "$VENV/pyvenv.cfg" ]; then
        log "recreating broken or outdated virtualenv $VENV"
        "$py" -m venv --clear "$VENV"
    else
        log "creating virtualenv $VENV"
        "$py" -m venv "$VENV"
    fi
fi

rm -f "$STAMP"
log "installing requirements-dev.txt with constraints.txt into $VENV (pip)"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --no-input \
    -r requirements-dev.txt -c constraints.txt

printf '%s\n' "$want" >"$STAMP.tmp"
mv -f "$STAMP.tmp" "$STAMP"
log "done: $VENV ready ($("$VENV/bin/python" -V 2>&1)), stamp written to $STAMP"
