"""Application selection: read the card's PPSE directory and rank the candidates.

EMV Book B: keep the directory entries whose AID the terminal supports and
whose contactless transaction limit the amount does not exceed, then order
them by the card's Application Priority Indicator (87, low nibble; 1 is the
highest, 0 or absent means no priority and ranks last); ties keep the card's
order.
"""
from __future__ import annotations

from dataclasses import dataclass

from acquirer.protocol import tlv
from pos.sources.emv.params import AidParams, TerminalEmvConfig


class CardDataError(ValueError):
    """The card's answer does not hold what EMV says it must (which object, which command)."""


@dataclass(frozen=True)
class DirectoryEntry:
    adf_name: bytes      # 4F
    label: str           # 50
    priority: int        # 87 low nibble, 0 = none


@dataclass(frozen=True)
class Candidate:
    entry: DirectoryEntry
    params: AidParams


def parse_ppse(fci: bytes) -> list[DirectoryEntry]:
    """The directory entries (61) of a SELECT PPSE answer: 6F > A5 > BF0C > 61."""
    try:
        template = tlv.first(tlv.parse(fci), "6F")
        if template is None:
            raise CardDataError("SELECT PPSE answer has no FCI template (6F)")
        proprietary = _child(template, "A5", "PPSE FCI")
        directory = _child(proprietary, "BF0C", "PPSE FCI proprietary template")
        entries = []
        for item in tlv.parse(directory):
            if item.tag != "61":
                continue
            fields = item.children()
            adf_name = tlv.first(fields, "4F")
            if not adf_name:
                raise CardDataError("PPSE directory entry (61) has no AID (4F)")
            priority = tlv.first(fields, "87")
            entries.append(DirectoryEntry(
                adf_name=adf_name,
                label=_text(tlv.first(fields, "50")),
                priority=priority[0] & 0x0F if priority else 0,
            ))
    except tlv.TlvError as error:
        raise CardDataError(f"SELECT PPSE answer is not valid TLV: {error}") from error
    return entries


def rank_candidates(entries: list[DirectoryEntry], config: TerminalEmvConfig,
                    amount: int) -> tuple[list[Candidate], bool]:
    """Candidates in selection order, and whether the amount ruled any out.

    The flag tells "this card's application is fine but not for this amount
    by contactless" (please insert) from "nothing we accept" (another card).
    """
    supported = []
    over_limit = False
    for entry in entries:
        params = config.aid_params(entry.adf_name)
        if params is None:
            continue
        if amount > params.contactless_limit:
            over_limit = True
            continue
        supported.append(Candidate(entry, params))
    ranked = sorted(supported, key=lambda c: c.entry.priority or 16)  # stable: card order on ties
    return ranked, over_limit


@dataclass(frozen=True)
class SelectedApplication:
    df_name: bytes       # 84
    label: str           # 50
    pdol: bytes          # 9F38 (empty when the card asks for nothing)


def parse_select_answer(fci: bytes, selected: bytes) -> SelectedApplication:
    """The FCI of SELECT AID: 6F > 84, A5 > 50, 9F38."""
    try:
        template = tlv.first(tlv.parse(fci), "6F")
        if template is None:
            raise CardDataError("SELECT AID answer has no FCI template (6F)")
        fields = tlv.parse(template)
        df_name = tlv.first(fields, "84")
        if df_name is None or not df_name.startswith(selected):
            raise CardDataError("SELECT AID answer names another application (84)")
        proprietary = tlv.parse(tlv.first(fields, "A5") or b"")
    except tlv.TlvError as error:
        raise CardDataError(f"SELECT AID answer is not valid TLV: {error}") from error
    return SelectedApplication(
        df_name=df_name,
        label=_text(tlv.first(proprietary, "50")),
        pdol=tlv.first(proprietary, "9F38") or b"",
    )


def _child(value: bytes, tag: str, where: str) -> bytes:
    found = tlv.first(tlv.parse(value), tag)
    if found is None:
        raise CardDataError(f"{where} has no {tag}")
    return found


def _text(raw: bytes | None) -> str:
    return raw.decode("ascii", "replace").strip() if raw else ""
