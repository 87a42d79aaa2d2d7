import pytest
from django_scopes import ScopeError, scope

from clinic.models import Client
from config.celery import ClinicTask, app


@app.task(base=ClinicTask)
def count_visible_clients(*, clinic_id: int) -> list[str]:
    return sorted(Client.objects.values_list("name", flat=True))


def test_a_clinic_query_outside_any_scope_is_refused(cast):
    with pytest.raises(ScopeError):
        list(Client.objects.all())


def test_the_scope_shows_one_clinic_only(cast):
    with scope(clinic=cast.charlie_clinic):
        assert list(Client.objects.values_list("name", flat=True)) == ["Dana Dunn"]


def test_a_task_runs_inside_the_clinic_scope_it_is_given(cast):
    result = count_visible_clients.apply(kwargs={"clinic_id": cast.alice_clinic.pk}).get()
    assert result == ["Bob Brown"]


def test_a_task_without_a_clinic_is_refused(cast):
    with pytest.raises(TypeError, match="clinic_id"):
        count_visible_clients.apply(kwargs={}).get()
