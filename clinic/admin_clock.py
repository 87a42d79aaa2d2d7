"""Times in support's admin. Admin runs in UTC (PlatformAdminSite, said at the top of every
admin page): support reads many clinics side by side and needs one clock to compare them on.
The rows a clinic talks to support about (its emails, appointments, form requests, audit
entries) also show their times on that clinic's clock, the zone named ("10:00 EST"), so
support and the clinic speak of the same time."""

from django.contrib import admin

from clinic.time_zones import clock_time

ZONE_NOTE = "Times are UTC unless a zone is named beside them (a clinic's rows: its own clock)."


def on_clinic_clock(field: str, description: str):
    """A ModelAdmin column (for list_display or readonly_fields) showing the row's `field` on
    its clinic's clock, or in UTC, named, for a row that has no clinic."""

    @admin.display(description=description, ordering=field)
    def column(model_admin, row) -> str:
        clinic = getattr(row, "clinic", None)
        return clock_time(getattr(row, field), clinic.tzinfo if clinic else "UTC")

    column.__name__ = f"{field}_on_clinic_clock"
    return column
