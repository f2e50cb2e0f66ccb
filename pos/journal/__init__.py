"""The terminal journal (SQLite): every transaction, its reversal record, batches, and the receipts built from it."""
