"""A cohort's input, read and checked before anything is written.

:mod:`~journey.cohort.file` reads the cohort YAML file and its roster into a
:class:`~journey.cohort.specs.CohortSpec`; :mod:`~journey.cohort.reading` is the YAML and
CSV reading they share, :mod:`~journey.cohort.roster` and :mod:`~journey.cohort.slots`
check the roster and the sessions, :mod:`~journey.cohort.places` says who pays for which
place, and :mod:`~journey.cohort.evaluation_file` reads a questionnaire's responses.
Every problem is collected as ``file:row: field: message``; nothing here writes.
"""
