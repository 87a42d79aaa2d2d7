from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from messaging.reputation.views import platform_overview

urlpatterns = [
    # Support's overview of every clinic's sending, inside the admin site's guard (before the
    # admin's own URLs, whose catch-all would answer it).
    path("admin/overview/", admin.site.admin_view(platform_overview), name="platform-overview"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("messaging.log.api_urls")),
    path("api/", include("messaging.booking.api_urls")),
    path("anymail/", include("messaging.urls")),
    path("", include("clinic.urls")),
    path("", include("suppression.urls")),
    path("", include("messaging.log.page_urls")),
    path("", include("messaging.booking.urls")),
    path("", include("notifications.urls")),
    path("", include("messaging.reputation.urls")),
]
