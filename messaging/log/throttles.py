"""API throttles, counted in the cache (Redis, so every web process shares the count): one per
client address, checked before a token is even read, and one per token."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from clinic.client_address import client_address


class ClientAddressThrottle(SimpleRateThrottle):
    """Every API request from one address, whatever its credentials: a wrong token costs as
    much as a right one, so tokens cannot be guessed at speed. The address is the one
    TRUSTED_PROXY_COUNT hops back in X-Forwarded-For, an IPv6 client by its /64, as login
    lockout reads it (clinic/client_address.py)."""

    scope = "address"

    def get_rate(self) -> str:
        return settings.API_RATE_PER_IP

    def get_cache_key(self, request, view) -> str:
        # Read as login lockout reads it: TRUSTED_PROXY_COUNT hops back, IPv6 by its /64.
        return self.key_for(client_address(request._request) or "")

    @classmethod
    def key_for(cls, address: str) -> str:
        return cls.cache_format % {"scope": cls.scope, "ident": address}


class TokenThrottle(SimpleRateThrottle):
    """Each API token on its own (a logged-in browser session counts as its user's)."""

    scope = "token"

    def get_rate(self) -> str:
        return settings.API_RATE_PER_TOKEN

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not user.is_authenticated:
            return None
        token_key = getattr(request.auth, "token_key", None)
        ident = f"user{user.pk}-{token_key}" if token_key else f"user{user.pk}-session"
        return self.cache_format % {"scope": self.scope, "ident": ident}
