from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import account_views, case_study_views, dashboard_views, mentoring_views, views

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
router.register("role-requests", account_views.RoleRequestViewSet, basename="role-request")
router.register("me/organizations", account_views.MyOrganizationViewSet, basename="my-organization")
router.register("me/invitations", account_views.InvitationViewSet, basename="invitation")
router.register("queue/organizations", account_views.OrganizationQueue, basename="organization-queue")
router.register("mentoring/mentors", mentoring_views.MentorViewSet, basename="mentor")
router.register("mentoring/requests", mentoring_views.MentoringRequestViewSet, basename="mentoring-request")
router.register("mentoring/cohorts", mentoring_views.CohortViewSet, basename="cohort")
router.register("mentoring/pairings", mentoring_views.PairingActionViewSet, basename="pairing-action")

STORY = rf"^matches/(?P<pk>{views.ID})/case-study/"

urlpatterns = [
    path("", dashboard_views.ApiRoot.as_view(), name="root"),
    path("dashboard/", dashboard_views.Dashboard.as_view(), name="dashboard"),
    path("audit/", dashboard_views.AuditLog.as_view(), name="audit"),
    re_path(rf"{STORY}$", case_study_views.CaseStudyDetail.as_view(), name="case-study"),
    re_path(rf"{STORY}consent/$", case_study_views.CaseStudyConsent.as_view(), name="case-study-consent"),
    re_path(rf"{STORY}approve/$", case_study_views.CaseStudyApprove.as_view(), name="case-study-approve"),
    re_path(
        rf"{STORY}send-back/$", case_study_views.CaseStudySendBack.as_view(), name="case-study-send-back"
    ),
    path("vocabulary/", views.TermList.as_view(), name="vocabulary"),
    path("vocabulary/<slug:scheme>/<slug:code>/", views.TermDetail.as_view(), name="term-detail"),
    path("parties/", views.PartyList.as_view(), name="parties"),
    path("me/", views.Me.as_view(), name="me"),
    path("me/name/", account_views.PublicName.as_view(), name="public-name"),
    path("me/expert-profile/", account_views.MyExpertProfile.as_view(), name="my-expert-profile"),
    path("queue/role-requests/", account_views.RoleRequestQueue.as_view(), name="role-request-queue"),
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
