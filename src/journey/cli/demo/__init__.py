"""``journey demo``: a cohort launched, a year simulated, and what people receive shown.

:mod:`~journey.cli.demo.run` drives it, :mod:`~journey.cli.demo.data` holds the example cohort,
:mod:`~journey.cli.demo.year` walks the months and :mod:`~journey.cli.demo.evaluation` fills in
the evaluation.
"""
