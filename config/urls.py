from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.functional import lazy
from django.views.generic import RedirectView

from api.open_formats import as_jsonld
from config.health import healthz
from config.site import site_colours
from frontend import views as frontend_views
from network.oai import oai_endpoint


def admin_login(request):
    """Staff sign in like everyone else, through allauth's rate-limited form: the admin's own login form
    would let passwords be guessed without limit."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("account_login"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("site-colours.css", site_colours, name="site_colours"),
    # Browsers and feed readers ask for /favicon.ico whatever the page says: the site's icon, not a 404.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("frontend/favicon.svg"), permanent=True)),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("accounts/login/", frontend_views.LoginView.as_view(), name="account_login"),  # 429 when limited
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("api.urls")),
    # OAI-PMH 2.0: the published needs and offers, for partner instances to harvest (network/oai.py)
    path("oai/", oai_endpoint(as_jsonld), name="oai"),
    path("", include("frontend.urls")),
]

handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
