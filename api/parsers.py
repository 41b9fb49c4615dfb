"""The API's request parsers, with the limits that keep hostile bodies from becoming a 500 or eating memory.

JSON bodies are read through Django's `request.body`, which refuses more than DATA_UPLOAD_MAX_MEMORY_SIZE
(RequestDataTooBig: a 413, see `api.errors`). Multipart uploads (the import's file) are held to the same
limit here, from the declared length, before anything is read: Django counts only the form fields, not files.
"""

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:  # the json module recurses once per level of nesting
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from error


class MultiPartParser(parsers.MultiPartParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> parsers.DataAndFiles:
        assert parser_context is not None  # DRF passes the request's to every parser
        meta = parser_context["request"].META
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            raise RequestDataTooBig("Upload exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        return super().parse(stream, media_type, parser_context)
