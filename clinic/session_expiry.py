"""A login ends after SESSION_IDLE_MINUTES without use, and SESSION_COOKIE_AGE after it began
however busy it was: a screen left logged in at a reception desk must not stay open on patients'
records.

Use is a request the person made. The pages refresh the bell and the email log by themselves
(htmx GETs, every few seconds); counting those would keep an unattended screen logged in forever,
so they are answered but do not count."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

STARTED_KEY = "login_started_at"
LAST_USED_KEY = "last_used_at"
# A session is written at most this often just to record use.
USE_RECORDED_EVERY_SECONDS = 60

IDLE_MESSAGE = (
    "You were logged out after {minutes} minutes without activity, to keep patients' details "
    "safe. Log in again to carry on."
)
EXPIRED_MESSAGE = (
    "You were logged out because you had been logged in for {hours} hours. Log in again to carry "
    "on."
)


def _now() -> float:
    return timezone.now().timestamp()


@receiver(user_logged_in, dispatch_uid="session_expiry_login_started")
def login_started(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = _now()
    request.session[STARTED_KEY] = now
    request.session[LAST_USED_KEY] = now


def _is_background_refresh(request) -> bool:
    return request.method == "GET" and request.headers.get("HX-Request") == "true"


def _why_ended(session, now: float) -> str | None:
    started = session.get(STARTED_KEY, now)
    last_used = session.get(LAST_USED_KEY, now)
    if now - started > settings.SESSION_COOKIE_AGE:
        return EXPIRED_MESSAGE.format(hours=settings.SESSION_COOKIE_AGE // 3600)
    if now - last_used > settings.SESSION_IDLE_MINUTES * 60:
        return IDLE_MESSAGE.format(minutes=settings.SESSION_IDLE_MINUTES)
    return None


def _back_to_login(request):
    """The login page the person came through (the support admin has its own), with the page
    they were on as `next`; a background refresh asks htmx to load it as a whole page."""
    admin_prefix = reverse("admin:index")
    login_url = reverse("admin:login") if request.path.startswith(admin_prefix) else None
    if _is_background_refresh(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = login_url or reverse(settings.LOGIN_URL)
        return response
    return redirect_to_login(request.get_full_path(), login_url)


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = _now()
            why = _why_ended(request.session, now)
            if why:
                logout(request)
                messages.info(request, why)
                return _back_to_login(request)
            self._record_use(request, now)
        return self.get_response(request)

    @staticmethod
    def _record_use(request, now: float) -> None:
        session = request.session
        session.setdefault(STARTED_KEY, now)
        if _is_background_refresh(request):
            return
        if now - session.get(LAST_USED_KEY, 0) >= USE_RECORDED_EVERY_SECONDS:
            session[LAST_USED_KEY] = now
