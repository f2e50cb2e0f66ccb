"""`pos`: the command-line face (click + Rich); `pos.cli.main:main` is the entry point."""
