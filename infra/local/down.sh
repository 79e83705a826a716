#!/usr/bin/env bash
# Stops only what infra/local/up.sh started (it records that in .run/infra/*.started); services that were
# already running when up.sh ran are left alone. Data is kept (Postgres cluster, NATS JetStream store).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.run/infra"
REDIS_PORT="${GW_REDIS_PORT:-6379}"

stopped=0

if [[ -f "$STATE/nats.started" ]]; then
  if [[ -f "$STATE/nats.pid" ]] && kill -0 "$(cat "$STATE/nats.pid")" 2>/dev/null; then
    if command -v start-stop-daemon >/dev/null 2>&1; then
      start-stop-daemon --stop --oknodo --retry TERM/10/KILL/5 --pidfile "$STATE/nats.pid" >/dev/null
    else
      kill "$(cat "$STATE/nats.pid")"
    fi
  fi
  rm -f "$STATE/nats.started" "$STATE/nats.pid"
  echo "nats      stopped"
  stopped=1
fi

if [[ -f "$STATE/redis.started" ]]; then
  if [[ -f "$STATE/redis.pid" ]] && kill -0 "$(cat "$STATE/redis.pid")" 2>/dev/null; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$STATE/redis.pid")"
  fi
  rm -f "$STATE/redis.started" "$STATE/redis.pid"
  echo "redis     stopped"
  stopped=1
fi

if [[ -f "$STATE/postgres.started" ]]; then
  ver="$(cat "$STATE/postgres.started")"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main stop || echo "postgres: pg_ctlcluster $ver main stop failed" >&2
  rm -f "$STATE/postgres.started"
  echo "postgres  stopped"
  stopped=1
fi

if ((stopped == 0)); then
  echo "nothing to stop: infra/local/up.sh started none of Postgres, Redis, NATS (they were already running)"
fi
