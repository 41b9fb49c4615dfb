from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("vocabulary/", views.TermList.as_view(), name="vocabulary"),
    path("parties/", views.PartyList.as_view(), name="parties"),
]
