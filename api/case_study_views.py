"""A completed match's case study through the API: read and write it, consent to it (a side), approve it
or send it back (secretariat). The services of `matching.services` decide who may and when."""

from collections.abc import Callable

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from matching import selectors as match_selectors
from matching import services as match_services
from matching.models import CaseStudy, Match

from . import mentoring_serializers as ms
from .views import _valid, signed_in

STORY_EXAMPLE = OpenApiExample(
    "A story",
    request_only=True,
    value={
        "title": "A mirror site for Chad",
        "story": "Belgium's clearing-house set up a mirror site; Chad's webmasters now run it.",
        "language": "en",
    },
)
NOTE_EXAMPLE = OpenApiExample(
    "Sent back", request_only=True, value={"note": "Please remove the names of private persons."}
)


def _match(request: Request, pk: str) -> Match:
    return match_selectors.access_match(user=request.user, pk=int(pk))  # the URL's digits (views.ID)


def _study(match: Match) -> CaseStudy:
    study = match_selectors.case_study_of(match)
    if study is None:
        raise Http404
    return study


def _story_after(request: Request, pk: str, service: Callable[..., CaseStudy]) -> Response:
    """The story once `service` (consent, withdraw, approve) has acted on the match's story."""
    study = service(user=signed_in(request), match=_match(request, pk))
    return Response(ms.CaseStudySerializer(study).data)


class CaseStudyDetail(generics.GenericAPIView):
    """The story of a completed match, for its sides and the secretariat (others get 404)."""

    serializer_class = ms.CaseStudySerializer

    def get(self, request: Request, pk: str) -> Response:
        return Response(ms.CaseStudySerializer(_study(_match(request, pk))).data)

    @extend_schema(request=ms.CaseStudyWriteSerializer, examples=[STORY_EXAMPLE])
    def put(self, request: Request, pk: str) -> Response:
        """Write or rewrite the story (a side or the secretariat): any change needs both consents and the
        secretariat's approval again; the author's side consents by writing it."""
        match = _match(request, pk)
        data = _valid(request, ms.CaseStudyWriteSerializer)
        return Response(
            ms.CaseStudySerializer(
                match_services.case_study_save(user=signed_in(request), match=match, **data)
            ).data
        )


class CaseStudyConsent(generics.GenericAPIView):
    serializer_class = ms.CaseStudySerializer

    @extend_schema(request=None)
    def post(self, request: Request, pk: str) -> Response:
        """Consent to the story as written (a side)."""
        return _story_after(request, pk, match_services.case_study_consent)

    def delete(self, request: Request, pk: str) -> Response:
        """Withdraw your side's consent (a side): a public story stops being public and waits for that
        side's consent and the secretariat's approval again."""
        return _story_after(request, pk, match_services.case_study_withdraw_consent)


class CaseStudyApprove(generics.GenericAPIView):
    serializer_class = ms.CaseStudySerializer

    @extend_schema(request=None)
    def post(self, request: Request, pk: str) -> Response:
        """Publish a story both sides consented to (secretariat, not a side's member)."""
        return _story_after(request, pk, match_services.case_study_approve)


class CaseStudySendBack(generics.GenericAPIView):
    serializer_class = ms.CaseStudySerializer

    @extend_schema(request=ms.SendBackSerializer, examples=[NOTE_EXAMPLE])
    def post(self, request: Request, pk: str) -> Response:
        """Send the story back to both sides, saying why (secretariat); a public one is withdrawn."""
        match = _match(request, pk)
        data = _valid(request, ms.SendBackSerializer)
        study = match_services.case_study_send_back(user=signed_in(request), match=match, **data)
        return Response(ms.CaseStudySerializer(study).data)
