#!/usr/bin/env bash
# THE test command for smsplat. Runs unattended on a fresh machine:
#   1. creates .venv (if missing) and installs the project with its `dev` extra;
#   2. makes sure a PostgreSQL server is reachable for the tests, starting the
#      machine's cluster or a throwaway one if needed (installing PostgreSQL
#      from Debian's packages as a last resort);
#   3. runs ruff check, ruff format --check, mypy and pytest; any failure
#      (pytest "no tests collected", exit 5, included) fails the script.
#
# Arguments are passed through to pytest, e.g. `scripts/test.sh -k outbox -x`.
#
# Environment:
#   SMS_TEST_DATABASE_URL         admin URL of the test server
#                                 (default postgresql://postgres@127.0.0.1:5432/test);
#                                 exported to pytest, rewritten if a throwaway
#                                 cluster is started.
#   SMS_TEST_FORCE_THROWAWAY_PG=1 skip the reachability check and always run the
#                                 tests against a throwaway cluster in a temp dir
#                                 (used to exercise that code path).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------
# Python environment
# --------------------------------------------------------------------------
if [[ ! -x .venv/bin/python ]]; then
    step "creating .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
fi
step "installing project (.[dev])"
.venv/bin/pip install -q -e '.[dev]'

# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------
DEFAULT_PG_URL='postgresql://postgres@127.0.0.1:5432/test'
PG_URL="${SMS_TEST_DATABASE_URL:-$DEFAULT_PG_URL}"

# Split the URL into host, port, user, dbname (tab separated).
IFS=$'\t' read -r PG_HOST PG_PORT PG_USER PG_DB < <(
    python3 - "$PG_URL" <<'PY'
import sys
from urllib.parse import unquote, urlsplit

u = urlsplit(sys.argv[1])
print(
    u.hostname or "127.0.0.1",
    u.port or 5432,
    unquote(u.username or "postgres"),
    unquote(u.path.lstrip("/")) or "test",
    sep="\t",
)
PY
)
[[ -n "${PG_PORT:-}" ]] || die "cannot parse database URL: $PG_URL"

is_local_host() {
    case "$1" in 127.* | localhost | ::1 | /*) return 0 ;; *) return 1 ;; esac
}

# Is a server accepting connections at host $1 port $2?
pg_up() {
    pg_isready -q -h "$1" -p "$2" -t 3 >/dev/null 2>&1
}

# Wait up to $3 seconds for host $1 port $2.
wait_pg() {
    local i
    for ((i = 0; i < $3; i++)); do
        pg_up "$1" "$2" && return 0
        sleep 1
    done
    pg_up "$1" "$2"
}

# Make sure database $PG_DB exists (connects to the `postgres` maintenance db).
ensure_db() {
    if psql "$PG_URL" -XAtqc 'select 1' >/dev/null 2>&1; then
        return 0
    fi
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --maintenance-db=postgres "$PG_DB" \
        >/dev/null 2>&1 || true
    psql "$PG_URL" -XAtqc 'select 1' >/dev/null 2>&1
}

pg_bindir() {
    local d
    # Newest version first.
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

install_postgresql() {
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL is not installed and we are not root to install it"
    step "installing PostgreSQL (apt-get)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
}

# (a) start the machine's own cluster(s) on the target port if they are down.
start_system_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 1
    command -v pg_ctlcluster >/dev/null 2>&1 || return 1
    is_local_host "$PG_HOST" || return 1
    local ver name port status rest started=1
    while read -r ver name port status rest; do
        [[ "$port" == "$PG_PORT" && "$status" == down* ]] || continue
        step "starting PostgreSQL cluster $ver/$name"
        if pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start; then
            started=0
        fi
    done < <(pg_lsclusters -h 2>/dev/null || true)
    [[ $started -eq 0 ]] || return 1
    wait_pg "$PG_HOST" "$PG_PORT" 30
}

# (b) a throwaway cluster in a temp dir on a free port; stopped on exit.
THROWAWAY_DIR=''
stop_throwaway() {
    [[ -n "$THROWAWAY_DIR" ]] || return 0
    as_pg "$THROWAWAY_BIN/pg_ctl" -D "$THROWAWAY_DIR/data" -m immediate -w stop \
        >/dev/null 2>&1 || true
    rm -rf "$THROWAWAY_DIR"
}
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd "$THROWAWAY_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$THROWAWAY_DIR" && "$@")
    fi
}
start_throwaway() {
    local bin port
    bin="$(pg_bindir)" || return 1
    if [[ "$(id -u)" -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    THROWAWAY_BIN="$bin"
    THROWAWAY_DIR="$(mktemp -d /tmp/smsplat-pg.XXXXXX)"
    trap stop_throwaway EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres: "$THROWAWAY_DIR" || return 1
    fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" ||
        return 1
    step "starting throwaway PostgreSQL ($bin) on 127.0.0.1:$port in $THROWAWAY_DIR"
    as_pg "$bin/initdb" -D "$THROWAWAY_DIR/data" -U postgres --auth=trust -E UTF8 \
        --no-sync >"$THROWAWAY_DIR/initdb.log" 2>&1 ||
        { cat "$THROWAWAY_DIR/initdb.log" >&2; return 1; }
    as_pg "$bin/pg_ctl" -D "$THROWAWAY_DIR/data" -l "$THROWAWAY_DIR/server.log" -w -t 30 \
        -o "-p $port -k $THROWAWAY_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null ||
        { cat "$THROWAWAY_DIR/server.log" >&2; return 1; }
    PG_HOST=127.0.0.1 PG_PORT="$port" PG_USER=postgres PG_DB=test
    PG_URL="postgresql://postgres@127.0.0.1:$port/test"
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
}

step "checking PostgreSQL at $PG_HOST:$PG_PORT"
if [[ "${SMS_TEST_FORCE_THROWAWAY_PG:-}" == 1 ]]; then
    if ! command -v pg_isready >/dev/null 2>&1 || ! pg_bindir >/dev/null; then
        install_postgresql
    fi
    start_throwaway || die "could not start a throwaway PostgreSQL cluster"
elif command -v pg_isready >/dev/null 2>&1 && pg_up "$PG_HOST" "$PG_PORT"; then
    :
else
    # (c) nothing installed at all: install it, then (a)/(b).
    if ! command -v pg_isready >/dev/null 2>&1 || ! pg_bindir >/dev/null; then
        install_postgresql
    fi
    if ! pg_up "$PG_HOST" "$PG_PORT" && ! start_system_cluster; then
        start_throwaway || die "PostgreSQL is not reachable and no throwaway cluster could be started"
    fi
fi
ensure_db || die "PostgreSQL is up at $PG_HOST:$PG_PORT but database '$PG_DB' is not usable (URL $PG_URL)"
export SMS_TEST_DATABASE_URL="$PG_URL"
step "PostgreSQL ready: $SMS_TEST_DATABASE_URL"

# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------
# --------------------------------------------------------------------------
# The SMSC the SMPP tests talk to (node-smpp, pinned by tests/smsc/package-lock.json)
# --------------------------------------------------------------------------
command -v npm >/dev/null || die "npm (Node.js 20) is needed for the SMPP tests' SMSC"
step "installing the test SMSC (npm ci)"
npm ci --prefix tests/smsc --no-audit --no-fund --loglevel=error

# --------------------------------------------------------------------------
# The console's browser tests: Debian's chromium and a CJK font (Playwright from pip drives it);
# the README walk-through's test: curl and jq
# --------------------------------------------------------------------------
if [[ ! -x /usr/bin/chromium ]] || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1 \
    || ! command -v jq >/dev/null || ! command -v curl >/dev/null; then
    [[ "$(id -u)" -eq 0 ]] || die "chromium, fonts-wqy-microhei, curl and jq are needed (apt-get install -y chromium fonts-wqy-microhei curl jq)"
    step "installing chromium, fonts-wqy-microhei, curl and jq (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei curl jq >/dev/null
fi

step "ruff check"
.venv/bin/ruff check .

step "ruff format --check"
.venv/bin/ruff format --check .

step "mypy"
bash scripts/typecheck.sh

step "import layers (lint-imports)"
.venv/bin/lint-imports --no-cache

step "pytest"
rc=0
.venv/bin/pytest -q -p no:cacheprovider "$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    die "pytest collected no tests"
elif [[ $rc -ne 0 ]]; then
    exit "$rc"
fi
step "all checks passed"
