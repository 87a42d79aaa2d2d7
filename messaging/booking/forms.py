"""The booking form on the client page: a day and a time on the clinic's clock, who sees the
client, and for how long."""

from datetime import UTC, timedelta

from django import forms
from django.utils import timezone

from clinic.models import Client, Membership, User
from clinic.time_zones import with_zone, zone_words
from messaging.booking.local_time import local_time_read

DURATIONS = [(15, "15 minutes"), (30, "30 minutes"), (45, "45 minutes"), (60, "1 hour")]
DURATIONS += [(90, "1 hour 30 minutes"), (120, "2 hours")]
FIRST, SECOND = "first", "second"


def practitioners_of(clinic) -> "forms.QuerySet[User]":
    """Who a client can be booked with: the clinic's practitioners and admins, not its
    receptionists (who book for others)."""
    return User.objects.filter(
        membership__clinic=clinic,
        is_active=True,
        membership__role__in=[Membership.Role.PRACTITIONER, Membership.Role.CLINIC_ADMIN],
    ).order_by("first_name", "last_name", "email")


def start_passed_words(start, clinic) -> str:
    """Why an appointment may not start then: the time has passed on the clinic's clock, named
    as its staff would type it. Empty when the time is to come. A booking or a move into the past
    would confirm a visit that cannot happen to the client, and no reminder could go. The booking
    form, the API and support's admin all ask this."""
    if start >= timezone.now():
        return ""
    local = timezone.localtime(start, clinic.tzinfo)
    return (
        f"{local:%H:%M} on {local:%-d %B %Y} has passed in {zone_words(clinic.tzinfo)}. "
        "Choose a time to come."
    )


class BookingForm(forms.Form):
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))
    practitioner = forms.ModelChoiceField(queryset=User.objects.none(), empty_label=None)
    duration = forms.TypedChoiceField(label="Length", choices=DURATIONS, coerce=int, initial=60)
    # Asked only when the time happens twice (the hour the clocks go back).
    occurrence = forms.ChoiceField(
        label="Which one?",
        choices=[(FIRST, "The first"), (SECOND, "The second")],
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = client.clinic
        self.fields["practitioner"].queryset = practitioners_of(self.clinic)
        self.fields["time"].help_text = f"On the clinic's clock ({zone_words(self.clinic.tzinfo)})."
        self.repeated = ()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        read = local_time_read(data["day"], data["time"], self.clinic.tzinfo)
        typed = f"{data['time']:%H:%M} on {data['day']:%-d %B %Y}"
        place = zone_words(self.clinic.tzinfo)
        if read.skipped:
            self.add_error(
                "time",
                f"{typed} does not exist in {place}: the clocks go forward that night and skip "
                "it. Choose another time.",
            )
            return data
        if read.repeated:
            self.repeated = read.moments
            self.fields["occurrence"].choices = [
                (
                    FIRST,
                    f"The first {with_zone(read.moments[0], 'H:i')} (before the clocks go back)",
                ),
                (
                    SECOND,
                    f"The second {with_zone(read.moments[1], 'H:i')} (after the clocks go back)",
                ),
            ]
            chosen = data.get("occurrence")
            if chosen not in (FIRST, SECOND):
                self.add_error(
                    "occurrence",
                    f"{typed} happens twice in {place}: the clocks go back that night. "
                    "Choose which one.",
                )
                return data
            data["start"] = read.moments[0 if chosen == FIRST else 1]
        else:
            data["start"] = read.moments[0]
        passed = start_passed_words(data["start"], self.clinic)
        if passed:
            self.add_error("time", passed)
            return data
        # Elapsed minutes, counted in UTC: on the clinic's clock an hour can be skipped or repeated.
        data["end"] = data["start"].astimezone(UTC) + timedelta(minutes=data["duration"])
        return data
