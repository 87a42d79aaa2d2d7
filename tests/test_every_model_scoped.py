"""Every clinic-owned model, found by walking the installed apps, can be read only inside its
clinic's scope: unscoped, a query is refused; in another clinic's scope, none of the first
clinic's rows are seen. A new model with a `clinic` field and no scoped manager, or with no
factory to make one of its rows, fails here."""

import inspect

import factory
import pytest
from django.apps import apps
from django.conf import settings
from django_scopes import ScopeError, scope, scopes_disabled

from clinic.models import Clinic
from tests import factories


def clinic_owned(model) -> bool:
    field = next((f for f in model._meta.get_fields() if f.name == "clinic"), None)
    return field is not None and getattr(field, "related_model", None) is Clinic


def installed(model) -> bool:
    config = apps.get_app_config(model._meta.app_label)
    return any(
        name == config.name or name.startswith(f"{config.name}.apps.")
        for name in settings.INSTALLED_APPS
    )


CLINIC_OWNED = sorted(
    (model for model in apps.get_models() if installed(model) and clinic_owned(model)),
    key=lambda model: model._meta.label,
)
FACTORIES = {
    candidate._meta.model: candidate
    for _, candidate in inspect.getmembers(factories, inspect.isclass)
    if issubclass(candidate, factory.django.DjangoModelFactory) and candidate._meta.model
}


def test_the_walk_finds_the_clinic_owned_models_we_know_of():
    labels = {model._meta.label for model in CLINIC_OWNED}
    assert labels >= {
        "clinic.Membership",
        "clinic.Client",
        "clinic.Appointment",
        "clinic.Invoice",
        "clinic.SmartForm",
        "clinic.SmartFormRequest",
        "messaging.OutboundEmail",
        "messaging.EmailEvent",
        "notifications.Notification",
        "clinic.AuditEntry",
        "suppression.SuppressionCause",
        "suppression.ReactivationAsk",
        "messaging.EmailDayCount",
        "messaging.EmailCountChange",
        "messaging.DeliveredAddress",
        "messaging.MailHold",
        "messaging.GuardWarning",
    }
    assert "suppression.Suppression" not in labels  # an address's, on the platform's stream


def in_clinic(model_factory, clinic, prefix: str = "") -> dict:
    """The factory's arguments that put the row, and every row it is made of that a clinic owns,
    in this clinic."""
    arguments = {}
    for name, declaration in model_factory._meta.declarations.items():
        if isinstance(declaration, factory.SubFactory):
            arguments |= in_clinic(declaration.get_factory(), clinic, f"{prefix}{name}__")
    if clinic_owned(model_factory._meta.model):
        arguments[f"{prefix}clinic"] = clinic
    return arguments


@pytest.mark.parametrize("model", CLINIC_OWNED, ids=lambda model: model._meta.label)
def test_a_clinic_owned_model_is_read_only_in_its_clinics_scope(cast, model):
    assert model in FACTORIES, f"give {model._meta.label} a factory in tests/factories.py"
    make = FACTORIES[model]
    with scopes_disabled():
        mine = make(**in_clinic(make, cast.alice_clinic))
        theirs = make(**in_clinic(make, cast.charlie_clinic))
    assert (mine.clinic_id, theirs.clinic_id) == (cast.alice_clinic.pk, cast.charlie_clinic.pk)

    for manager in {model.objects, model._default_manager}:
        with pytest.raises(ScopeError):
            list(manager.all())
        with pytest.raises(ScopeError):
            manager.filter(pk=mine.pk).exists()
        with pytest.raises(ScopeError):
            manager.get(pk=mine.pk)

        with scope(clinic=cast.charlie_clinic):
            seen = set(manager.values_list("pk", flat=True))
            assert mine.pk not in seen
            assert theirs.pk in seen  # the control: the scope does show its own clinic's rows
            assert not manager.filter(pk=mine.pk).exists()
        with scope(clinic=cast.alice_clinic):
            assert set(
                manager.filter(pk__in=[mine.pk, theirs.pk]).values_list("pk", flat=True)
            ) == {mine.pk}
