from django.urls import path

from . import accounts, dashboard_views, inbox_views, match_views, mentoring_views, views, workbench_views

KIND = "<str:kind>"

urlpatterns = [
    path("", views.home, name="home"),
    path("welcome/", accounts.welcome, name="welcome"),
    path("my/", views.my_postings, name="my_postings"),
    path("my/focal-point/", views.focal_point_request, name="focal_point_request"),
    path("my/expert-profile/", views.expert_profile, name="expert_profile"),
    path("my/name/", views.public_name, name="public_name"),
    path("my/invitations/<int:pk>/accept/", views.invitation_accept, name="invitation_accept"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("my/matches/", match_views.my_matches, name="my_matches"),
    path("matches/<int:pk>/", match_views.match_detail, name="match_detail"),
    path("matches/<int:pk>/<str:action>/", match_views.match_act, name="match_act"),
    path("case-studies/", match_views.case_studies, name="case_studies"),
    path("dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("dashboard/<slug:table>.csv", dashboard_views.dashboard_csv, name="dashboard_csv"),
    path("notifications/", inbox_views.inbox, name="inbox"),
    path("notifications/read/", inbox_views.inbox_mark_read, name="inbox_mark_read"),
    path("notifications/preferences/", inbox_views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>/", inbox_views.unsubscribe, name="unsubscribe"),
    path("account/api-tokens/", inbox_views.api_tokens, name="api_tokens"),
    path("account/api-tokens/<str:token_key>/revoke/", inbox_views.api_token_revoke, name="api_token_revoke"),
    path("mentoring/", mentoring_views.mentoring_home, name="mentoring_home"),
    path("mentoring/mentor/", mentoring_views.mentor_declare, name="mentor_declare"),
    path("mentoring/request/", mentoring_views.mentoring_request, name="mentoring_request"),
    path("mentoring/pairings/<int:pk>/", mentoring_views.pairing_detail, name="pairing_detail"),
    path("mentoring/pairings/<int:pk>/<str:action>/", mentoring_views.pairing_act, name="pairing_act"),
    path("secretariat/validation/", workbench_views.validation_queue, name="validation_queue"),
    path("secretariat/matches/", workbench_views.match_queue, name="match_queue"),
    path("secretariat/matches/bulk/", workbench_views.match_queue_bulk, name="match_queue_bulk"),
    path("secretariat/matches/new/", workbench_views.match_create, name="match_create"),
    path("secretariat/audit/", workbench_views.audit_log, name="audit_log"),
    path("secretariat/mentoring/", workbench_views.mentoring_admin, name="mentoring_admin"),
    path("secretariat/mentoring/cohorts/<int:pk>/", workbench_views.cohort_detail, name="cohort_detail"),
    path(
        "secretariat/mentoring/cohorts/<int:pk>/assign/", workbench_views.cohort_assign, name="cohort_assign"
    ),
    path(
        "secretariat/mentoring/cohorts/<int:pk>/confirm/",
        workbench_views.cohort_confirm,
        name="cohort_confirm",
    ),
    path(
        "secretariat/role-requests/<int:pk>/", workbench_views.focal_point_decide, name="focal_point_decide"
    ),
    path(
        "secretariat/organizations/<int:pk>/", workbench_views.organization_decide, name="organization_decide"
    ),
    path(f"{KIND}s/", views.posting_list, name="posting_list"),
    path(f"{KIND}s/new/", views.posting_create, name="posting_create"),
    path(f"{KIND}s/check/", views.posting_check, name="posting_check"),
    path(f"{KIND}s/<int:pk>/", views.posting_detail, name="posting_detail"),
    path(f"{KIND}s/<int:pk>/edit/", views.posting_edit, name="posting_edit"),
    path(f"{KIND}s/<int:pk>/submit/", views.posting_submit, name="posting_submit"),
    path(f"{KIND}s/<int:pk>/close/", views.posting_close, name="posting_close"),
    path(f"{KIND}s/<int:pk>/moderate/", workbench_views.posting_moderate, name="posting_moderate"),
    path(f"{KIND}s/<int:pk>/interest/", match_views.express_interest, name="express_interest"),
]
