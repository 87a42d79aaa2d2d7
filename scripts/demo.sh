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

# The simulator speaks the ESP the app sends through; that ESP's API URL and demo credentials
# point the app at it.
export EMAIL_ESP="${EMAIL_ESP:-mailgun}"
simulator="http://127.0.0.1:${ESPSIM_PORT}"
case "$EMAIL_ESP" in
    postmark)
        export POSTMARK_SERVER_TOKEN="${POSTMARK_SERVER_TOKEN:-demo-postmark-server-token}"
        export POSTMARK_API_URL="${POSTMARK_API_URL:-${simulator}/}"
        ;;
    sendgrid)
        export SENDGRID_API_KEY="${SENDGRID_API_KEY:-SG.demo-sendgrid-key}"
        export SENDGRID_API_URL="${SENDGRID_API_URL:-${simulator}/v3/}"
        # Signed Event Webhook: the app verifies with the simulator's public key (read below).
        export ESPSIM_SENDGRID_SIGNED="${ESPSIM_SENDGRID_SIGNED:-true}"
        ;;
    amazon_ses)
        export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-AKIADEMOESPSIM}"
        export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-demo-aws-secret-key}"
        export AWS_REGION="${AWS_REGION:-eu-west-1}"
        export AMAZON_SES_ENDPOINT_URL="${AMAZON_SES_ENDPOINT_URL:-${simulator}}"
        # SNS notifications come from the simulator's topic, signed with its certificate.
        export ESPSIM_SNS_TOPIC_ARN="${ESPSIM_SNS_TOPIC_ARN:-arn:aws:sns:${AWS_REGION}:123456789012:espsim-ses-events}"
        export AMAZON_SNS_TOPICS="${AMAZON_SNS_TOPICS:-${ESPSIM_SNS_TOPIC_ARN}}"
        export AMAZON_SNS_CERT_URLS="${AMAZON_SNS_CERT_URLS:-${simulator}/sns/}"
        ;;
esac
export ESPSIM_WEBHOOK_URL="${ESPSIM_WEBHOOK_URL:-http://${webhook_secret}@127.0.0.1:${PORT}/anymail/${EMAIL_ESP}/tracking/}"

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

$PY -m espsim --esp "$EMAIL_ESP" --host 127.0.0.1 --port "$ESPSIM_PORT" & pids+=($!)
if [[ "$EMAIL_ESP" == sendgrid && "$ESPSIM_SENDGRID_SIGNED" == true ]]; then
    # The simulator's webhook key is made at its start; the web server must know it.
    SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY="${SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY:-$(
        $PY scripts/espsim_key.py "${simulator}/sim/sendgrid/verification-key")}"
    export SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY
fi
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload & pids+=($!)
$PY -m celery -A config worker --concurrency 2 --loglevel INFO & pids+=($!)
$PY -m celery -A config beat --loglevel INFO & pids+=($!)

echo "Demo at http://127.0.0.1:${PORT} (password for every demo user: demo-pass-123). Ctrl-C stops it."
wait -n "${pids[@]}"
