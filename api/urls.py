from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

# Swagger UI and Redoc are third-party pages: they inline styles (Redoc at run time) and Redoc's search runs
# in a worker made from a blob. Their scripts stay under the site's policy (files from here, Redoc's start-up
# block by nonce); styles are relaxed on these two pages only.
docs_policy = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})

router = SimpleRouter()
router.register("needs", views.NeedViewSet, basename="need")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("matches", views.MatchViewSet, basename="match")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("experts", views.ExpertViewSet, basename="expert")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("mentoring/pairings", views.PairingViewSet, basename="pairing")
router.register("tokens", views.TokenViewSet, basename="token")

urlpatterns = [
    path("vocabulary/", views.TermList.as_view(), name="vocabulary"),
    path("vocabulary/<slug:scheme>/<slug:code>/", views.TermDetail.as_view(), name="term-detail"),
    path("parties/", views.PartyList.as_view(), name="parties"),
    path("me/", views.Me.as_view(), name="me"),
    path(
        "notification-preferences/", views.NotificationPreferences.as_view(), name="notification-preferences"
    ),
    path("queue/postings/", views.PostingQueue.as_view(), name="posting-queue"),
    path("queue/matches/", views.MatchQueue.as_view(), name="match-queue"),
    path("queue/matches/bulk/", views.MatchBulkCuration.as_view(), name="match-bulk"),
    path("open-data/needs.csv", views.OpenDataCSV.as_view(kind="need"), name="needs-csv"),
    path("open-data/offers.csv", views.OpenDataCSV.as_view(kind="offer"), name="offers-csv"),
    path("open-data/needs.jsonld", views.OpenDataJSONLD.as_view(kind="need"), name="needs-jsonld"),
    path("open-data/offers.jsonld", views.OpenDataJSONLD.as_view(kind="offer"), name="offers-jsonld"),
    path("import/", views.Import.as_view(), name="import"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_policy(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path(
        "redoc/",
        docs_policy(SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")),
        name="redoc",
    ),
    *router.urls,
]
