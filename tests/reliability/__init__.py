"""Reliability properties of delivery (issue 4): concurrent workers, crashes, long runs and
clock skew, measured.

``outbox`` fills an outbox with real due notices, ``worker`` is the delivery process the
tests start (and kill), ``processes`` starts and stops those processes, ``harness`` runs
the scenarios and counts what the SMTP server received, ``figures`` prints the measured
figures (``python -m tests.reliability.figures``). docs/RELIABILITY.md states the
guarantees.
"""
