"""Misbehaving cards: the named ways a virtual card (or the cardholder) gets it wrong.

Each fault applies to any card profile, so `unionpay-debit` can be presented
normal or, say, `slow`. The application-level faults (`Misbehaviour`) bend
the EMV answers; the radio-level ones are the card's timing and presence in
the field (`TypeACard` options). Two cards in the field is not a card fault:
present two cards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drivers.sim.contactless.application import (
    SW_CONDITIONS_NOT_SATISFIED,
    SW_RECORD_NOT_FOUND,
    Misbehaviour,
)

GPO, GENERATE_AC = 0xA8, 0xAE


@dataclass(frozen=True)
class Fault:
    name: str
    what: str                                   # one line for `--help` and the report
    misbehaviour: Misbehaviour = field(default_factory=Misbehaviour)
    radio: dict[str, Any] = field(default_factory=dict)  # TypeACard options


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("gpo-refused", "answers GET PROCESSING OPTIONS with 6985 (conditions of use not satisfied)",
          Misbehaviour(status_words={"gpo": SW_CONDITIONS_NOT_SATISFIED})),
    Fault("record-missing", "answers READ RECORD with 6A83 (record not found)",
          Misbehaviour(status_words={"read_record": SW_RECORD_NOT_FOUND})),
    Fault("truncated-record", "cuts its READ RECORD answers short in the middle of a data object",
          Misbehaviour(truncate="read_record")),
    Fault("malformed-gpo", "sends a GPO template whose first object overruns the template",
          Misbehaviour(malform="gpo")),
    Fault("no-track2", "leaves out the track 2 equivalent data (57)",
          Misbehaviour(omit=frozenset({"57"}))),
    Fault("no-cryptogram", "leaves out the application cryptogram (9F26)",
          Misbehaviour(omit=frozenset({"9F26"}))),
    Fault("declining", "refuses to go online: answers with an AAC",
          Misbehaviour(decline=True)),
    Fault("locked-phone", "a phone still locked: GPO answers 6986 (see phone) until tapped again",
          Misbehaviour(locked=True)),
    Fault("pulled-away", "leaves the field right after answering GET PROCESSING OPTIONS",
          radio={"leave_after": 3}),
    Fault("slow", "takes 400 ms to compute its cryptogram and does not ask for more time",
          radio={"delay_s": 0.4, "delay_on": frozenset({GPO, GENERATE_AC})}),
    Fault("slow-wtx", "takes 150 ms for its cryptogram but asks for a waiting time extension",
          radio={"delay_s": 0.15, "delay_on": frozenset({GPO, GENERATE_AC}), "wtx": True}),
)}
