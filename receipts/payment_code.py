"""The merchant-presented code on paper: a slip the customer scans to pay.

When the terminal shows an EMVCo merchant-presented code (MPM) and there is
no screen facing the customer, the printer gives them the code instead: the
shop, the amount, the bill number and the QR, which the printer draws itself
where its profile allows (`receipts.escpos_render`). The screen rendering of
the same code is `receipts.qr_cells`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from receipts.model import Merchant

__all__ = ["PaymentCodeSlip"]


@dataclass(frozen=True)
class PaymentCodeSlip:
    merchant: Merchant
    terminal_id: str
    amount_fen: int
    payload: str          # the MPM text, drawn as the QR
    bill: str             # the bill number in the code (tag 62.01): the order at the acquirer
    when: datetime

    def __post_init__(self) -> None:
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int) or self.amount_fen <= 0:
            raise ValueError(f"amount_fen must be a positive integer (fen), got {self.amount_fen!r}")
        if not self.payload:
            raise ValueError("payload is empty: there is no code to print")
        if self.when.tzinfo is None:
            raise ValueError("when must be timezone-aware")
