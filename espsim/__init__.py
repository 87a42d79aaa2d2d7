"""espsim: a local email-service-provider simulator speaking Mailgun, Postmark, SendGrid or
Amazon SES, as django-anymail's real backends and webhook views expect.

One process speaks one ESP, chosen at start (``esp=``, ``--esp``, ``ESPSIM_ESP``; default
mailgun). The app's anymail backend for that ESP is pointed at it (``sim.anymail_settings()``
gives the settings) and it posts that ESP's tracking webhooks, in the ESP's documented format
and signed as the ESP signs them, to the configured URL after short delays:

    sim = espsim.start(esp="postmark", api_key="server-token",
                       webhook_url="http://u:p@127.0.0.1:8000/anymail/postmark/tracking/",
                       delay_scale=0.05)
    ...
    sim.wait_idle(); sim.messages(email_id="42"); sim.events(recipient="a@b.com"); sim.stop()

Outcomes depend on the recipient, the same for every ESP (``espsim.outcomes``); each dialect
(``espsim.mailgun``, ``espsim.postmark``, ``espsim.sendgrid``, ``espsim.amazon_ses``) lists its
routes, its words for each outcome step and its webhook format. The test-control API is the
same for all: ``GET /sim/health|messages|events|faults|config``; ``POST
/sim/reset|faults|config``; ``DELETE /sim/faults``. Command line: ``python -m espsim --help``.

HTTP toolkit: Werkzeug routes and parses the requests (its URL map, form and multipart
parsing, request/response objects) and cheroot, CherryPy's threaded HTTP/1.1 server, serves
them; both replaced a hand-written server, router and multipart parser that four dialects
would have had to grow. Werkzeug's own development server was not enough: it closes every
connection after one response, and the app (and its benchmarks) send over keep-alive
connections, as they do to a real ESP; cheroot keeps them open, runs the WSGI app on a thread
pool, and starts and stops inside a test (``prepare``/``serve``/``stop``).
"""

__version__ = "2.0.0"

from .server import Simulator, start

__all__ = ["Simulator", "start"]
