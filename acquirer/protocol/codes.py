"""Response codes (field 39) of the POS link, with English and Chinese text.

The set is the one in common use on UnionPay-style POS links (docs/payment-standards.md,
"The POS link"), plus ISO 8583's 09 "request in progress", which the wallet channel
answers while the customer confirms a payment on the phone (docs/protocol.md
section 11). Terminals show `zh`/`en` to the cashier; `approved` is true only for
the codes after which the transaction stands.
"""
from __future__ import annotations

from dataclasses import dataclass

from acquirer.protocol.codec import ProtocolError

__all__ = ["CODES", "WALLET_MEANINGS", "ResponseCode", "UnknownResponseCode", "describe", "describe_wallet",
           "is_approved", "lookup"]


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
    ResponseCode("09", "Request in progress (customer confirming on the phone)", "交易处理中，用户支付中"),
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


#: what a response code means on the wallet channel (docs/protocol.md section 11): the words a
#: terminal shows for a wallet payment, and a wallet app for a merchant-presented code it paid
WALLET_MEANINGS: dict[str, tuple[str, str]] = {
    "00": ("Paid", "支付成功"),
    "03": ("Not a merchant code of this acquirer", "非本收单机构商户码"),
    "09": ("Customer confirming on the phone", "用户支付中，请等待"),
    "12": ("Payment code already used: refresh the code in the app", "付款码已使用，请刷新付款码"),
    "13": ("Invalid amount", "金额无效"),
    "14": ("Invalid payment code: refresh the code in the app", "无效付款码，请刷新付款码"),
    "25": ("Order not found, or no longer open", "订单不存在或已关闭"),
    "30": ("Merchant code unreadable", "商户码格式错误"),
    "40": ("Wallet not accepted here", "不支持该钱包"),
    "51": ("Insufficient wallet balance", "钱包余额不足"),
    "54": ("Payment code expired: refresh the code in the app", "付款码已过期，请刷新付款码"),
    "64": ("Amount differs from the order", "金额与订单不符"),
}


def describe_wallet(code: str) -> str:
    """`"54 Payment code expired: ... / 付款码已过期..."`: a wallet-channel answer in words."""
    meaning = WALLET_MEANINGS.get(code)
    if meaning is None:
        return describe(code)
    return f"{code} {meaning[0]} / {meaning[1]}"
