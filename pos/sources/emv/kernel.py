"""The EMV contactless kernel: from an activated card to field 55, ready to go online.

Written by hand because no kept Python library runs the terminal side of EMV
contactless (pyemv computes cryptograms; it does not drive a card). One
kernel serves the three schemes the kit accepts, as their cards behave:

- UnionPay QuickPass (qPBOC) and Visa payWave (qVSDC): the card computes its
  ARQC during GET PROCESSING OPTIONS over the PDOL data (TTQ, amount, date,
  unpredictable number ...); the records add PAN and dates.
- Mastercard (M/Chip): GPO gives AIP and AFL; after the records the kernel
  sends GENERATE AC with the CDOL1 data asking for an ARQC.

Steps: contactless pre-processing (limits per AID), SELECT PPSE, candidate
ranking (`selection`), SELECT AID (a refused candidate yields to the next),
GPO, READ RECORD per AFL, GENERATE AC where needed, mandatory-data and
consistency checks, terminal risk (floor limit, expiry), the CVM (online PIN
above the CVM limit unless the device verified its holder), and field 55.
Every transaction goes online: the terminal always asks for an ARQC, so an
offline approval (TC) is never an outcome.

The card is any object with `exchange(apdu) -> bytes`: an nfcpy ISO-DEP card
(`drivers.nfc.IsoDepCard`), which is how the terminal reads every card
(`pos.sources.contactless`), or in the kernel's own tests a virtual card's
application in-process.
Not done (online-only terminal): offline data authentication (fDDA/CDA),
CVM list processing (the per-AID rule and the card's CTQ decide), issuer
scripts (the card has left the field when the answer comes).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import CryptogramError, cryptogram_for
from acquirer.protocol.dol import DolError, build_dol_data
from drivers.nfc.errors import CardError
from pos.core.payment import CardData, PaymentRequest
from pos.sources.emv import apdu
from pos.sources.emv.field55 import build_field55
from pos.sources.emv.outcome import (
    KernelResult,
    Outcome,
    declined,
    online_request,
    outcome_for_card_error,
    present_card_again,
    try_another_interface,
)
from pos.sources.emv.params import AidParams, TerminalEmvConfig
from pos.sources.emv.selection import (
    Candidate,
    CardDataError,
    SelectedApplication,
    parse_ppse,
    parse_select_answer,
    rank_candidates,
)

CVM_NONE = "no CVM"
CVM_ONLINE_PIN = "online PIN"
CVM_SIGNATURE = "signature"
CVM_DEVICE = "consumer device CVM"
# 9F34 CVM results: method, condition, result
CVM_RESULTS = {
    CVM_NONE: bytes.fromhex("1F0002"),          # no CVM required, successful
    CVM_ONLINE_PIN: bytes.fromhex("420300"),    # enciphered PIN online, result unknown
    CVM_SIGNATURE: bytes.fromhex("1E0300"),     # signature, result unknown
    CVM_DEVICE: bytes.fromhex("010002"),        # verified on the device, successful
}
_CVM_BY_SETTING = {"online_pin": CVM_ONLINE_PIN, "signature": CVM_SIGNATURE, "none": CVM_NONE}

CID_AAC, CID_TC, CID_ARQC = 0x00, 0x40, 0x80
CARD_READ_ERROR = "card read error"


class ApduTransport(Protocol):
    def exchange(self, apdu: bytes) -> bytes: ...


class _Stop(Exception):
    """Ends the tap with an outcome (raised deep, caught in `run`)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


class ContactlessKernel:
    """Reads one tapped card into an online request (or says why not)."""

    def __init__(self, config: TerminalEmvConfig) -> None:
        self.config = config

    def run(self, card: ApduTransport, request: PaymentRequest, *,
            sequence_counter: int | None = None) -> KernelResult:
        """Run the kernel on an activated card for one payment request."""
        try:
            return self._run(card, request, sequence_counter)
        except _Stop as stop:
            return KernelResult(stop.outcome)
        except CardError as error:
            return KernelResult(outcome_for_card_error(error))
        except (CardDataError, DolError, tlv.TlvError) as error:
            return KernelResult(try_another_interface(f"{CARD_READ_ERROR}: {error}"))

    # --- the flow -----------------------------------------------------------------
    def _run(self, card: ApduTransport, request: PaymentRequest,
             sequence_counter: int | None) -> KernelResult:
        if all(request.amount > p.contactless_limit for p in self.config.aids):
            raise _Stop(try_another_interface("amount above every contactless limit", insert=True))
        ppse = self._send(card, apdu.select(apdu.PPSE_NAME), "SELECT PPSE")
        if ppse.sw != apdu.SW_OK:
            raise _Stop(try_another_interface(f"no contactless payment directory (SELECT PPSE {ppse.sw_hex})"))
        candidates, over_limit = rank_candidates(parse_ppse(ppse.data), self.config, request.amount)
        if not candidates:
            if over_limit:
                raise _Stop(try_another_interface("amount above the contactless limit for this card",
                                                  insert=True))
            raise _Stop(try_another_interface("no application on the card that this terminal accepts"))

        for candidate in candidates:
            started = self._start(card, candidate, request, sequence_counter)
            if started is not None:
                break
        else:
            raise _Stop(try_another_interface("every application on the card refused to start"))
        candidate, selected, terminal, gpo = started

        data = dict(gpo)
        afl = data.get("94")
        if afl is None:
            raise CardDataError("GPO answer has no AFL (94)")
        self._collect(data, self._read_records(card, afl), "records")
        ctq = data.get("9F6C")
        cvm = self._cvm(candidate.params, request.amount, ctq)
        terminal["9F34"] = CVM_RESULTS[cvm]
        expired = self._expiry_checks(data, request, terminal)
        if "9F26" not in data and "8C" in data:
            self._collect(data, self._generate_ac(card, data["8C"], terminal), "GENERATE AC")
        return self._conclude(candidate, selected, terminal, data, cvm, expired)

    def _start(self, card: ApduTransport, candidate: Candidate, request: PaymentRequest,
               sequence_counter: int | None
               ) -> tuple[Candidate, SelectedApplication, dict[str, bytes], dict[str, bytes]] | None:
        """SELECT the candidate and run GPO; None = this one refused, try the next."""
        answer = self._send(card, apdu.select(candidate.entry.adf_name), "SELECT AID")
        if answer.sw != apdu.SW_OK:
            return None
        try:
            selected = parse_select_answer(answer.data, candidate.entry.adf_name)
        except CardDataError:
            return None
        terminal = self._terminal_data(request, candidate.params, sequence_counter)
        pdol_data = build_dol_data(selected.pdol, terminal)
        gpo = self._send(card, apdu.get_processing_options(pdol_data), "GET PROCESSING OPTIONS")
        if gpo.sw == apdu.SW_SEE_PHONE:
            raise _Stop(present_card_again("the phone asks its holder to act on it (GPO 6986)",
                                           see_phone=True))
        if gpo.sw == apdu.SW_CONDITIONS_NOT_SATISFIED:
            return None
        if gpo.sw != apdu.SW_OK:
            raise _Stop(try_another_interface(f"{CARD_READ_ERROR}: GET PROCESSING OPTIONS answered {gpo.sw_hex}"))
        return candidate, selected, terminal, self._parse_gpo(gpo.data)

    def _parse_gpo(self, raw: bytes) -> dict[str, bytes]:
        items = tlv.parse(raw)
        if len(items) != 1:
            raise CardDataError("GPO answer must be one template (77 or 80)")
        template = items[0]
        if template.tag == "80":  # format 1: AIP then AFL
            if len(template.value) < 2:
                raise CardDataError("GPO format 1 answer is shorter than the AIP")
            return {"82": template.value[:2], "94": template.value[2:]}
        if template.tag != "77":
            raise CardDataError(f"GPO answer template is {template.tag}, not 77 or 80")
        data: dict[str, bytes] = {}
        self._collect(data, template.children(), "GPO answer")
        return data

    def _read_records(self, card: ApduTransport, afl: bytes) -> list[tlv.Tlv]:
        if not afl or len(afl) % 4:
            raise CardDataError(f"AFL (94) of {len(afl)} bytes is not a list of 4-byte entries")
        items: list[tlv.Tlv] = []
        for i in range(0, len(afl), 4):
            sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
            if not 1 <= sfi <= 30 or first == 0 or last < first:
                raise CardDataError(f"AFL entry {i // 4 + 1} ({afl[i:i + 4].hex().upper()}) is invalid")
            for record in range(first, last + 1):
                answer = self._send(card, apdu.read_record(sfi, record), "READ RECORD")
                if answer.sw != apdu.SW_OK:
                    raise CardDataError(f"READ RECORD SFI {sfi} record {record} answered {answer.sw_hex}")
                parsed = tlv.parse(answer.data)
                if len(parsed) != 1 or parsed[0].tag != "70":
                    raise CardDataError(f"record {record} of SFI {sfi} is not a record template (70)")
                items += parsed[0].children()
        return items

    def _generate_ac(self, card: ApduTransport, cdol1: bytes, terminal: dict[str, bytes]) -> list[tlv.Tlv]:
        answer = self._send(card, apdu.generate_ac(apdu.REQUEST_ARQC, build_dol_data(cdol1, terminal)),
                            "GENERATE AC")
        if answer.sw != apdu.SW_OK:
            raise CardDataError(f"GENERATE AC answered {answer.sw_hex}")
        items = tlv.parse(answer.data)
        if len(items) != 1:
            raise CardDataError("GENERATE AC answer must be one template (77 or 80)")
        if items[0].tag == "77":
            return items[0].children()
        if items[0].tag == "80" and len(items[0].value) >= 11:  # format 1: CID, ATC, AC, IAD
            value = items[0].value
            return [tlv.Tlv("9F27", value[:1]), tlv.Tlv("9F36", value[1:3]),
                    tlv.Tlv("9F26", value[3:11]), tlv.Tlv("9F10", value[11:])]
        raise CardDataError(f"GENERATE AC answer template {items[0].tag} is not a cryptogram answer")

    # --- terminal side -------------------------------------------------------------
    def _terminal_data(self, request: PaymentRequest, params: AidParams,
                       sequence_counter: int | None) -> dict[str, bytes]:
        ttq = bytearray(params.ttq)
        ttq[1] |= 0x80                       # online cryptogram required: always online
        if request.amount > params.cvm_limit:
            ttq[1] |= 0x40                   # CVM required
        tvr = bytearray(5)
        if request.amount > params.floor_limit:
            tvr[3] |= 0x80                   # transaction exceeds floor limit
        data = {
            "9F02": _bcd(request.amount, 6),
            "9F03": _bcd(0, 6),
            "9F1A": _bcd(int(request.country), 2),
            "5F2A": _bcd(int(request.currency), 2),
            "9A": bytes.fromhex(request.transaction_date),
            "9C": bytes.fromhex(request.emv_transaction_type),
            "9F37": bytes(request.unpredictable_number),
            "95": bytes(tvr),
            "9F66": bytes(ttq),
            "9F35": self.config.terminal_type,
            "9F33": self.config.capabilities,
            "9F1E": self.config.ifd_serial,
            "9F09": params.app_version,
            "9F45": bytes(2),
            "9F4C": bytes(8),
        }
        if sequence_counter is not None:
            data["9F41"] = _bcd(sequence_counter % 100_000_000, 4)
        return data

    def _cvm(self, params: AidParams, amount: int, ctq: bytes | None) -> str:
        if ctq is not None and len(ctq) >= 2 and ctq[1] & 0x80:
            return CVM_DEVICE                # the phone or watch verified its holder
        if amount <= params.cvm_limit:
            return CVM_NONE
        if ctq is not None and ctq[:1] and ctq[0] & 0x80:
            return CVM_ONLINE_PIN
        if ctq is not None and ctq[:1] and ctq[0] & 0x40:
            return CVM_SIGNATURE
        return _CVM_BY_SETTING[params.cvm]

    def _expiry_checks(self, data: dict[str, bytes], request: PaymentRequest,
                       terminal: dict[str, bytes]) -> bool:
        """Set the TVR's date bits (they reach the issuer where the card has not yet
        computed its cryptogram); True when the application has expired."""
        expiry = data.get("5F24")
        if expiry is None or len(expiry) != 3:
            raise CardDataError("application expiration date (5F24) missing or not YYMMDD")
        tvr = bytearray(terminal["95"])
        expired = request.transaction_date > expiry.hex()
        if expired:
            tvr[1] |= 0x40
        effective = data.get("5F25")
        if effective is not None and request.transaction_date < effective.hex():
            tvr[1] |= 0x20
        if "9F26" not in data:
            terminal["95"] = bytes(tvr)
        return expired

    # --- conclusion ------------------------------------------------------------------
    def _conclude(self, candidate: Candidate, selected: SelectedApplication, terminal: dict[str, bytes],
                  data: dict[str, bytes], cvm: str, expired: bool) -> KernelResult:
        for tag, name in (("82", "AIP"), ("57", "track 2 equivalent data"), ("9F36", "ATC"),
                          ("9F26", "application cryptogram"), ("9F27", "cryptogram information data"),
                          ("9F10", "issuer application data")):
            if tag not in data:
                raise CardDataError(f"the card did not send its {name} ({tag})")
        track2, pan, track2_expiry = _track2(data["57"])
        if "5A" in data and _digits(data["5A"]) != pan:
            raise CardDataError("PAN (5A) and track 2 equivalent data (57) disagree")
        if data["5F24"].hex()[:4] != track2_expiry:
            raise CardDataError("expiration date (5F24) and track 2 equivalent data (57) disagree")
        psn = data.get("5F34")
        if psn is not None and (len(psn) != 1 or not psn.hex().isdigit()):
            raise CardDataError("PAN sequence number (5F34) is not one BCD byte")
        if len(data["9F26"]) != 8 or len(data["9F36"]) != 2 or len(data["9F27"]) != 1:
            raise CardDataError("cryptogram (9F26), ATC (9F36) or CID (9F27) has the wrong length")

        values = {**terminal, **{t: data[t] for t in ("9F26", "9F27", "9F10", "9F36", "82")},
                  "84": selected.df_name}
        version = _cryptogram_version(candidate.params.scheme, data["9F10"])
        card = CardData(
            pan=pan,
            expiry=track2_expiry,
            scheme=candidate.params.scheme,
            entry_mode="07",
            source="nfc",
            psn=psn.hex() if psn is not None else None,
            track2=track2,
            icc_data=build_field55(values),
            aid=selected.df_name.hex().upper(),
            label=selected.label or candidate.entry.label,
            pin_required=cvm == CVM_ONLINE_PIN,
            cardholder_verified=cvm == CVM_DEVICE,
            extra={
                "atc": data["9F36"].hex().upper(),
                "cryptogram": {CID_ARQC: "ARQC", CID_TC: "TC", CID_AAC: "AAC"}.get(data["9F27"][0] & 0xC0, "RFU"),
                "tvr": values["95"].hex().upper(),
                "cvm": cvm,
                "expired": "yes" if expired else "no",
                **({"cryptogram_version": version} if version else {}),
            },
        )
        cid = data["9F27"][0] & 0xC0
        if cid == CID_AAC:
            return KernelResult(declined("the card declined (AAC)"), replace(card, icc_data=None))
        if cid != CID_ARQC:
            raise CardDataError(f"the card answered {card.extra['cryptogram']} where the terminal asked for an ARQC")
        return KernelResult(online_request(), card)

    # --- helpers -------------------------------------------------------------------
    def _send(self, card: ApduTransport, command: bytes, what: str) -> apdu.Response:
        raw = card.exchange(command)
        if len(raw) < 2:
            raise CardDataError(f"{what} answer has no status word")
        return apdu.Response.parse(raw)

    @staticmethod
    def _collect(target: dict[str, bytes], items: list[tlv.Tlv], where: str) -> None:
        for item in items:
            if item.tag in target:
                raise CardDataError(f"{where} repeats data object {item.tag}")
            target[item.tag] = item.value


def _bcd(number: int, size: int) -> bytes:
    return bytes.fromhex(f"{number:0{size * 2}d}")


def _digits(raw: bytes) -> str:
    return raw.hex().upper().rstrip("F")


def _track2(raw: bytes) -> tuple[str, str, str]:
    """Track 2 equivalent (57) -> (track 2 text with 'D', PAN, expiry YYMM)."""
    text = _digits(raw)
    pan, separator, rest = text.partition("D")
    if not separator or not pan.isdigit() or not 12 <= len(pan) <= 19 or not rest[:7].isdigit() or len(rest) < 7:
        raise CardDataError("track 2 equivalent data (57) is not PAN 'D' YYMM service code")
    return text, pan, rest[:4]


def _cryptogram_version(scheme: str, iad: bytes) -> str | None:
    """The card's cryptogram version, read from its IAD (9F10), for checking tag 91 later."""
    offset = 1 if scheme == "mastercard" else 2
    if len(iad) <= offset:
        return None
    try:
        return cryptogram_for(scheme, iad[offset]).name
    except CryptogramError:
        return None
