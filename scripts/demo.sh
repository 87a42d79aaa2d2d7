#!/usr/bin/env bash
# Runs the demo: web server, Celery worker and beat, and the local ESP simulator, as one command.
# Ctrl-C stops every process started here. `make demo` runs it with DATABASE_URL set (a private
# PostgreSQL server when none was given).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DEBUG="${DEBUG:-true}"
export MAILGUN_API_KEY="${MAILGUN_API_KEY:-demo-mailgun-key}"
export MAILGUN_SENDER_DOMAIN="${MAILGUN_SENDER_DOMAIN:-mail.clinicmail.test}"
export MAILGUN_WEBHOOK_SIGNING_KEY="${MAILGUN_WEBHOOK_SIGNING_KEY:-demo-signing-key}"
export ANYMAIL_WEBHOOK_SECRET="${ANYMAIL_WEBHOOK_SECRET:-demo:demo-webhook-secret}"
export PORT="${PORT:-8000}"
export ESPSIM_PORT="${ESPSIM_PORT:-8025}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
export MAILGUN_API_URL="${MAILGUN_API_URL:-http://127.0.0.1:${ESPSIM_PORT}/v3}"
export DEFAULT_FROM_EMAIL="${DEFAULT_FROM_EMAIL:-Clinic mail <mail@mail.clinicmail.test>}"
webhook_secret="${ANYMAIL_WEBHOOK_SECRET%%,*}"
export ESPSIM_WEBHOOK_URL="${ESPSIM_WEBHOOK_URL:-http://${webhook_secret}@127.0.0.1:${PORT}/anymail/mailgun/tracking/}"

mkdir -p .celery/queue .celery/processed .celery/control
$PY manage.py migrate --noinput
$PY manage.py seed_demo

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo "Stopping the demo..."
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

$PY -m espsim --host 127.0.0.1 --port "$ESPSIM_PORT" & pids+=($!)
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload & pids+=($!)
$PY -m celery -A config worker --concurrency 2 --loglevel INFO & pids+=($!)
$PY -m celery -A config beat --loglevel INFO & pids+=($!)

echo "Demo at http://127.0.0.1:${PORT} (password for every demo user: demo-pass-123). Ctrl-C stops it."
wait -n "${pids[@]}"
