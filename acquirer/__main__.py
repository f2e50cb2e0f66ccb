"""`python -m acquirer` is the `acquirer` command."""
from acquirer.cli import main

main()
