from django.urls import path

from messaging.reputation import views

urlpatterns = [
    path("overview/", views.delivery_overview, name="delivery-overview"),
    path("overview/emails/", views.reason_emails, name="delivery-overview-emails"),
]
