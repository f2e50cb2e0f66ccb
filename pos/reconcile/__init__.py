"""`pos reconcile`: the terminal's journal checked against the acquirer's merchant statement.

Modules, one job each:

- `records`: journal rows as records of one terminal; the export other tills hand over.
- `terms`: the merchant's fee terms (`reconcile.toml`) and the fee check.
- `categories`: the categories a line can land in, each with what to do.
- `matching`: pairing terminal records with statement lines, one category per line.
- `report`: the totals by channel and entry mode, payout, exceptions; JSON and CSV.
- `chart`: the PNG chart (matplotlib, Agg backend).
- `fetch`: the statement over the acquirer's authenticated HTTP endpoint.

The statement itself is read and checked by `acquirer.protocol.statement`
(the layouts are shared with the acquirer that writes it). docs/reconcile.md
describes the command, the categories and the exit codes.
"""
