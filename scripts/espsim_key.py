"""Prints what the ESP simulator serves at the URL given, once it answers (the demo reads the
simulator's SendGrid webhook key this way)."""

import sys
import time
import urllib.request

deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as response:  # noqa: S310
            print(response.read().decode())
            break
    except OSError:
        if time.monotonic() > deadline:
            raise SystemExit(f"the ESP simulator did not answer at {sys.argv[1]}") from None
        time.sleep(0.1)
