"""Starting a simulator: one ESP per process, chosen by name."""

import threading

import pytest

import espsim


@pytest.mark.parametrize("esp", ["mailgun", "postmark", "sendgrid", "amazon_ses"])
def test_each_esp_starts_and_says_which_it_is(esp):
    with espsim.start(esp=esp) as sim:
        assert sim.health()["esp"] == sim.config()["esp"] == esp
        assert sim.api_url.startswith(sim.url)


def test_an_unknown_esp_or_option_is_refused_without_leaving_threads():
    before = threading.active_count()
    with pytest.raises(ValueError, match="unknown ESP 'nope'"):
        espsim.start(esp="nope")
    with pytest.raises(TypeError):
        espsim.start(esp="postmark", signed=True)  # a SendGrid option
    assert threading.active_count() == before
