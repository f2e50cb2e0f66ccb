"""The fee engine: one line's issuer, network and acquirer fees, and its MDR.

Formulas (`docs/clearing.md` has worked examples), each with `money.fee_fen`
on the line's absolute amount, then signed like the line:

- domestic (UnionPay) card: issuer fee = debit rate capped / credit rate;
  network fee = network rate capped, once for the acquirer's side and once
  for the issuer's;
- foreign scheme: the scheme's contract rates and caps from configuration;
- wallet: the wallet's channel fee in the issuer fee's place, no network fee;
- every channel: the acquirer's fee from the merchant's rate plan, rounded by
  the merchant's `fee_rounding`.

MDR = issuer fee + the acquirer's network fee + the acquirer's fee. A void or
reversal gives back exactly the fees its original took (`original_fees`), so
a sale and its void net to zero fen whatever the rates did meanwhile.
Chargebacks and re-presentments carry no fees.
"""
from __future__ import annotations

from acquirer.clearing.errors import ClearingError
from acquirer.clearing.events import (
    ZERO_FEES,
    Channel,
    ClearingEvent,
    Fees,
    LineCode,
)
from acquirer.protocol.fee_rounding import fee_fen
from acquirer.clearing.terms import ClearingConfig, FeeSchedule, MerchantTerms, RatePlan

__all__ = ["FeeEngine"]


class FeeEngine:
    """Fees from one configuration; rates are resolved once, not per line."""

    def __init__(self, config: ClearingConfig) -> None:
        self.schedule: FeeSchedule = config.fees
        self.merchants: dict[str, MerchantTerms] = config.merchants
        self.plans: dict[str, RatePlan] = config.plans
        s = self.schedule
        self._debit = (s.issuer_debit_ppm, s.issuer_debit_cap_fen)
        self._credit = (s.issuer_credit_ppm, None)
        self._network = (s.network_ppm, s.network_cap_fen)
        self._foreign = {name: ((r.issuer_ppm, r.issuer_cap_fen), (r.network_ppm, r.network_cap_fen))
                         for name, r in s.foreign.items()}
        self._wallets = {name: (r.fee_ppm, r.fee_cap_fen) for name, r in s.wallets.items()}
        self._acquirer = {mid: (self.plans[t.rate_plan].acquirer_ppm, self.plans[t.rate_plan].acquirer_cap_fen,
                                t.fee_rounding) for mid, t in self.merchants.items()}

    def terms(self, mid: str) -> MerchantTerms:
        try:
            return self.merchants[mid]
        except KeyError:
            raise ClearingError(f"merchant {mid} has no terms in clearing.toml") from None

    def fees(self, event: ClearingEvent) -> Fees:
        code = event.code
        if code is LineCode.CHARGEBACK or code is LineCode.REPRESENTMENT:   # DISPUTE_CODES, without hashing
            return ZERO_FEES
        if event.original_fees is not None:
            return event.original_fees.negated() if event.amount < 0 else event.original_fees
        amount = event.amount
        try:
            acq_ppm, acq_cap, rounding = self._acquirer[event.mid]
        except KeyError:
            raise ClearingError(f"merchant {event.mid} has no terms in clearing.toml") from None
        acquirer = fee_fen(amount, acq_ppm, acq_cap, rounding)
        if event.channel is Channel.DOMESTIC:
            ppm, cap = self._credit if event.credit else self._debit
            network = fee_fen(amount, *self._network)
            return Fees(fee_fen(amount, ppm, cap), network, network, acquirer)
        if event.channel is Channel.FOREIGN:
            rates = self._foreign.get(event.scheme)
            if rates is None:
                raise ClearingError(f"no rates for foreign scheme {event.scheme!r} in clearing.toml [fees.foreign]")
            (i_ppm, i_cap), (n_ppm, n_cap) = rates
            network = fee_fen(amount, n_ppm, n_cap)
            return Fees(fee_fen(amount, i_ppm, i_cap), network, network, acquirer)
        wallet = self._wallets.get(event.scheme)
        if wallet is None:
            raise ClearingError(f"no rates for wallet {event.scheme!r} in clearing.toml [fees.wallets]")
        return Fees(fee_fen(amount, *wallet), 0, 0, acquirer)
