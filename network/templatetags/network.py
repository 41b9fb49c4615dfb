"""`{% load network %}`: where a harvested posting comes from, for the cards and the posting's page."""

from django import template

from marketplace.models import Need, Offer

from .. import selectors
from ..models import HarvestedPosting

register = template.Library()


@register.filter
def origin(posting: Need | Offer) -> HarvestedPosting | None:
    """The posting's provenance if it was harvested from a partner, else None (no query for local ones)."""
    return selectors.origin_of(posting)
