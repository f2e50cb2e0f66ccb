"""Widgets shared by the checkout screens."""
from pos.tui.widgets.bars import KeyBar, KeyHint, NoticeBar, StatusBar
from pos.tui.widgets.keypad import Keypad

__all__ = ["KeyBar", "KeyHint", "Keypad", "NoticeBar", "StatusBar"]
