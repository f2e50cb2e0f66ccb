"""Simulated devices for the terminal: test cards on the simulated reader, the simulated printer.

Loaded only by the device assembly when pos.toml names a simulated device, never by the core.
"""
