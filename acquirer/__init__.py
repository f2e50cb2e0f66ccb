"""tillkit's acquirer: the terminal host, switch, issuer simulators and ledger.

`acquirer.protocol` is the standards layer shared with terminals and simulated
devices; the rest is the host (`acquirer serve`, see docs/acquirer.md):
`config` (configuration), `storage` and `commit` (SQLite, migrations, group
commit), `ledger`, `tokens`, `records`, `sessions`, `switch`, `issuer`,
`processing`, `settlement`, `host` (one payload in, one reply out), `server`
(asyncio TCP) and `cli`.
"""
