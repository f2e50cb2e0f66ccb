"""`pos daemon`: the headless terminal a cash register drives (nexo over HTTPS, Concert over serial).

A face over the terminal engine like the CLI and the TUI: it opens the
terminal through `pos.terminal.open_terminal`, turns register requests into
engine calls through `pos.daemon.till`, and never imports Textual.
See docs/daemon.md.
"""
