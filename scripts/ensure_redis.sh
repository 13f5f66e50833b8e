#!/usr/bin/env bash
# Is a Redis reachable at $TAWASUL_REDIS_URL (default redis://127.0.0.1:6379/0)?
#
#   yes -> prints nothing on stdout (a note on stderr): use that Redis.
#   no  -> prints ONE line on stdout, the Procfile entry for a project-local Redis:
#            redis: exec redis-server settings/redis.conf --dir <repo>/.run/redis --port <port>
#          (scripts/run.sh appends it to .run/Procfile). Creates .run/redis.
# Exits non-zero when neither works: the URL points at another host, needs a password, or its
# port is taken by something that is not a Redis we can use.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

url="${TAWASUL_REDIS_URL:-redis://127.0.0.1:6379/0}"

py="${VENV:-.venv}/bin/python"
[ -x "$py" ] || py="$(command -v python3 || true)"
[ -n "$py" ] || die "python3 not found"

# Prints "<status> <host> <port> <detail>"; status is one of:
#   up | down (connection refused) | bad (something answered, but not PONG) | error
probe="$("$py" - "$url" <<'PY'
import socket, sys
from urllib.parse import unquote, urlsplit

url = sys.argv[1]
try:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 6379
except ValueError as e:
    print("error", "-", "-", f"bad URL: {e}")
    sys.exit(0)
if u.scheme != "redis":
    print("error", host, port, f"unsupported scheme {u.scheme!r} (only redis://)")
    sys.exit(0)
local = host in ("localhost", "::1") or host.startswith("127.")
try:
    with socket.create_connection((host, port), timeout=2) as s:
        s.settimeout(2)
        if u.password is not None:
            user = unquote(u.username) if u.username else None
            args = ["AUTH"] + ([user] if user else []) + [unquote(u.password)]
            cmd = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
            s.sendall(cmd.encode())
            reply = s.recv(512)
            if not reply.startswith(b"+OK"):
                print("bad", host, port, f"AUTH failed: {reply.decode(errors='replace').strip()}")
                sys.exit(0)
        s.sendall(b"PING\r\n")
        reply = s.recv(512)
except ConnectionRefusedError:
    print("down" if local else "error", host, port, "connection refused")
    sys.exit(0)
except OSError as e:
    print("error", host, port, f"{type(e).__name__}: {e}")
    sys.exit(0)
if reply.startswith(b"+PONG"):
    print("up", host, port, "PONG")
else:
    print("bad", host, port, f"answered {reply[:80].decode(errors='replace').strip()!r}")
PY
)"
read -r status host port detail <<<"$probe"

shown_url="$url"
case "$url" in *@*) shown_url="redis://***@${url#*@}" ;; esac

case "$status" in
    up)
        log "Redis answers PING at $shown_url; using it (no local redis-server)"
        ;;
    down)
        case "$url" in
            *@*) die "no Redis at $shown_url and the URL has credentials; start that Redis yourself" ;;
        esac
        command -v redis-server >/dev/null 2>&1 \
            || die "no Redis at $shown_url and redis-server is not installed (run: make packages)"
        mkdir -p .run/redis
        log "no Redis at $shown_url ($detail); will start a project-local one (data in .run/redis)"
        printf 'redis: exec redis-server settings/redis.conf --dir %q --port %q\n' \
            "$REPO_ROOT/.run/redis" "$port"
        ;;
    bad)
        die "something at $host:$port is not a usable Redis for $shown_url: $detail"
        ;;
    *)
        die "cannot reach Redis at $shown_url: $detail (a local one is only started for 127.0.0.1/localhost)"
        ;;
esac
