"""The match lifecycle in one place: which action may be taken from which status, by whom, to where.

suggested ──introduce (secretariat, or automatically above a score)──> introduced ─┐
suggested ──express interest (one side; also creates a pair)──> requested ─────────┤
                                          accept (each side; both) ──> connected <─┘
suggested / requested / introduced ──dismiss (secretariat)──> dismissed
requested / introduced ──decline (a side)──> declined
connected ──start (a side)──> in_progress ──report outcome (a side)──> completed (the other side reports too)
requested / introduced / connected / in_progress ──close, with a reason (a side or the secretariat)──> closed
"""

from django.utils.translation import gettext_lazy as _

from marketplace.lifecycle import IllegalTransition

from .models import MatchStatus

S = MatchStatus
SIDE, SECRETARIAT = "side", "secretariat"

# action → (the statuses it may be taken from, who may take it)
ACTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "introduce": (frozenset({S.SUGGESTED}), frozenset({SECRETARIAT})),
    "dismiss": (frozenset({S.SUGGESTED, S.REQUESTED, S.INTRODUCED}), frozenset({SECRETARIAT})),
    "express_interest": (frozenset({S.SUGGESTED}), frozenset({SIDE})),
    "accept": (frozenset({S.REQUESTED, S.INTRODUCED}), frozenset({SIDE})),
    "decline": (frozenset({S.REQUESTED, S.INTRODUCED}), frozenset({SIDE})),
    "start": (frozenset({S.CONNECTED}), frozenset({SIDE})),
    "report_outcome": (frozenset({S.CONNECTED, S.IN_PROGRESS, S.COMPLETED}), frozenset({SIDE})),
    "close": (
        frozenset({S.REQUESTED, S.INTRODUCED, S.CONNECTED, S.IN_PROGRESS}),
        frozenset({SIDE, SECRETARIAT}),
    ),
}

# Where each action leads; accept stays put until the second side accepts, then connects.
TARGETS: dict[str, frozenset[str]] = {
    "introduce": frozenset({S.INTRODUCED}),
    "dismiss": frozenset({S.DISMISSED}),
    "express_interest": frozenset({S.REQUESTED}),
    "accept": frozenset({S.REQUESTED, S.INTRODUCED, S.CONNECTED}),
    "decline": frozenset({S.DECLINED}),
    "start": frozenset({S.IN_PROGRESS}),
    "report_outcome": frozenset({S.COMPLETED}),
    "close": frozenset({S.CLOSED}),
}

# States in which each side still has to answer.
AWAITING_ANSWER = frozenset({S.REQUESTED, S.INTRODUCED})


def allowed_actions(status: str, roles: set[str]) -> list[str]:
    """The actions someone with these roles may take on a match in this status (for the pages)."""
    return [action for action, (sources, who) in ACTIONS.items() if status in sources and who & roles]


def check_action(status: str, action: str) -> None:
    sources, _who = ACTIONS[action]
    if status not in sources:
        raise IllegalTransition(
            _("This match is “%(status)s”: it cannot be %(action)s now.")
            % {"status": S(status).label, "action": ACTION_LABELS[action]},
            code="illegal_transition",
        )


ACTION_LABELS = {
    "introduce": _("introduced"),
    "dismiss": _("dismissed"),
    "express_interest": _("the subject of an expression of interest"),
    "accept": _("accepted"),
    "decline": _("declined"),
    "start": _("started"),
    "report_outcome": _("reported on"),
    "close": _("closed"),
}
