"""A sample cohort for ``journey demo``: 20 trainees from 10 institutions, seeded."""

from __future__ import annotations

import csv
import io
import random

BY = "journey demo"  # who the demo's changes are by, in the history

INSTITUTIONS = [
    ("St Mary's Church, Bletchley", True),
    ("Milton Keynes Islamic Centre", True),
    ("Stantonbury Park School", True),
    ("Guru Nanak Gurdwara", True),
    ("Christ the Cornerstone", True),
    ("Fishermead Residents' Association", True),
    ("Greenleys Residents", False),
    ("MK Food Bank", False),
    ("Oakgrove School PTA", False),
    ("Wolverton Tenants' Forum", False),
]
FIRST = [
    "Amina",
    "Tom",
    "Grace",
    "Yusuf",
    "Priya",
    "Daniel",
    "Fatima",
    "Joseph",
    "Harpreet",
    "Chloe",
    "Kwame",
    "Siobhan",
    "Imran",
    "Ruth",
    "Olu",
    "Megan",
    "Tariq",
    "Hannah",
    "Sunita",
    "Callum",
]
LAST = [
    "Hussain",
    "Okafor",
    "Whitfield",
    "Rahman",
    "Patel",
    "Brennan",
    "Ali",
    "Mensah",
    "Kaur",
    "Davies",
    "Asante",
    "Murphy",
    "Qureshi",
    "Clarke",
    "Adeyemi",
    "Lloyd",
    "Mahmood",
    "Fisher",
    "Sharma",
    "Reid",
]
MENTORS = [
    ("Tim Norwood", "tim.norwood@example.org"),
    ("Bernadette Cole", "b.cole@example.org"),
    ("Zafar Iqbal", "zafar.iqbal@example.org"),
]

COHORT_YAML = """\
id: demo-2026
title: Two-Day Training 2026 (demo)
timezone: Europe/London
organiser: {name: Sam Rivers, email: organiser@example.org}
funder: MK Community Foundation
fee: 60
training:
  venue: MK Quaker Centre
  days: ["2026-09-25T09:30/16:30", "2026-09-26T09:30/16:30"]
institutions:
%(institutions)s
mentors:
%(mentors)s
learning_sets:
  - name: Set A
    venue: Christ the Cornerstone
    facilitator: {name: Judith Ansah, email: judith.ansah@example.org}
    sessions: ["2026-12-03T17:30/19:30", "2027-02-04T17:30/19:30", "2027-04-01T17:30/19:30"]
  - name: Set B
    venue: Milton Keynes Islamic Centre
    facilitator: {name: Peter Lowe, email: peter.lowe@example.org}
    sessions: ["2026-12-10T18:00/20:00", "2027-02-11T18:00/20:00", "2027-04-08T18:00/20:00"]
graduation: {venue: MK Quaker Centre, at: "2027-06-17T18:00/20:00"}
programme: default
"""


def cohort_yaml() -> str:
    institutions = "\n".join(
        f'  - {{name: "{name}", member: {str(member).lower()}}}' for name, member in INSTITUTIONS
    )
    mentors = "\n".join(f"  - {{name: {n}, email: {e}}}" for n, e in MENTORS)
    return COHORT_YAML % {"institutions": institutions, "mentors": mentors}


def roster_csv(seed: int) -> str:
    """Two trainees per institution; members' first trainee takes the free place."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["name", "email", "institution", "place", "follow_up", "mentor", "learning_set"]
    )
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        institution, member = INSTITUTIONS[i // 2]
        if member:
            place = "member" if i % 2 == 0 else rng.choice(["member", "subsidised"])
        else:
            place = rng.choice(["fee", "subsidised"])
        follow_up = rng.random() < 0.75
        mentor = MENTORS[i % len(MENTORS)][1] if follow_up else ""
        learning_set = ("Set A" if i % 2 == 0 else "Set B") if follow_up else ""
        email = f"{first}.{last}@example.org".lower()
        writer.writerow(
            [
                f"{first} {last}",
                email,
                institution,
                place,
                "yes" if follow_up else "no",
                mentor,
                learning_set,
            ]
        )
    return out.getvalue()
