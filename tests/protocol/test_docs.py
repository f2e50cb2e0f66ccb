"""docs/protocol.md says what the code does: its tables are checked against spec, layouts and codes."""
import re
from pathlib import Path

from acquirer.protocol import codec, framing
from acquirer.protocol.codes import CODES, WALLET_MEANINGS
from acquirer.protocol.messages import LAYOUTS, SignOn, Terminal
from acquirer.protocol.spec import FIELDS, FieldDef
from acquirer.protocol.transactions import DEFAULT_TABLE, TxnType

DOC = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def table(header: str) -> list[list[str]]:
    """Rows of the markdown table whose header line starts with `header`."""
    lines = DOC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def numbers(cell: str) -> frozenset[int]:
    return frozenset() if cell == "-" else frozenset(int(n) for n in cell.split())


def wire_encoding(f: FieldDef) -> str:
    if f.kind == "an":
        body = "ASCII"
    elif f.kind == "b":
        body = "binary"
    else:
        bcd = "BCD with D separator" if f.kind == "z" else "BCD"
        body = (f"{bcd}, {f.align}-aligned" if f.length == "fixed"
                else f"{bcd}, left-aligned, trailing 0 nibble when odd")
    prefix = {"fixed": "", "LLVAR": "1-byte BCD length; ", "LLLVAR": "2-byte BCD length; "}[f.length]
    return prefix + body


def test_field_table_matches_spec():
    rows = table("| Field | Format |")
    assert [(int(r[0]), r[1], r[2], r[3]) for r in rows] == [
        (f.number, f.notation, wire_encoding(f), f.name) for f in FIELDS]


def test_message_table_matches_layouts():
    rows = table("| Message | MTI |")
    documented = {r[0]: (r[1], numbers(r[2]), numbers(r[3]), r[4] == "yes", r[5], numbers(r[6]), numbers(r[7]))
                  for r in rows}
    assert documented == {
        kind.value: (l.mti, l.required, l.optional, l.mac, l.reply_mti, l.reply_required, l.reply_optional)
        for kind, l in LAYOUTS.items()}


def test_transaction_table_matches_the_default_table():
    rows = table("| Transaction |")
    assert rows == [[d.txn.value, d.processing_code, d.condition_code, d.mti, d.type_code,
                     "yes" if d.reversible else "no"] for d in DEFAULT_TABLE]


def test_response_code_table_matches_codes():
    rows = table("| Code | Meaning |")
    assert rows == [[c.code, c.en, c.zh, "yes" if c.approved else "no"] for c in CODES.values()]


def test_sign_on_example_is_the_encoded_frame():
    block = DOC.split("## 9.", 1)[1].split("```")[1]
    hex_text = " ".join(re.match(r"((?:[0-9A-F]{2} )+)", line + " ").group(1)
                        for line in block.strip().splitlines())
    sign_on = SignOn(Terminal("10000001", "898310048990001"), "000001", "000001", "003", "01 ")
    assert bytes.fromhex(hex_text) == framing.frame(codec.encode(sign_on.to_message()))


def test_wallet_code_table_matches_the_wallet_meanings():
    rows = table("| Code | On the wallet channel |")
    assert rows == [[code, en, zh] for code, (en, zh) in WALLET_MEANINGS.items()]


def test_wallet_message_table_matches_the_transaction_table():
    rows = {r[0]: (r[1], r[2]) for r in table("| Message | 3 | 60.1 |")}
    assert rows["wallet sale"] == (DEFAULT_TABLE[TxnType.WALLET_SALE].processing_code,
                                   DEFAULT_TABLE[TxnType.WALLET_SALE].type_code)
    assert rows["MPM sale"] == (DEFAULT_TABLE[TxnType.MPM_SALE].processing_code, DEFAULT_TABLE[TxnType.MPM_SALE].type_code)
    assert rows["wallet query"] == (DEFAULT_TABLE[TxnType.WALLET_QUERY].processing_code,
                                    DEFAULT_TABLE[TxnType.WALLET_QUERY].type_code)
