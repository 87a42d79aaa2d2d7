"""``python -m espsim``: run the ESP simulator in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .dialects import DIALECTS
from .server import start
from .webhooks import redact_url

log = logging.getLogger("espsim")
# The credential each ESP's API checks, by the environment variable the app reads it from.
API_KEY_ENV = {
    "mailgun": "MAILGUN_API_KEY",
    "postmark": "POSTMARK_SERVER_TOKEN",
    "sendgrid": "SENDGRID_API_KEY",
    "amazon_ses": "AWS_ACCESS_KEY_ID",
}


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_bool(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m espsim",
        description="Local ESP simulator speaking Mailgun, Postmark, SendGrid or Amazon SES.",
    )
    parser.add_argument("--esp", choices=sorted(DIALECTS), default=env("ESPSIM_ESP") or "mailgun")
    parser.add_argument("--host", default=env("ESPSIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("ESPSIM_PORT") or 8025))
    parser.add_argument(
        "--api-key",
        help="the credential the API checks (default: the ESP's variable: "
        + ", ".join(f"{esp} {name}" for esp, name in API_KEY_ENV.items())
        + ")",
    )
    parser.add_argument("--webhook-url", default=env("ESPSIM_WEBHOOK_URL"))
    parser.add_argument(
        "--signing-key",
        default=env("MAILGUN_WEBHOOK_SIGNING_KEY"),
        help="Mailgun's webhook signing key",
    )
    parser.add_argument("--delay-scale", type=float, default=_env_float("ESPSIM_DELAY_SCALE", 1.0))
    parser.add_argument("--domain", default=env("ESPSIM_DOMAIN"), help="only accept this domain")
    parser.add_argument("--workers", type=int, default=8, help="webhook delivery threads")
    parser.add_argument(
        "--retry-total",
        type=float,
        default=_env_float("ESPSIM_RETRY_TOTAL", 600.0),
        help="seconds to keep retrying a webhook",
    )
    parser.add_argument("--unordered", action="store_true", help="post events independently")
    parser.add_argument(
        "--sendgrid-signed",
        action="store_true",
        default=_env_bool("ESPSIM_SENDGRID_SIGNED"),
        help="SendGrid: sign webhooks with ECDSA (its public key is printed and served)",
    )
    parser.add_argument(
        "--sendgrid-key-file",
        default=env("ESPSIM_SENDGRID_KEY_FILE"),
        help="SendGrid: PEM file of the signing key (created if missing; default: a new key)",
    )
    parser.add_argument(
        "--sns-topic-arn",
        default=env("ESPSIM_SNS_TOPIC_ARN"),
        help="Amazon SES: the SNS topic the events come from",
    )
    parser.add_argument(
        "--sns-cert-url",
        default=env("ESPSIM_SNS_CERT_URL"),
        help="Amazon SES: SigningCertURL (default: the simulator's own /sns/...pem)",
    )
    parser.add_argument("--aws-region", default=env("AWS_REGION") or "eu-west-1")
    parser.add_argument("--log-level", default=env("ESPSIM_LOG_LEVEL", "INFO"))
    return parser


def esp_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.esp == "sendgrid":
        return {"signed": args.sendgrid_signed, "key_file": args.sendgrid_key_file}
    if args.esp == "amazon_ses":
        return {
            "topic_arn": args.sns_topic_arn,
            "cert_url": args.sns_cert_url,
            "region": args.aws_region,
        }
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV[args.esp])
    sim = start(
        port=args.port,
        api_key=api_key or None,
        webhook_url=args.webhook_url,
        signing_key=args.signing_key,
        delay_scale=args.delay_scale,
        domain=args.domain,
        host=args.host,
        esp=args.esp,
        ordered=not args.unordered,
        workers=args.workers,
        retry_total=args.retry_total,
        **esp_options(args),
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    hook = redact_url(args.webhook_url) if args.webhook_url else "none (events only recorded)"
    log.info(
        "espsim speaking %s on %s (API %s), webhooks: %s",
        sim.dialect.label,
        sim.url,
        sim.api_url,
        hook,
    )
    for line in sim.dialect.start_lines():
        log.info("%s", line)
    while not stop.wait(1.0):
        pass
    sim.stop()
    log.info("espsim stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
