"""The wallet channel: the acquirer's simulation of the wallets' back ends (Alipay, WeChat Pay, UnionPay app).

Terminals reach it over the POS link (docs/protocol.md section 11) with three
requests, all MACed 0200s without card data, and the reversal:

- **wallet sale** (field 63 = the customer's payment code): the code must
  verify (`protocol.wallet_codes`: shape, MAC under the wallet's test key,
  a known account) -- else **14**; be at most 60 s old -- else **54**; and
  not have been used -- else **12** (every code that passes the first two
  checks is kept, whatever the payment's outcome, so it works once). Then
  the payment: at most the wallet's password-free limit (and an account not
  flagged `password = "always"`) is paid at once (**00**, or **51** when the
  account lacks the money); above it the order is **09** "user paying" and
  the simulated customer confirms `confirm_delay_s` later (never, for an
  account with `confirms = false`).
- **MPM sale** (field 63 = the bill number of the merchant-presented code the
  terminal shows): opens an order, **09**, which the customer's wallet app
  pays through the wallet-apps endpoint (`pay_merchant_code`).
- **wallet query** (61 = the order's batch and STAN): the order's state --
  **00** with the RRN and auth code once paid, **09** while waiting, the
  failure's code, **25** for no such order. The simulated customer's
  confirmation takes effect when the order is next looked at (a query, a
  reversal) at or after its time: the back end needs no timer, and a test
  moving the host's clock moves the customer too.
- **reversal** (0400 of a wallet or MPM sale): a confirmation already due is
  applied first; an order still waiting is closed (nothing was taken); a
  paid one is then reversed like a card sale, money back to the wallet.

Money: a wallet account is a `cardholder` account `wallet:<wallet>:<number>`
(it may not go negative), funded once from `issuer:wallet-<wallet>`; a payment
posts wallet -A, merchant +A. Records: one `transactions` row per wallet or
MPM sale (status `pending` while the customer has not paid), with its
`wallet_orders` row; codes are kept in `wallet_codes` as a keyed HMAC. Wallet
payments are outside the card settlement totals (field 48 counts card
transactions; wallets settle with the acquirer on their own).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from acquirer.config import Merchant, Terminal
from acquirer.decline import Decline
from acquirer.ledger import InsufficientFunds, Ledger, issuer_account, merchant_account
from acquirer.processing import Outcome
from acquirer.protocol.cardholder import pan_token
from acquirer.protocol.clock import CHINA
from acquirer.protocol.codes import WALLET_MEANINGS
from acquirer.protocol.messages import FinancialRequest
from acquirer.protocol.mpm import (
    TILLKIT_GUID,
    MalformedMpm,
    MerchantPresentedCode,
    parse_mpm,
)
from acquirer.protocol.transactions import TxnType
from acquirer.protocol.wallet_app import AppAnswer, MerchantCodePayment
from acquirer.protocol.wallet_codes import (
    CODE_TTL_S,
    CodeContent,
    InvalidWalletCode,
    mask_code,
    read_code,
    shape_of,
)
from acquirer.protocol.wallets import WalletAccount, Wallets
from acquirer.records import Records, TxnKey, TxnRow
from acquirer.storage.store import Store

__all__ = ["WalletChannel", "wallet_account", "wallet_issuer_account"]

log = logging.getLogger("acquirer.wallet")

#: order states (`wallet_orders.state`)
USER_PAYING, AWAITING_PAYMENT, PAID, FAILED, CLOSED = "user_paying", "awaiting_payment", "paid", "failed", "closed"
ORDER_TYPES = (TxnType.WALLET_SALE.value, TxnType.MPM_SALE.value)


def wallet_account(wallet: str, number: int) -> str:
    return f"wallet:{wallet}:{number:03d}"


def wallet_issuer_account(wallet: str) -> str:
    return issuer_account(f"wallet-{wallet}")


@dataclass(frozen=True)
class _Payer:
    """A verified, fresh code and the wallet account it pays from."""

    content: CodeContent
    account: WalletAccount


class WalletChannel:
    """The wallets' back ends on the host's writer connection (call everything inside a `GroupCommit.unit`)."""

    def __init__(self, wallets: Wallets | None, merchants: Mapping[str, Merchant], ledger: Ledger,
                 records: Records, token_key: bytes) -> None:
        self.wallets = wallets
        self.merchants = merchants
        self.ledger = ledger
        self.records = records
        self.store: Store = ledger.store
        self.token_key = token_key

    def seed(self) -> None:
        """Every account of the wallets file, funded once from its wallet's issuer account."""
        if self.wallets is None:
            return
        for wallet in self.wallets.settings:
            self.ledger.open_account(wallet_issuer_account(wallet), "issuer")
        for account in self.wallets.accounts:
            name = wallet_account(account.wallet, account.number)
            if self.ledger.open_account(name, "cardholder") and account.balance:
                self.ledger.post("open", [(wallet_issuer_account(account.wallet), -account.balance),
                                          (name, account.balance)])

    # --- the terminal's requests --------------------------------------------------------

    def request(self, req: FinancialRequest, terminal: Terminal, now: datetime) -> Outcome:
        """A wallet sale, MPM sale or wallet query; raises `Decline` (e.g. 40, 94) for a request not recorded."""
        if self.wallets is None:
            raise Decline("40", "no wallet channel on this host (no wallets.toml)")
        if req.txn is TxnType.WALLET_QUERY:
            return self._query(req, terminal, now)
        txn_id = self.records.new_id()
        stamp = now.astimezone(UTC).isoformat()
        original_id = None
        if req.txn in (TxnType.WALLET_VOID, TxnType.WALLET_REFUND):
            outcome, status, wallet, original_id = self._give_back(req, terminal, txn_id, stamp)
        elif req.txn is TxnType.WALLET_SALE:
            outcome, status, wallet = self._code_sale(req, terminal, txn_id, now)
        else:
            outcome, status, wallet = self._merchant_code_order(req, terminal, txn_id, now)
        # last: a duplicate (94) rolls back the order, the used code and any posting with it
        self.records.insert(
            txn_id, TxnKey(terminal.tid, terminal.mid, req.batch, req.stan, _date(now)), req.txn.value,
            req.amount or 0, req.currency, status=status, created_at=stamp, response_code=outcome.code,
            scheme=wallet, issuer=f"wallet-{wallet}" if wallet else None, entry_mode=req.card.entry_mode,
            rrn=outcome.rrn, auth_code=outcome.auth_code, original_id=original_id)
        log.info("%s from %s STAN %s: %s %s", req.txn.value, terminal.tid, req.stan, outcome.code, outcome.reason)
        return outcome

    def _code_sale(self, req: FinancialRequest, terminal: Terminal, txn_id: int,
                   now: datetime) -> tuple[Outcome, str, str | None]:
        code = req.wallet_data or ""
        shape = shape_of(code)
        wallet = shape.kind if shape else None
        try:
            amount = _positive(req.amount)
            payer = self._payer(code, now)
            self._use(code, payer, txn_id, now)
            account = payer.account
            assert self.wallets is not None   # the wallet channel runs only with wallets configured
            settings = self.wallets.settings[account.wallet]
            confirm_at = None
            if account.asks_password(amount, settings):
                if account.confirms:
                    confirm_at = now.timestamp() + settings.confirm_delay_s
                self._order(txn_id, "code", USER_PAYING, account, code, confirm_at=confirm_at, now=now)
                return Outcome("09", reason="user paying: waiting for the customer's password"), "pending", wallet
            self._order(txn_id, "code", PAID, account, code, now=now)
            self._pay(txn_id, account, amount, terminal.mid, now)
            return self._approval(), "approved", wallet
        except Decline as d:
            self.store.set_wallet_order_state(txn_id, FAILED)
            return Outcome(d.code, reason=d.reason), "declined", wallet

    def _merchant_code_order(self, req: FinancialRequest, terminal: Terminal, txn_id: int,
                             now: datetime) -> tuple[Outcome, str, str | None]:
        bill = req.wallet_data or ""
        try:
            _positive(req.amount)
            if self._open_order(terminal.tid, terminal.mid, bill) is not None:
                raise Decline("12", f"bill number {bill!r} already has an open order at this terminal")
        except Decline as d:
            return Outcome(d.code, reason=d.reason), "declined", None
        stamp = now.astimezone(UTC).isoformat()
        self.store.insert_wallet_order(txn_id, "mpm", AWAITING_PAYMENT, stamp, bill=bill)
        return Outcome("09", reason="waiting for the customer to pay the merchant code"), "pending", None

    def _query(self, req: FinancialRequest, terminal: Terminal, now: datetime) -> Outcome:
        row = self._order_row(req, terminal, now)
        if row is None:
            raise Decline("25", "no wallet order with that batch and STAN")
        if row.amount != (req.amount or 0):
            raise Decline("64", f"query amount {req.amount} differs from the order's {row.amount}")
        self._settle_due(row.id, now)
        row = self.records.get(row.id)
        if row.status == "approved":
            return Outcome("00", rrn=row.rrn, auth_code=row.auth_code, reason="paid")
        if row.status == "pending":
            return Outcome("09", reason="still waiting for the customer")
        if row.status == "declined":
            return Outcome(row.response_code or "05", reason="the payment failed")
        return Outcome("12", reason=f"the order is {row.status}")

    # --- void and refund ---------------------------------------------------------------------

    def _give_back(self, req: FinancialRequest, terminal: Terminal, txn_id: int,
                   stamp: str) -> tuple[Outcome, str, str | None, int | None]:
        """A wallet void (the whole order, same batch) or refund (part or all of it, any later day).

        The original is named by its RRN (37) and batch + STAN (61) and must be a
        paid wallet or MPM sale of this merchant (25 otherwise, 12 when it is no
        longer paid); the money goes back to the wallet account that paid it.
        A void must be of this terminal's open batch, for the order's amount
        (64), and of an order nothing was refunded of (12); a refund at most
        what is left to refund (61).
        """
        original: TxnRow | None = None
        try:
            amount = _positive(req.amount)
            original = self._paid_order(req, terminal, same_terminal=req.txn is TxnType.WALLET_VOID)
            if req.txn is TxnType.WALLET_VOID:
                if original.batch != req.batch:
                    raise Decline("12", f"the order is in batch {original.batch}, which is settled: refund it")
                if original.refunded:
                    raise Decline("12", "the order was partly refunded; refund the rest instead")
                if amount != original.amount:
                    raise Decline("64", f"void amount {amount} differs from the order's {original.amount}")
                self._post_back(txn_id, "void", self.ledger.opposite(original.id), stamp)
                self.records.set_status(original.id, "voided")
            else:
                remaining = original.amount - original.refunded
                if amount > remaining:
                    raise Decline("61", f"refund {amount} above the {remaining} left to refund")
                payer = next((account for account, leg in self.ledger.legs_of(original.id)
                              if leg < 0 and account.startswith("wallet:")), None)
                if payer is None:
                    raise Decline("12", "the order paid nothing to give back")
                self._post_back(txn_id, "refund", [(merchant_account(terminal.mid), -amount),
                                                          (payer, amount)], stamp)
                self.records.add_refunded(original.id, amount)
        except Decline as d:
            if original is None:
                return Outcome(d.code, reason=d.reason), "declined", None, None
            return Outcome(d.code, reason=d.reason), "declined", self._wallet_of(original), original.id
        return self._approval(), "approved", self._wallet_of(original), original.id

    def _wallet_of(self, order: TxnRow) -> str | None:
        """The wallet that paid an order (an MPM order learns it when the customer's app pays)."""
        found = self.store.wallet_order(order.id)
        return None if found is None else found[2]

    def _paid_order(self, req: FinancialRequest, terminal: Terminal, *, same_terminal: bool) -> TxnRow:
        o = req.original
        row = self.records.by_rrn(o.rrn) if o is not None and o.rrn else None
        if (row is None or o is None or row.txn_type not in ORDER_TYPES or row.mid != terminal.mid
                or (same_terminal and row.tid != terminal.tid)
                or (o.batch and (row.batch, row.stan) != (o.batch, o.stan))):
            raise Decline("25", "no wallet order with that RRN")
        if row.status != "approved":
            raise Decline("12", f"the order is {row.status}")
        return row

    def _post_back(self, txn_id: int, kind: str, legs: list[tuple[str, int]], stamp: str) -> None:
        try:
            self.ledger.post(kind, legs, txn_id, stamp)
        except InsufficientFunds:
            raise Decline("51", "the merchant's account lacks the amount to give back") from None

    # --- reversal ---------------------------------------------------------------------------

    def before_reversal(self, req: FinancialRequest, terminal: Terminal, now: datetime) -> None:
        """Before a 0400 of a wallet or MPM sale is applied: a due confirmation first, then close what still waits.

        The reversal itself (`Processor.reversal`) then undoes a paid order and
        finds nothing to undo in a closed one.
        """
        if self.wallets is None:
            return
        row = self._order_row(req, terminal, now, batch=req.batch, stan=req.stan)
        if row is None or row.txn_type != req.txn.value or row.amount != (req.amount or 0):
            return
        self._settle_due(row.id, now)
        if self.records.get(row.id).status == "pending":
            self.store.set_wallet_order_state(row.id, CLOSED, now.astimezone(UTC).isoformat())
            self.records.set_status(row.id, "reversed")
            log.info("%s of %s STAN %s closed before it was paid", row.txn_type, terminal.tid, req.stan)

    # --- the customer's wallet app ------------------------------------------------------------

    def pay_merchant_code(self, payment: MerchantCodePayment, now: datetime) -> AppAnswer:
        """A wallet app pays the merchant-presented code it scanned (the open MPM order of its bill)."""
        if self.wallets is None:
            return _answer("40")
        order: TxnRow | None = None
        try:
            payer = self._payer(payment.code, now)
            if payer.content.kind != payment.wallet:
                raise Decline("14", f"a {payer.content.kind} code cannot pay from {payment.wallet}")
            code = _merchant_code(payment.merchant_code)
            template = code.template("26")
            if template.get("00") != TILLKIT_GUID:
                raise Decline("03", f"merchant account {template.get('00')!r} is not this acquirer's")
            mid, tid, bill = template.get("01", ""), template.get("02", ""), code.bill_number or ""
            order = self._open_order(tid, mid, bill)
            if order is None:
                raise Decline("25", f"no open order for bill {bill!r} at terminal {tid}")
            if code.amount_fen != order.amount:
                raise Decline("64", f"code amount {code.amount_fen} differs from the order's {order.amount}")
            self._use(payment.code, payer, order.id, now)
            self._pay(order.id, payer.account, order.amount, mid, now)
        except Decline as d:
            log.info("wallet app payment refused: %s %s", d.code, d.reason)
            return _answer(d.code, order.amount if order else None)
        approval = self._approval()
        self.records.resolve(order.id, "approved", "00", approval.rrn, approval.auth_code)
        self.store.wallet_order_paid(order.id, PAID, payer.account.wallet, payer.account.number,
                                     mask_code(payment.code), now.astimezone(UTC).isoformat())
        merchant = self.merchants.get(mid)
        return _answer("00", order.amount, merchant.name_en if merchant else None, approval.rrn)

    # --- shared steps -----------------------------------------------------------------------------

    def _payer(self, code: str, now: datetime) -> _Payer:
        """The account a code pays from, if the code verifies and is fresh (14, 54)."""
        assert self.wallets is not None
        try:
            content = read_code(code, self.wallets.keys)
        except InvalidWalletCode as e:
            raise Decline("14", str(e)) from None
        account = self.wallets.by_number(content.kind, content.account)
        if account is None:
            raise Decline("14", f"{content.kind} has no account number {content.account}")
        age = now.timestamp() - content.issued_at(now.timestamp())
        if age > CODE_TTL_S:
            raise Decline("54", f"code issued {age:.0f} s ago (valid {CODE_TTL_S} s)")
        return _Payer(content, account)

    def _use(self, code: str, payer: _Payer, txn_id: int, now: datetime) -> None:
        """Keep the code: it works once (12 the second time)."""
        if not self.store.use_wallet_code(pan_token(self.token_key, code), payer.account.wallet,
                                          payer.account.number, txn_id, now.astimezone(UTC).isoformat()):
            raise Decline("12", f"{payer.account.wallet} code {mask_code(code)} was already used")

    def _order(self, txn_id: int, channel: str, state: str, account: WalletAccount, code: str, *,
               now: datetime, confirm_at: float | None = None) -> None:
        stamp = now.astimezone(UTC).isoformat()
        self.store.insert_wallet_order(txn_id, channel, state, stamp, wallet=account.wallet,
                                       account=account.number, masked_code=mask_code(code), confirm_at=confirm_at)

    def _pay(self, txn_id: int, account: WalletAccount, amount: int, mid: str, when: datetime) -> None:
        try:
            self.ledger.post("wallet_payment", [(wallet_account(account.wallet, account.number), -amount),
                                                (merchant_account(mid), amount)],
                             txn_id, when.astimezone(UTC).isoformat())
        except InsufficientFunds:
            raise Decline("51", f"{account.wallet} account {account.number} lacks {amount} fen") from None

    def _approval(self) -> Outcome:
        return Outcome("00", rrn=self.records.next_rrn(), auth_code=self.records.new_auth_code(), reason="paid")

    def _settle_due(self, txn_id: int, now: datetime) -> None:
        """Apply the simulated customer's confirmation if it is due: pay (or fail for want of money)."""
        found = self.store.wallet_order(txn_id)
        if found is None:
            return
        state, confirm_at, wallet, number = found
        if state != USER_PAYING or confirm_at is None or confirm_at > now.timestamp():
            return
        assert self.wallets is not None
        account = self.wallets.by_number(wallet, number)
        row = self.records.get(txn_id)
        confirmed = datetime.fromtimestamp(confirm_at, UTC)
        try:
            if account is None:
                raise Decline("14", f"{wallet} account {number} is no longer on file")
            self._pay(txn_id, account, row.amount, row.mid, confirmed)
        except Decline as d:
            self.records.resolve(txn_id, "declined", d.code)
            new_state = FAILED
        else:
            approval = self._approval()
            self.records.resolve(txn_id, "approved", "00", approval.rrn, approval.auth_code)
            new_state = PAID
        self.store.set_wallet_order_state(txn_id, new_state, confirmed.isoformat())

    def _order_row(self, req: FinancialRequest, terminal: Terminal, now: datetime, *,
                   batch: str | None = None, stan: str | None = None) -> TxnRow | None:
        """The wallet or MPM sale a query (61) or reversal (60.2 + 11) names, received today or yesterday."""
        if batch is None or stan is None:
            if req.original is None or not req.original.batch or not req.original.stan:
                return None
            batch, stan = req.original.batch, req.original.stan
        row = self.records.by_stan(terminal.tid, terminal.mid, batch, stan, _date(now - timedelta(days=1)))
        if row is None or row.txn_type not in ORDER_TYPES:
            return None
        return row

    def _open_order(self, tid: str, mid: str, bill: str) -> TxnRow | None:
        found = self.store.open_wallet_order(tid, mid, bill, AWAITING_PAYMENT)
        return self.records.get(found) if found is not None else None


def _positive(amount: int | None) -> int:
    if not amount:
        raise Decline("13", "amount is zero")
    return amount


def _merchant_code(payload: str) -> MerchantPresentedCode:
    """A dynamic merchant-presented code with an amount and our merchant account template (30 otherwise)."""
    try:
        code = parse_mpm(payload)
        if not code.dynamic or code.amount_fen is None or "26" not in code.merchant_accounts:
            raise MalformedMpm("not a dynamic code with an amount and merchant account template 26")
        code.template("26")
    except MalformedMpm as e:
        raise Decline("30", str(e)) from None
    return code


def _answer(code: str, amount: int | None = None, merchant: str | None = None, rrn: str | None = None) -> AppAnswer:
    return AppAnswer(code, WALLET_MEANINGS.get(code, ("Declined", ""))[0], amount, merchant, rrn)


def _date(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
