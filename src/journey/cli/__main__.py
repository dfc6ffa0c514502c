"""``python -m journey.cli``."""

from journey.cli import main

main()
