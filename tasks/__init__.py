"""Prefect tasks: the steps flows are made of. Each is a thin wrapper over a service.

Tasks return counts and ids, never personal data: Prefect may persist results.
"""
