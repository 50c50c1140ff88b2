"""`python -m testament` runs the command line."""

from testament.cli.main import main

main()
