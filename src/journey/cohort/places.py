"""Who pays for which place: the lines ``journey cohort import`` prints about places.

At least one free place per member institution, a fee for the others, some places
subsidised by a funder (docs/DESIGN.md, "Cohort file").
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from journey.cohort.specs import CohortSpec
from journey.models import Place

__all__ = ["places_report"]


def places_report(spec: CohortSpec) -> list[str]:
    """Human lines on places: free places per member institution, fees, subsidies.

    A member institution that sends trainees uses its free place (the roster check
    enforces it); one with no trainee yet gets a line saying its free place is unused.
    """
    counts = Counter((t.institution, t.place) for t in spec.trainees)
    lines: list[str] = []
    for institution in (i for i in spec.institutions if i.member):
        free = counts[institution.name, Place.MEMBER]
        if free == 0:
            lines.append(
                f"{institution.name}: member institution with no trainee yet"
                " — its free place is unused"
            )
        else:
            lines.append(f"{institution.name}: {_plural(free, 'free place')} used")
    paying = sum(n for (_, place), n in counts.items() if place is Place.FEE)
    total_fees = _money(spec.fee * paying)
    lines.append(f"Fee-paying places: {paying} at {_money(spec.fee)} each, {total_fees} in all")
    subsidised = sum(n for (_, place), n in counts.items() if place is Place.SUBSIDISED)
    funder = f", funded by {spec.funder}" if spec.funder else ""
    lines.append(f"Subsidised places: {subsidised}{funder}")
    return lines


def _plural(count: int, noun: str) -> str:
    """``1 trainee``, ``2 trainees``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _money(amount: Decimal) -> str:
    """``60`` for whole amounts, ``60.50`` otherwise."""
    if amount == amount.to_integral_value():
        return f"{amount:.0f}"
    return f"{amount:.2f}"
