"""Clearing: the acquirer's business day, fees, clearing files and merchant payouts.

The core is pure (no SQL, no sockets): it takes the day's transaction events
as values and returns clearing lines, balanced ledger postings and the bytes
of every clearing file. `service` runs it over the acquirer's storage
(`acquirer.storage.clearing` holds its SQL), `serving` inside `acquirer
serve`, `commands` on the command line (`docs/clearing.md` has the rules, the
fee formulas and the file layouts).

Modules, one job each:

- `settlement_calendar`: T+1 on the next Chinese working day.
- `terms`: the clearing configuration (fee schedule, rate plans, merchants' terms).
- `fees`: the fee engine, one line at a time.
- `events`: what a transaction record looks like to clearing, and its line.
- `run`: the clearing run of one day (lines, postings, totals).
- `files`: the files built from the fixed-width records.
- `payouts`: payout instructions per settlement date, negative balances carried.
- `disputes`: chargebacks and re-presentments.
- `service`: a day cleared over the storage in one transaction; statements, payouts, disputes.
- `serving`: automatic clearing after the cut-off and the statement endpoint in `acquirer serve`.
- `commands`: `acquirer clear | statement | payouts | dispute`.

The clearing day (`acquirer.protocol.clock`), the record layouts
(`acquirer.protocol.clearing_layouts`) and the fee rounding rule
(`acquirer.protocol.fee_rounding`) are in the standards layer:
the terminal reads the merchant statement (`pos reconcile`) and checks its
fees with the same definitions.
"""
