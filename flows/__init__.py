"""Prefect flows, one per module, named after what the organiser (or the scheduler) does.

Importing this package imports Prefect (about 2 s): only commands that run flows do.
"""
