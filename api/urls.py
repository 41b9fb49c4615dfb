from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("vocabulary/", views.TermList.as_view(), name="vocabulary"),
    path("parties/", views.PartyList.as_view(), name="parties"),
    path("me/", views.Me.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
