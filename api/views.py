"""Public reference data. Everything else in the API is denied by default (see REST_FRAMEWORK)."""

from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from marketplace import permissions, selectors
from marketplace.models import Scheme, Term

from .serializers import MeSerializer, PartySerializer, TermSerializer


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


class Me(generics.GenericAPIView):
    """The caller's account and roles. Uses the default permission: signed-in users only."""

    serializer_class = MeSerializer

    def get(self, request):
        user = request.user
        return Response(
            MeSerializer(
                {
                    "email": user.email,
                    "name": user.name,
                    "preferred_language": user.preferred_language,
                    "is_secretariat": permissions.is_secretariat(user),
                    "is_expert": permissions.is_expert(user),
                    "focal_point_for": [p.code for p in selectors.focal_point_parties(user=user)],
                    "organizations": [o.name for o in selectors.organizations_of(user=user)],
                }
            ).data
        )
