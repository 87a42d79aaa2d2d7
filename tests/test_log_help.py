"""The log's help for an email still in flight says when support is told, as the stuck-email
check decides it (messaging/tracking/stuck.py), not as a copy of its number."""

import importlib.util
from datetime import timedelta

import pytest

from messaging.log import presentation
from messaging.tracking import stuck


@pytest.fixture
def help_reloaded(monkeypatch):
    """The help as a fresh copy of the module reads it once STUCK_AFTER is changed. A copy, not
    a reload: reloading the module itself would give its classes new identities under the feet
    of every other test that imported them."""

    def fresh_copy(after: timedelta):
        monkeypatch.setattr(stuck, "STUCK_AFTER", after)
        spec = importlib.util.find_spec(presentation.__name__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return fresh_copy


def test_the_help_names_the_stuck_emails_delay():
    for status in ("sending", "processed"):
        assert presentation.status_help(status).endswith(
            "we flag it to support ourselves after 10 minutes."
        )


def test_the_help_follows_the_delay(help_reloaded):
    reloaded = help_reloaded(timedelta(minutes=25))
    assert reloaded.status_help("processed").endswith("support ourselves after 25 minutes.")
