from django.urls import path

from messaging.booking import views

urlpatterns = [
    path(
        "clients/<int:client_id>/appointments/book/",
        views.appointment_book_page,
        name="client-appointment-book",
    ),
]
