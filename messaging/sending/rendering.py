from dataclasses import dataclass

from django.conf import settings
from django.template import Context, engines
from django.utils import timezone

from clinic.models import Clinic


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _render(name: str, context: dict, *, autoescape: bool) -> str:
    template = engines["django"].get_template(name).template
    return template.render(Context(context, autoescape=autoescape))


def render_email(kind: str, *, clinic: Clinic, context: dict) -> RenderedEmail:
    """Renders emails/<kind>-subject.txt, -body.txt and -body.html in the clinic's time zone."""
    context = {"clinic": clinic, "site_url": settings.SITE_URL, **context}
    with timezone.override(clinic.tzinfo):
        subject = _render(f"emails/{kind}-subject.txt", context, autoescape=False)
        text = _render(f"emails/{kind}-body.txt", context, autoescape=False)
        html = _render(f"emails/{kind}-body.html", context, autoescape=True)
    return RenderedEmail(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)
