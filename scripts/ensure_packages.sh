#!/usr/bin/env bash
# Install the Debian packages the project needs, when missing.
#
#   scripts/ensure_packages.sh            # the project's list (PACKAGES below); `make packages`
#   scripts/ensure_packages.sh PKG...     # just these packages
#
# Idempotent and fast when everything is present (no apt-get at all). `apt-get update` runs at
# most once, and only when something must be installed. Needs root to install.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The project's Debian packages. Add new ones here (e.g. dovecot-imapd, chromium); give them a
# presence check in is_present() if "dpkg says installed" is not the right test.
PACKAGES=(
    redis-server
    postgresql
    # the e-mail channel's tests run a real IMAP server (tests/channels/email)
    dovecot-imapd
    # the web chat's browser test (headless Chromium driven by Selenium)
    chromium
    chromium-driver
)

# is_present PKG: true when what we need from PKG is on this machine.
is_present() {
    case "$1" in
        redis-server)
            command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1
            ;;
        postgresql)
            compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
            ;;
        *)
            [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
            ;;
    esac
}

if [ "$#" -gt 0 ]; then
    wanted=("$@")
else
    wanted=("${PACKAGES[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
    if is_present "$pkg"; then
        log "$pkg: present"
    else
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

log "missing: ${missing[*]}"
command -v apt-get >/dev/null 2>&1 \
    || die "apt-get not found; install these packages by hand: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    die "must be root to install ${missing[*]}; run: sudo $0 ${missing[*]}   (or: sudo apt-get install ${missing[*]})"
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300)
log "apt-get update"
apt-get "${apt_opts[@]}" update
log "apt-get install ${missing[*]}"
# Note: installing postgresql makes Debian create and start its own cluster on port 5432, and
# redis-server may start a system Redis on 6379; both are harmless (tests use their own servers).
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
    is_present "$pkg" || still+=("$pkg")
done
[ "${#still[@]}" -eq 0 ] || die "installed, but still not usable: ${still[*]}"
log "installed: ${missing[*]}"
