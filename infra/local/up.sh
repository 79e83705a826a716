#!/usr/bin/env bash
# Local infrastructure without Docker (Debian): Postgres, Redis, NATS with JetStream.
# For each one: use it when it is reachable; otherwise install it from Debian's packages (as root, only when
# the binary is missing) and start it. Then create the gateway database and apply the SQL migrations.
# Idempotent: run it as often as you like. infra/local/down.sh stops only what this script started
# (recorded in .run/infra/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.run/infra"
mkdir -p "$STATE"

PG_HOST=127.0.0.1
PG_PORT="${GW_PG_PORT:-5432}"
REDIS_PORT="${GW_REDIS_PORT:-6379}"
NATS_PORT="${GW_NATS_PORT:-4222}"
WAIT_SECONDS="${GW_INFRA_WAIT_SECONDS:-30}"
DATABASE_URL="${DATABASE_URL:-postgresql://postgres@${PG_HOST}:${PG_PORT}/gateway}"
# the database name is the last path segment of DATABASE_URL (without a query string)
DB_NAME="${DATABASE_URL##*/}"
DB_NAME="${DB_NAME%%\?*}"

say() { printf '%s\n' "$*"; }
die() {
  printf 'infra/local/up.sh: error: %s\n' "$*" >&2
  exit 1
}

if [[ ! "$DB_NAME" =~ ^[A-Za-z0-9_-]+$ ]]; then
  die "cannot take a database name from DATABASE_URL=$DATABASE_URL (expected .../<name> with letters, digits, _ or -)"
fi

# ---- probes -------------------------------------------------------------------------------------------

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
  else
    tcp_open 127.0.0.1 "$REDIS_PORT"
  fi
}

# The first line a NATS server sends is `INFO {...}`; with JetStream enabled it says "jetstream":true.
nats_info() {
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT && IFS= read -r -t 2 line <&3 && printf '%s' \"\$line\"" 2>/dev/null
}
nats_up() { [[ "$(nats_info)" == INFO* ]]; }

wait_for() { # wait_for <what> <probe function> <log file or "">
  local what="$1" probe="$2" log="${3:-}" i
  for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
    if "$probe"; then return 0; fi
    sleep 0.25
  done
  if [[ -n "$log" && -f "$log" ]]; then
    printf -- '--- last lines of %s\n' "$log" >&2
    tail -n 20 "$log" >&2 || true
  fi
  die "$what did not become reachable within ${WAIT_SECONDS}s"
}

# ---- installing missing binaries ----------------------------------------------------------------------

pg_bin_dir() { # the newest installed server version's bin dir, or nothing
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$d" && -x "$d/postgres" ]] && printf '%s' "$d"
}
have_pg() { command -v pg_ctlcluster >/dev/null 2>&1 && [[ -n "$(pg_bin_dir)" ]]; }
have_redis() { command -v redis-server >/dev/null 2>&1; }
have_nats() { command -v nats-server >/dev/null 2>&1 || [[ -x /usr/sbin/nats-server ]]; }
nats_bin() { command -v nats-server 2>/dev/null || printf '/usr/sbin/nats-server'; }

apt_install() { # apt_install <package>...
  if [[ "$(id -u)" != 0 ]]; then
    die "not installed: $* (and not root, so cannot apt-get install them): run 'sudo apt-get install -y $*' or start them yourself"
  fi
  command -v apt-get >/dev/null 2>&1 || die "not installed: $*; apt-get is not available on this machine"
  export DEBIAN_FRONTEND=noninteractive
  local need_update=0 p
  for p in "$@"; do
    # `apt-cache show` fails when the package lists do not know the package (e.g. never updated)
    apt-cache show "$p" >/dev/null 2>&1 || need_update=1
  done
  if ((need_update)); then
    say "apt-get update (package lists do not know: $*)"
    apt-get update -q >/dev/null || die "apt-get update failed"
  fi
  say "apt-get install -y $*"
  apt-get install -y -q --no-install-recommends "$@" >/dev/null || die "apt-get install -y $* failed"
}

missing=()
pg_up || have_pg || missing+=(postgresql)
redis_up || have_redis || missing+=(redis-server)
nats_up || have_nats || missing+=(nats-server)
if ((${#missing[@]})); then apt_install "${missing[@]}"; fi

# ---- Postgres -----------------------------------------------------------------------------------------

start_postgres() {
  local ver fresh=0
  ver="$(basename "$(dirname "$(pg_bin_dir)")")"
  if [[ ! -d "/etc/postgresql/$ver/main" ]]; then
    command -v pg_createcluster >/dev/null 2>&1 || die "postgresql $ver has no cluster 'main' and pg_createcluster is missing"
    pg_createcluster --port "$PG_PORT" "$ver" main >/dev/null
    fresh=1
  fi
  if ((fresh)) || [[ -f "$STATE/postgres.installed" ]]; then
    # a cluster made by us: trust connections from this machine, like the development machines
    # (user postgres, no password); see infra/local/README.md
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if ! grep -q '^# gw: local trust' "$hba"; then
      { printf '# gw: local trust\nlocal all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; cat "$hba"; } >"$hba.gw" && mv "$hba.gw" "$hba"
      chown postgres:postgres "$hba" 2>/dev/null || true
    fi
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || die "pg_ctlcluster $ver main start failed (see /var/log/postgresql/)"
  printf '%s\n' "$ver" >"$STATE/postgres.started"
  wait_for "Postgres on $PG_HOST:$PG_PORT" pg_up "/var/log/postgresql/postgresql-$ver-main.log"
}

if pg_up; then
  say "postgres  $PG_HOST:$PG_PORT  reachable (already running)"
else
  [[ " ${missing[*]:-} " == *" postgresql "* ]] && : >"$STATE/postgres.installed"
  [[ "$(id -u)" == 0 ]] || die "Postgres is not reachable on $PG_HOST:$PG_PORT and starting a cluster needs root; start it yourself"
  start_postgres
  say "postgres  $PG_HOST:$PG_PORT  started"
fi

# ---- Redis --------------------------------------------------------------------------------------------

if redis_up; then
  say "redis     127.0.0.1:$REDIS_PORT  reachable (already running)"
else
  mkdir -p "$STATE/redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$STATE/redis" --logfile "$STATE/redis.log" --pidfile "$STATE/redis.pid" ||
    die "redis-server failed to start (see $STATE/redis.log)"
  : >"$STATE/redis.started"
  wait_for "Redis on 127.0.0.1:$REDIS_PORT" redis_up "$STATE/redis.log"
  say "redis     127.0.0.1:$REDIS_PORT  started"
fi

# ---- NATS with JetStream ------------------------------------------------------------------------------

if nats_up; then
  say "nats      127.0.0.1:$NATS_PORT  reachable (already running)"
else
  mkdir -p "$STATE/nats"
  args=(-a 127.0.0.1 -p "$NATS_PORT" -js -sd "$STATE/nats" -l "$STATE/nats.log")
  if command -v start-stop-daemon >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$STATE/nats.pid" \
      --exec "$(nats_bin)" -- "${args[@]}" || die "nats-server failed to start (see $STATE/nats.log)"
  else
    nohup "$(nats_bin)" "${args[@]}" >/dev/null 2>&1 &
    echo $! >"$STATE/nats.pid"
  fi
  : >"$STATE/nats.started"
  wait_for "NATS on 127.0.0.1:$NATS_PORT" nats_up "$STATE/nats.log"
  say "nats      127.0.0.1:$NATS_PORT  started"
fi
if [[ "$(nats_info)" != *'"jetstream":true'* ]]; then
  die "the NATS server on 127.0.0.1:$NATS_PORT runs without JetStream: restart it with -js (e.g. nats-server -js -sd <dir>)"
fi

# ---- database and migrations --------------------------------------------------------------------------

PSQL=(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq)
command -v psql >/dev/null 2>&1 || die "psql is missing (install postgresql-client)"
exists="$("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" </dev/null)" ||
  die "cannot connect to Postgres as user postgres on $PG_HOST:$PG_PORT without a password (pg_hba.conf must trust local connections; see infra/local/README.md)"
if [[ "$exists" == 1 ]]; then
  say "database  $DB_NAME  exists"
else
  "${PSQL[@]}" -c "CREATE DATABASE \"$DB_NAME\"" </dev/null || die "CREATE DATABASE $DB_NAME failed"
  say "database  $DB_NAME  created"
fi

MIGRATE="$ROOT/packages/db/dist/src/migrate-cli.js"
[[ -f "$MIGRATE" ]] || die "packages/db is not built ($MIGRATE missing): run bin/gateway setup first"
command -v node >/dev/null 2>&1 || die "node is not on PATH"
DATABASE_URL="$DATABASE_URL" node "$MIGRATE" || die "migrations failed for $DATABASE_URL"
