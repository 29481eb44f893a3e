"""python -m hub: the abusehub command line."""

from hub.cli import main

main()
