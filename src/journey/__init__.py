"""Leadership Journey: a workflow engine for an alliance's nine-month leadership journey.

The import root. Four of its subpackages live at the top of the repository and are
linked in here: ``journey.flows``, ``journey.tasks``, ``journey.models`` and
``journey.templates``. Importing this package imports nothing heavy (no Prefect).
"""

__version__ = "0.1.0"
