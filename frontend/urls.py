from django.urls import path

from . import views

KIND = "<str:kind>"

urlpatterns = [
    path("", views.home, name="home"),
    path("my/", views.my_postings, name="my_postings"),
    path("my/focal-point/", views.focal_point_request, name="focal_point_request"),
    path("my/expert-profile/", views.expert_profile, name="expert_profile"),
    path("my/invitations/<int:pk>/accept/", views.invitation_accept, name="invitation_accept"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("secretariat/validation/", views.validation_queue, name="validation_queue"),
    path("secretariat/role-requests/<int:pk>/", views.focal_point_decide, name="focal_point_decide"),
    path(f"{KIND}s/", views.posting_list, name="posting_list"),
    path(f"{KIND}s/new/", views.posting_create, name="posting_create"),
    path(f"{KIND}s/<int:pk>/", views.posting_detail, name="posting_detail"),
    path(f"{KIND}s/<int:pk>/edit/", views.posting_edit, name="posting_edit"),
    path(f"{KIND}s/<int:pk>/submit/", views.posting_submit, name="posting_submit"),
    path(f"{KIND}s/<int:pk>/close/", views.posting_close, name="posting_close"),
    path(f"{KIND}s/<int:pk>/moderate/", views.posting_moderate, name="posting_moderate"),
]
