from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_basic_auth_secrets,
    env_bool,
    env_choice,
    env_choices,
    env_database,
    env_int,
    env_list,
    env_percent,
    env_required,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = (
    env_str("SECRET_KEY", "insecure-development-key-only-for-debug")
    if DEBUG
    else env_required("SECRET_KEY", "a long random value; only DEBUG=true may run without one")
)
# Secrets stored in the database (a clinic's SMTP password) are encrypted with these Fernet keys,
# newest first; never SECRET_KEY (clinic/encryption.py). DEBUG alone may run with the fixed,
# public development key.
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS",
    ["ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="] if DEBUG else [],
)
if not DEBUG and not FIELD_ENCRYPTION_KEYS:
    env_required("FIELD_ENCRYPTION_KEYS", "Fernet keys for secrets stored in the database")
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each), "
            "comma-separated, newest first"
        ) from None
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", ("http", "https"))

INSTALLED_APPS = [
    "clinic.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "rest_framework",
    "knox",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "clinic.apps.ClinicConfig",
    "messaging",
    "suppression",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The app serves its own static files (scripts and styles the CSP allows as 'self').
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.session_expiry.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic.middleware.ClinicScopeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.current_clinic",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# PostgreSQL only. `make demo` and `make test` start a private server when DATABASE_URL is unset.
DATABASES = {
    "default": env_database(
        "DATABASE_URL", "postgres://user@host:port/name; `make demo` and `make test` set it"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", None, ("redis", "rediss"))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): five wrong passwords from one address (whichever accounts they
# try: password spraying) or for one account (from wherever: credential stuffing) lock that
# address or that account out for 15 minutes. A success does not wipe the count, or one valid
# account would let a sprayer start again.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field, which holds the email address
AXES_RESET_ON_SUCCESS = False
# The client's address as TRUSTED_PROXY_COUNT says (clinic/client_address.py), never a
# client-written X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "clinic.client_address.client_address"
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # support on to the admin, clinic staff to their clients
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"  # the image collects them here at build time
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only, once DEBUG is off: plain HTTP is redirected (SECURE_SSL_REDIRECT=false where the
# edge already redirects before the proxy) and browsers are told to use HTTPS for a year, on every
# subdomain too.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else 365 * 24 * 60 * 60
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG and env_bool("SECURE_HSTS_PRELOAD", True)
# Content-Security-Policy (django-csp): scripts and styles from our own static files only, never
# inline; no plugins, no framing, forms post only here. With DEBUG on the same policy is reported,
# not enforced, so Django's debug pages still work while violations show in the console.
CONTENT_SECURITY_POLICY_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "object-src": [NONE],
    "base-uri": [NONE],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
}
CONTENT_SECURITY_POLICY = None if DEBUG else {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}
CONTENT_SECURITY_POLICY_REPORT_ONLY = (
    {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES} if DEBUG else None
)
# A login lasts at most SESSION_MAX_HOURS (12), and ends after SESSION_IDLE_MINUTES (30) without a
# click (clinic/session_expiry.py); the pages' own background refreshes do not count as use.
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 12, minimum=1) * 60 * 60
if SESSION_COOKIE_AGE > 12 * 60 * 60:
    raise ImproperlyConfigured("SESSION_MAX_HOURS may be at most 12: a login to patient data")
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
# Support staff (superusers, who see every clinic) open the admin with a password and the code of
# an authenticator app (django-otp TOTP), enrolled with `manage.py totp_enrol EMAIL`.
OTP_TOTP_ISSUER = "Clinic mail support"
# How many reverse proxies of ours stand in front of the app: the client's address is the one that
# many hops back in X-Forwarded-For (login lockout and API throttling). 0: no proxy, the
# connection's own address; a client-written X-Forwarded-For is then ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # The address a throttle counts is the one TRUSTED_PROXY_COUNT hops back in X-Forwarded-For.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# API tokens (django-rest-knox): only a hash is stored, the token is shown once when issued, and
# it stops working API_TOKEN_DAYS after it was issued (no renewal by use); staff issue and
# revoke their own at /settings/api-tokens/. Clients send `Authorization: Token <token>`.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_DAYS", 90, minimum=1)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# API throttling, kept in the cache (Redis), as "<requests>/<s|min|hour|day>". Per address: every
# request from one address is counted before its token is even read, so guessing tokens is
# throttled too; above a token's own rate, so one integration at full speed is not stopped by it.
# Per token: each token (or logged-in user) on its own.
API_RATE_PER_IP = env_str("API_RATE_PER_IP", "240/min")
API_RATE_PER_TOKEN = env_str("API_RATE_PER_TOKEN", "120/min")
for _name, _rate in (
    ("API_RATE_PER_IP", API_RATE_PER_IP),
    ("API_RATE_PER_TOKEN", API_RATE_PER_TOKEN),
):
    _count, _, _period = _rate.partition("/")
    if not _count.isdigit() or _period not in ("s", "sec", "min", "hour", "day"):
        raise ImproperlyConfigured(
            f"{_name} must look like 120/min (s, min, hour or day), not {_rate!r}"
        )

# Email: every platform send goes through anymail's backend for the chosen ESP.
EMAIL_ESP = env_choice("EMAIL_ESP", "mailgun", ("mailgun", "postmark", "amazon_ses", "sendgrid"))
EMAIL_BACKEND = f"anymail.backends.{EMAIL_ESP}.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clinic mail <mail@clinicmail.test>")
# Where clients write to be mailed again (removal requests, inbound webhook): production names it.
SUPPORT_EMAIL = (
    env_str("SUPPORT_EMAIL", "support@clinicmail.test")
    if DEBUG
    else env_required("SUPPORT_EMAIL", "the address clients write to to be mailed again")
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 15, minimum=1)
# A clinic's own SMTP server must be on the internet (clinic/smtp_servers.py); hosts listed here
# may resolve to a private or loopback address (a local server for the tests or the demo only).
SMTP_PRIVATE_HOSTS_ALLOWED = env_list("SMTP_PRIVATE_HOSTS_ALLOWED", [])
# A PEM bundle of authorities trusted for clinics' SMTP servers besides the system's own.
SMTP_CA_FILE = env_str("SMTP_CA_FILE")
ANYMAIL = {
    "WEBHOOK_SECRET": env_basic_auth_secrets("ANYMAIL_WEBHOOK_SECRET"),
    "REQUESTS_TIMEOUT": (5, EMAIL_TIMEOUT),
    "MAILGUN_API_KEY": env_str("MAILGUN_API_KEY"),
    "MAILGUN_SENDER_DOMAIN": env_str("MAILGUN_SENDER_DOMAIN"),
    "MAILGUN_API_URL": env_url("MAILGUN_API_URL", "https://api.mailgun.net/v3", ("http", "https")),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY"),
    "POSTMARK_SERVER_TOKEN": env_str("POSTMARK_SERVER_TOKEN"),
    "POSTMARK_API_URL": env_url(
        "POSTMARK_API_URL", "https://api.postmarkapp.com/", ("http", "https")
    ),
    "SENDGRID_API_KEY": env_str("SENDGRID_API_KEY"),
    "SENDGRID_API_URL": env_url(
        "SENDGRID_API_URL", "https://api.sendgrid.com/v3/", ("http", "https")
    ),
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env_str(
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
    ),
    "AMAZON_SES_CLIENT_PARAMS": {
        "region_name": env_str("AWS_REGION", "eu-west-1"),
        # None (unset): boto3's own endpoint for the region.
        "endpoint_url": env_url("AMAZON_SES_ENDPOINT_URL", None, ("http", "https")),
    },
}
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value not in (None, [])}

# Webhooks are served for the ESP mail goes through, and for any kept while moving between ESPs;
# every other ESP's endpoints are 404. An event changes an email only if it came from the ESP
# that email went through (messaging/tracking/store.py).
ESPS = ("mailgun", "postmark", "amazon_ses", "sendgrid")
WEBHOOK_ESPS = [EMAIL_ESP] + [
    esp for esp in env_choices("WEBHOOK_ESPS_KEPT", ESPS) if esp != EMAIL_ESP
]
# Amazon SNS (SES's events): certificates only from these URL prefixes, messages only from
# these topics (messaging/tracking/sns.py).
AWS_REGION = ANYMAIL["AMAZON_SES_CLIENT_PARAMS"]["region_name"]
AMAZON_SNS_CERT_URLS = env_list(
    "AMAZON_SNS_CERT_URLS", [f"https://sns.{AWS_REGION}.amazonaws.com/"]
)
AMAZON_SNS_TOPICS = env_list("AMAZON_SNS_TOPICS", [])
# Mailgun signs a timestamp and a token, not the body: a post whose token was kept already is a
# replay, and one signed outside this window is refused.
MAILGUN_SIGNATURE_MAX_AGE = timedelta(hours=24)
MAILGUN_SIGNATURE_MAX_AHEAD = timedelta(minutes=5)

if not DEBUG:  # a production process will not start with webhooks open to anyone
    env_required(
        "ANYMAIL_WEBHOOK_SECRET",
        "user:password for the ESPs' webhooks; only DEBUG=true may run without",
    )
    if "mailgun" in WEBHOOK_ESPS:
        env_required("MAILGUN_WEBHOOK_SIGNING_KEY", "Mailgun's webhook signing key")
    if "amazon_ses" in WEBHOOK_ESPS:
        env_required("AMAZON_SNS_TOPICS", "the ARNs of the SNS topics SES publishes events to")

# Celery: the database is the record of what must be sent; the broker only carries ids.
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", ("redis", "rediss", "amqp", "filesystem")
)
CELERY_DATA_DIR = BASE_DIR / ".celery"
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # An unacknowledged task is handed to another worker after this; it must exceed the hard
    # time limit, or a slow but healthy send would run twice.
    else {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 4}
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")

# Retention and sweeps.
EMAIL_LOG_RETENTION_DAYS = env_int("EMAIL_LOG_RETENTION_DAYS", 30, minimum=1)
# A smart form's link works this many days after it was sent; then it answers 410 and the clinic
# sends the form again.
SMART_FORM_LINK_DAYS = env_int("SMART_FORM_LINK_DAYS", 30, minimum=1)
# Emails a clinic's staff or API may start in any 24 hours (direct messages, invoices, smart
# forms); beyond it they are refused at once, nothing is queued. Automatic appointment emails
# (confirmations, cancellations, reminders) count towards it but are never refused: patients must
# get their reminders.
DAILY_SEND_QUOTA = env_int("DAILY_SEND_QUOTA", 2000, minimum=1)
# The reputation guard (messaging/reputation/): one clinic's bad addresses must not stop every
# clinic's mail, as all share the platform's sending reputation. Over the last GUARD_WINDOW_DAYS
# days of a clinic's emails (days on its clock), counting only what the address caused (hard
# bounces, spam complaints), and only on enough evidence (GUARD_MIN_SENDS emails handed over and
# GUARD_MIN_EVENTS such events of a kind): at a warning threshold its admins and support are told
# once per crossing; at a hold threshold its mail to addresses never delivered to is held until
# support releases it. Thresholds in percent, below the ESPs' own (Amazon SES reviews an account
# at 5% bounces and 0.1% complaints; Gmail and Yahoo refuse bulk senders above 0.3% spam).
GUARD_WINDOW_DAYS = env_int("GUARD_WINDOW_DAYS", 7, minimum=1)
GUARD_MIN_SENDS = env_int("GUARD_MIN_SENDS", 200, minimum=1)
GUARD_MIN_EVENTS = env_int("GUARD_MIN_EVENTS", 5, minimum=1)
GUARD_BOUNCE_WARNING_PERCENT = env_percent("GUARD_BOUNCE_WARNING_PERCENT", 4.0)
GUARD_BOUNCE_HOLD_PERCENT = env_percent("GUARD_BOUNCE_HOLD_PERCENT", 8.0)
GUARD_COMPLAINT_WARNING_PERCENT = env_percent("GUARD_COMPLAINT_WARNING_PERCENT", 0.08)
GUARD_COMPLAINT_HOLD_PERCENT = env_percent("GUARD_COMPLAINT_HOLD_PERCENT", 0.3)
# A held email released more than this many days after it was written is failed with words
# instead of sent: an appointment or a message that old may no longer be right.
HELD_EMAIL_MAX_DAYS = env_int("HELD_EMAIL_MAX_DAYS", 3, minimum=1)
# Every other table holding patient data, deleted (or its personal fields cleared) by the same
# nightly job (messaging/log/retention.py); the table is in docs/operations.md.
RECEIVED_BATCH_RETENTION_DAYS = env_int("RECEIVED_BATCH_RETENTION_DAYS", 30, minimum=1)
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 90, minimum=1)
REMOVAL_REQUEST_RETENTION_DAYS = env_int("REMOVAL_REQUEST_RETENTION_DAYS", 90, minimum=1)
REMOVAL_REQUEST_PENDING_RETENTION_DAYS = env_int(
    "REMOVAL_REQUEST_PENDING_RETENTION_DAYS", 365, minimum=1
)
SMART_FORM_ANSWERS_RETENTION_DAYS = env_int("SMART_FORM_ANSWERS_RETENTION_DAYS", 30, minimum=1)
SUPPRESSION_EVIDENCE_RETENTION_DAYS = env_int("SUPPRESSION_EVIDENCE_RETENTION_DAYS", 90, minimum=1)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 400, minimum=1)
OUTBOX_SWEEP_AFTER_SECONDS = env_int("OUTBOX_SWEEP_AFTER_SECONDS", 180, minimum=1)
# An email the ESP accepted and has not reported an outcome of this long after it was sent is
# looked up in the ESP's own event log, and again with backoff (messaging/tracking/reconcile.py).
RECONCILE_AFTER_SECONDS = env_int("RECONCILE_AFTER_SECONDS", 600, minimum=0)
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 6, minimum=1)
# The first retry waits between half and all of this; it must exceed the time the ESP takes to
# report an acceptance, so that a timed-out send the ESP did accept is not sent twice.
SEND_RETRY_BASE_SECONDS = env_int("SEND_RETRY_BASE_SECONDS", 10, minimum=1)
# After the ESP did not answer in time, the email may have been accepted all the same: the retry
# waits at least this long, for the ESP's acceptance event to arrive and be applied (the claim
# then finds the email no longer `sending`) rather than send it twice.
SEND_UNKNOWN_OUTCOME_WAIT_SECONDS = env_int("SEND_UNKNOWN_OUTCOME_WAIT_SECONDS", 60, minimum=1)
# An attempt claims its email for this long: past it, the worker is taken to have died midway
# and the sweeper sends the email again. Longer than a task may run (its hard time limit).
SEND_LEASE_SECONDS = env_int("SEND_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 30, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "personal_data": {"()": "config.logging.RedactPersonalData"},
        "one_line": {"()": "config.logging.EscapeLineBreaks"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data", "one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
