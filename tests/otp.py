"""Support staff reach the platform admin only with a second factor: a test logs a superuser in
and marks the session verified by a TOTP device, as django-otp's login does after the code."""

from django_otp import DEVICE_ID_SESSION_KEY


def support_device(user):
    """The user's confirmed TOTP device, created when the user has none yet."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="support phone", confirmed=True)
    return device


def support_login(client, user):
    """Log `user` in and verify the session with their device (django_otp.login for the test
    client): the session holds the device's persistent id, which OTPMiddleware reads back."""
    device = support_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
