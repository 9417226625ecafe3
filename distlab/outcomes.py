"""The words distlab uses for what happened, defined once, with the colour each has in figures.

Every table an experiment returns says what happened to a call, an operation or a message with
one of these words, in a column named ``outcome`` (``fate`` for a message on the network), and
every figure colours it with :data:`COLORS`. There are no synonyms: ``"success"``,
``"failure"``, ``"fail"`` are not outcomes.

What a caller saw, for a call or an operation (:data:`OUTCOMES`):

============  =======================================================================
``ok``        an answer, and it was a success.
``error``     an answer, and it said the call failed (the callee ran it, or refused it).
``timeout``   no answer in time: the outcome is unknown, the call may or may not have
              taken effect (Jepsen's ``info``).
``rejected``  never sent: the caller's own guard refused it fast (an open circuit
              breaker, an exhausted retry budget).
``unavailable``  an answer from a replicated store that it cannot serve the request now
              (no quorum reachable): an error answer, the one CAP's availability counts.
============  =======================================================================

What analysis later finds an answer was (:data:`ANOMALIES`), used in place of ``ok`` where it
applies: ``stale_read`` (a read that missed a write completed before it began) and
``lost_write`` (an acknowledged write that no later read can see).

What happened to a message on the network (:data:`FATES`): ``delivered`` or ``dropped``.

A history in Jepsen's format keeps Jepsen's completion types (``ok``, ``fail``, ``info``), the
file format's own words; :data:`HISTORY_OUTCOME` maps them to outcomes.

>>> from distlab import outcomes
>>> outcomes.OK, outcomes.TIMEOUT
('ok', 'timeout')
>>> outcomes.color("timeout")
'#E69F00'
>>> outcomes.check_outcome("success")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: outcome='success' must be one of 'ok', 'error', 'timeout', 'rejected', ...
"""

from __future__ import annotations

__all__ = [
    "ALL",
    "ANOMALIES",
    "COLORS",
    "DELIVERED",
    "DROPPED",
    "ERROR",
    "FATES",
    "HISTORY_OUTCOME",
    "LOST_WRITE",
    "OK",
    "OKABE_ITO",
    "OUTCOMES",
    "REJECTED",
    "STALE_READ",
    "TIMEOUT",
    "UNAVAILABLE",
    "check_outcome",
    "color",
]

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
REJECTED = "rejected"
UNAVAILABLE = "unavailable"
STALE_READ = "stale_read"
LOST_WRITE = "lost_write"
DELIVERED = "delivered"
DROPPED = "dropped"

#: What a caller saw, successes first, then the ways things go wrong.
OUTCOMES: tuple[str, ...] = (OK, ERROR, TIMEOUT, REJECTED, UNAVAILABLE)
#: What analysis finds an ``ok`` answer really was.
ANOMALIES: tuple[str, ...] = (STALE_READ, LOST_WRITE)
#: What happened to a message.
FATES: tuple[str, ...] = (DELIVERED, DROPPED)
#: Every word, in legend order.
ALL: tuple[str, ...] = OUTCOMES + ANOMALIES + FATES

#: Jepsen's completion types -> outcomes (``fail``: the operation certainly did not happen).
HISTORY_OUTCOME: dict[str, str] = {"ok": OK, "fail": ERROR, "info": TIMEOUT}

#: The Okabe-Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
#: deficiency, plus a neutral grey.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

#: Outcome -> colour, the same in every figure of every notebook.
COLORS: dict[str, str] = {
    OK: OKABE_ITO["bluish_green"],
    ERROR: OKABE_ITO["vermillion"],
    TIMEOUT: OKABE_ITO["orange"],
    REJECTED: OKABE_ITO["reddish_purple"],
    UNAVAILABLE: OKABE_ITO["vermillion"],  # an error answer, drawn as one
    STALE_READ: OKABE_ITO["sky_blue"],
    LOST_WRITE: OKABE_ITO["yellow"],
    DELIVERED: OKABE_ITO["bluish_green"],
    DROPPED: OKABE_ITO["black"],
}


def check_outcome(outcome: object, *, param: str = "outcome") -> str:
    """Return ``outcome`` if it is one of :data:`ALL`, else raise a ``ValueError`` naming it.

    >>> check_outcome("rejected")
    'rejected'
    """
    if outcome in COLORS:
        return outcome  # type: ignore[return-value]
    allowed = ", ".join(repr(word) for word in ALL)
    raise ValueError(f"{param}={outcome!r} must be one of {allowed}")


def color(outcome: str) -> str:
    """The colour of ``outcome`` (a ``ValueError`` for a word that is not an outcome).

    >>> color("ok") == color("delivered") == OKABE_ITO["bluish_green"]
    True
    """
    return COLORS[check_outcome(outcome)]
