from django.contrib import admin
from django.urls import include, path

from config.health import healthz
from frontend import views as frontend_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", frontend_views.LoginView.as_view(), name="account_login"),  # 429 when limited
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("api.urls")),
    path("", include("frontend.urls")),
]

handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
