"""The app's settings with the naive webhook receiver's URLconf (bench/webhook_ingest.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.naive_urls"
