"""How a posting announces that it was saved to the apps that follow postings (matching subscribes in its
`AppConfig.ready()`): one explicit seam, so that the marketplace never imports what is built on it."""

from collections.abc import Callable

from .models import Need, Offer

# Each subscriber is called in the transaction that saved the posting, with the side ("need" or "offer"),
# the id and the new status; what it queues must wait for the commit (`delay_on_commit`).
Subscriber = Callable[[str, int, str], None]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def posting_saved(posting: Need | Offer) -> None:
    """Call in the transaction that saved the posting."""
    side = "need" if isinstance(posting, Need) else "offer"
    for subscriber in _subscribers:
        subscriber(side, posting.pk, posting.status)
