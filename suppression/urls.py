from django.urls import path

from suppression import views

urlpatterns = [
    path("clients/<int:client_id>/opt-in/", views.client_opt_in_view, name="client-opt-in"),
    path(
        "clients/<int:client_id>/ask-reactivation/",
        views.reactivation_ask_view,
        name="client-reactivation-ask",
    ),
]
