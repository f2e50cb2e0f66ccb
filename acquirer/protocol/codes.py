"""Response codes (field 39) of the POS link, with English and Chinese text.

The set is the one in common use on UnionPay-style POS links (payments.md
section 1). Terminals show `zh`/`en` to the cashier; `approved` is true only for
the codes after which the transaction stands.
"""
from __future__ import annotations

from dataclasses import dataclass

from acquirer.protocol.codec import ProtocolError

__all__ = ["CODES", "ResponseCode", "UnknownResponseCode", "describe", "is_approved", "lookup"]


@dataclass(frozen=True)
class ResponseCode:
    code: str
    en: str
    zh: str
    approved: bool = False


CODES: dict[str, ResponseCode] = {c.code: c for c in (
    ResponseCode("00", "Approved", "交易成功", approved=True),
    ResponseCode("01", "Refer to card issuer", "请持卡人与发卡银行联系"),
    ResponseCode("03", "Invalid merchant", "无效商户"),
    ResponseCode("05", "Do not honour", "不予承兑"),
    ResponseCode("12", "Invalid transaction", "无效交易"),
    ResponseCode("13", "Invalid amount", "无效金额"),
    ResponseCode("14", "Invalid card number", "无效卡号"),
    ResponseCode("22", "Suspected malfunction, original transaction state differs", "原交易状态不符"),
    ResponseCode("25", "Original transaction not found", "找不到原始交易"),
    ResponseCode("30", "Format error", "报文格式错误"),
    ResponseCode("40", "Function not supported", "请求的功能尚不支持"),
    ResponseCode("41", "Lost card, pick up", "挂失卡，请没收"),
    ResponseCode("43", "Stolen card, pick up", "被窃卡，请没收"),
    ResponseCode("51", "Insufficient funds", "余额不足"),
    ResponseCode("54", "Expired card", "过期卡"),
    ResponseCode("55", "Incorrect PIN", "密码错"),
    ResponseCode("58", "Transaction not permitted to terminal", "不允许此卡在本终端交易"),
    ResponseCode("61", "Exceeds amount limit", "超出金额限制"),
    ResponseCode("64", "Original amount incorrect", "原始金额错误"),
    ResponseCode("75", "PIN tries exceeded", "密码错误次数超限"),
    ResponseCode("77", "Batch number mismatch, sign on again", "批次号不一致，请重新签到"),
    ResponseCode("91", "Issuer or switch inoperative", "发卡方不能操作"),
    ResponseCode("94", "Duplicate transmission", "重复交易"),
    ResponseCode("95", "Reconcile error", "对账不平"),
    ResponseCode("96", "System malfunction", "系统故障"),
    ResponseCode("97", "Terminal not registered", "终端未登记"),
    ResponseCode("98", "No answer from issuer", "发卡方超时"),
    ResponseCode("A0", "MAC error, sign on again", "MAC校验错，请重新签到"),
)}


class UnknownResponseCode(ProtocolError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown response code {code!r} (field 39)")


def lookup(code: str) -> ResponseCode:
    """The entry for a field 39 value; raises `UnknownResponseCode`."""
    try:
        return CODES[code]
    except KeyError:
        raise UnknownResponseCode(code) from None


def is_approved(code: str) -> bool:
    """True for approval codes; unknown codes count as declines."""
    entry = CODES.get(code)
    return entry is not None and entry.approved


def describe(code: str) -> str:
    """`"51 Insufficient funds / 余额不足"`; unknown codes are shown as such."""
    entry = CODES.get(code)
    if entry is None:
        return f"{code} Unknown response code / 未知应答码"
    return f"{code} {entry.en} / {entry.zh}"
