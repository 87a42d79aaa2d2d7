"""espsim: a local email-service-provider simulator speaking Mailgun's HTTP API.

django-anymail's Mailgun backend sends through it (``MAILGUN_API_URL =
"http://127.0.0.1:<port>/v3"``) and it posts signed Mailgun tracking webhooks back.

    sim = espsim.start(api_key="key", webhook_url="http://u:p@127.0.0.1:8000/anymail/mailgun/"
                       "tracking/", signing_key="whsec", delay_scale=0.05)
    ...
    sim.wait_idle(); sim.messages(email_id="42"); sim.events(recipient="a@b.com"); sim.stop()

Outcomes depend on the recipient (see ``espsim.outcomes``). Endpoints:
``POST /v3/<domain>/messages``; ``GET|POST|DELETE /v3/<domain>/{bounces,complaints,
unsubscribes}[/<address>]``; ``GET /sim/health|messages|events|faults|config``;
``POST /sim/reset|faults|config``; ``DELETE /sim/faults``.
Command line: ``python -m espsim --help``.
"""

from .server import Simulator, start

__all__ = ["Simulator", "start"]
__version__ = "1.0.0"
