from django.urls import path

from clinic import views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.client_list, name="client-list"),
    path("clients/<int:client_id>/", views.client_detail, name="client-detail"),
]
