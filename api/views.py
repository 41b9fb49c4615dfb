"""Public reference data. Everything else in the API is denied by default (see REST_FRAMEWORK)."""

from rest_framework import generics
from rest_framework.permissions import AllowAny

from marketplace import selectors
from marketplace.models import Scheme, Term

from .serializers import PartySerializer, TermSerializer


class TermList(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = TermSerializer

    def get_queryset(self):
        scheme = self.request.query_params.get("scheme")
        if scheme in Scheme.values:
            return selectors.terms(scheme=scheme)
        return Term.objects.filter(is_active=True).order_by("scheme", "position")


class PartyList(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = PartySerializer

    def get_queryset(self):
        return selectors.parties()
