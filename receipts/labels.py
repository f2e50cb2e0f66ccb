"""The bilingual words on a receipt: Chinese first, then English.

Wording follows the UnionPay POS slip convention (商户存根 MERCHANT COPY,
凭证号 VOUCHER NO., ...). Full-width punctuation (，。：（）) is used in the
Chinese text on purpose: the printers' Chinese fonts have it, and the tests
check that it prints.
"""
from __future__ import annotations

from receipts.model import Copy, Cvm, EntryMode, TransactionType

TITLE = ("POS签购单", "POS SLIP")                  # (large Chinese line, English line)
SETTLEMENT_TITLE = ("结算总计单", "SETTLEMENT")
REPRINT = "重打印 REPRINT"

COPY = {
    Copy.MERCHANT: "商户存根 MERCHANT COPY",
    Copy.CARDHOLDER: "持卡人存根 CARDHOLDER COPY",
}

MERCHANT_NAME = "商户名称 MERCHANT NAME"
MERCHANT_NO = "商户编号 MERCHANT NO."
TERMINAL_NO = "终端编号 TERMINAL NO."
OPERATOR_NO = "操作员号 OPERATOR NO."
CARD_NO = "卡号 CARD NO."
SCHEME = "卡组织 SCHEME"
PAYER_ACCOUNT = "付款账户 PAYER ACCOUNT"
WALLET = "支付方式 WALLET"
ORDER_NO = "订单号 ORDER NO."
ENTRY_MODE = "输入方式 ENTRY MODE"
TRANS_TYPE = "交易类型 TRANS TYPE"
BATCH_NO = "批次号 BATCH NO."
VOUCHER_NO = "凭证号 VOUCHER NO."
ORIGINAL_VOUCHER_NO = "原凭证号 ORIG. VOUCHER"
REFERENCE_NO = "参考号 REF. NO."
AUTH_NO = "授权码 AUTH NO."
DATE_TIME = "日期时间 DATE/TIME"
AMOUNT = "金额 AMOUNT"
BALANCE = "余额 BALANCE"
APPROVED = "交易成功 APPROVED"
DECLINED = "交易失败 DECLINED"
RESPONSE_CODE = "应答码 RESP. CODE"
APP_LABEL = "应用标签 APP LABEL"
E_RECEIPT = "电子签购单 E-RECEIPT"
SIGNATURE = "持卡人签名 CARDHOLDER SIGNATURE"
ACKNOWLEDGEMENT = (
    "本人确认以上交易，同意将其记入本卡账户。",
    "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES.",
)
NO_SIGNATURE = "免签名 NO SIGNATURE REQUIRED"
NO_SIGNATURE_WHY = {
    Cvm.PIN: "（密码验证 PIN VERIFIED）",
    Cvm.CDCVM: "（设备验证 VERIFIED ON DEVICE）",
    Cvm.NO_CVM: "（小额免密免签 UNDER CVM LIMIT）",
}

TRANSACTION = {
    TransactionType.SALE: "消费 SALE",
    TransactionType.VOID: "消费撤销 VOID",
    TransactionType.REFUND: "退货 REFUND",
    TransactionType.PRE_AUTH: "预授权 PRE-AUTH",
    TransactionType.PRE_AUTH_VOID: "预授权撤销 PRE-AUTH VOID",
    TransactionType.COMPLETION: "预授权完成 AUTH COMPLETE",
    TransactionType.COMPLETION_VOID: "预授权完成撤销 COMPLETE VOID",
    TransactionType.BALANCE: "余额查询 BALANCE INQUIRY",
}

ENTRY = {
    EntryMode.MANUAL: "手输 MANUAL",
    EntryMode.SWIPE: "刷卡 SWIPE",
    EntryMode.QR: "扫码 QR CODE",
    EntryMode.CHIP: "插卡 CHIP",
    EntryMode.CONTACTLESS: "非接 CONTACTLESS",
}

SCHEMES = {
    "unionpay": "银联 UNIONPAY",
    "visa": "VISA",
    "mastercard": "万事达 MASTERCARD",
    "amex": "美国运通 AMEX",
    "jcb": "JCB",
    "alipay": "支付宝 ALIPAY",
    "wechat": "微信支付 WECHAT PAY",
}

SETTLEMENT_HEADER = "笔数/金额 COUNT/AMOUNT"
NET_TOTAL = "净额 NET TOTAL"
BALANCED = "对账平 BALANCED"
OUT_OF_BALANCE = "对账不平 OUT OF BALANCE"

RECONCILIATION_TITLE = ("对账单", "RECONCILIATION")
TERMINALS = "终端 TERMINALS"
CLEARING_DAY = "清算日 CLEARING DAY"
GROSS = "交易额 GROSS"
FEES = "手续费 FEES"
PAYOUT = "预计入账 PAYOUT"
ALL_MATCHED = "全部相符 ALL MATCHED"
EXCEPTIONS = "差错 EXCEPTIONS"
MORE_ON_SCREEN = "其余见屏幕 MORE ON THE SCREEN"


def scheme(name: str) -> str:
    return SCHEMES.get(name, name.upper())


# --- X and Z reports ----------------------------------------------------------
X_REPORT_TITLE = ("交易汇总X报表", "X REPORT")
Z_REPORT_TITLE = ("结算汇总Z报表", "Z REPORT")
X_REPORT_NOTE = "未结算，不清零 RUNNING TOTALS, NOTHING CLOSED"
Z_REPORT_NOTE = "已结算，批次关闭 SETTLED, BATCH CLOSED"
REPORT_TOTALS = "合计 TOTALS"
BY_CHANNEL = "按支付渠道 BY CHANNEL"
BY_ENTRY_MODE = "按输入方式 BY ENTRY MODE"
BY_OPERATOR = "按操作员 BY OPERATOR"
OPERATOR = "操作员 OPERATOR"
SALES = "消费 SALES"
VOIDS = "撤销 VOIDS"
REFUNDS = "退货 REFUNDS"
REVERSALS = "冲正 REVERSALS"
COMPLETIONS = "预授权完成 COMPLETIONS"
COMPLETION_VOIDS = "完成撤销 COMPL. VOIDS"
NO_MONEY_MOVED = "预授权/查询 NO MONEY MOVED"
NET = "净额 NET"
NO_TRANSACTIONS = "无交易 NO TRANSACTIONS"

CARD_CHANNELS = {
    "unionpay": "银联卡 UNIONPAY CARD",
}
WALLETS = {
    "alipay": "支付宝 ALIPAY",
    "wechat": "微信支付 WECHAT PAY",
    "unionpay": "云闪付 UNIONPAY APP",
    "mpm": "商户码收款 MERCHANT CODE",   # a merchant-presented code: the terminal never learns the wallet
}

# --- the merchant-presented code on paper --------------------------------------
PAYMENT_CODE_TITLE = ("请扫码付款", "SCAN TO PAY")
BILL_NO = "订单号 BILL NO."
SCAN_WITH = "支付宝/微信/云闪付扫码 ALIPAY, WECHAT PAY OR UNIONPAY APP"


def channel(name: str, wallet: bool) -> str:
    """A report's channel: the wallet, or the card scheme (a UnionPay card is not the UnionPay app)."""
    if wallet:
        return WALLETS.get(name, name.upper())
    return CARD_CHANNELS.get(name) or scheme(name)
