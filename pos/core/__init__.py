"""The transaction engine and its flows: sale, void, refund, pre-auth, wallet orders, reversals, settlement.

No face, no device, no simulator: faces drive `pos.core.engine.Engine` and read its events.
"""
