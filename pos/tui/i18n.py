"""The checkout screen's words in English and Chinese.

One table, one lookup: every label the TUI shows is a key here with its
English and its Chinese text, so switching language (F9) is a re-render with
the other column and a missing translation is a KeyError in the tests, not an
English word left on a Chinese screen. Engine texts that already come in both
languages (a decline's reason) are shown as the engine gives them.
"""
from __future__ import annotations

from acquirer.protocol.errors import TillkitError
from pos import messages

LANGUAGES = ("en", "zh")

TEXTS: dict[str, tuple[str, str]] = {
    # status bar
    "host": ("Host", "主机"),
    "reader": ("Reader", "读卡器"),
    "camera": ("Camera", "扫码"),
    "printer": ("Printer", "打印机"),
    "batch": ("Batch", "批次"),
    "operator": ("Op", "操作员"),
    "host.offline": ("offline", "未签到"),
    "host.signing_on": ("signing on", "签到中"),
    "host.online": ("online", "在线"),
    "host.down": ("down", "不可达"),
    "host.reversal": ("reversal due", "待冲正"),
    "device.ok": ("ok", "正常"),
    "device.sim": ("sim", "模拟"),
    "device.none": ("none", "无"),
    "device.fault": ("fault", "故障"),
    # sign-on
    "signon.title": ("Operator sign-on", "操作员签到"),
    "signon.operator": ("Operator number", "操作员号"),
    "signon.password": ("Password", "密码"),
    "signon.submit": ("Sign on", "签到"),
    "signon.hint": ("Test operators: {hint}", "测试操作员：{hint}"),
    "signon.wrong": ("Wrong operator number or password.", "操作员号或密码错误。"),
    "signon.opening": ("Opening the terminal…", "正在启动终端…"),
    "signon.busy": ("Signing on to the host…", "正在向主机签到…"),
    # amount entry
    "amount.title": ("Sale", "消费"),
    "amount.hint": ("Type the amount, Enter to charge. F6 simulator.", "输入金额，按回车收款。F6 模拟器。"),
    "amount.charge": ("Charge ↵", "收款 ↵"),
    "amount.too_big": ("Over this terminal's maximum of {max}.", "超过本终端上限 {max}。"),
    "amount.zero": ("Type an amount first.", "请先输入金额。"),
    "amount.last": ("Last: {what}", "上一笔：{what}"),
    # payment
    "pay.present": ("Tap, insert or show your code", "请挥卡、插卡或出示付款码"),
    "pay.original_card": ("Present the original's card {card}", "请出示原交易卡 {card}"),
    "pay.armed": ("Waiting on: {sources}", "等待：{sources}"),
    "pay.simulator": ("F6: choose a test card, phone, band or wallet code",
                      "F6：选择测试卡、手机、手环或付款码"),
    "pay.cancel": ("Esc: cancel", "Esc：取消"),
    "pay.card_read": ("Card {card} read ({source})", "已读卡 {card}（{source}）"),
    "pay.code_read": ("{wallet} {code} read", "已扫码 {wallet} {code}"),
    "pay.confirming": ("The customer confirms on the phone ({wallet}); waiting up to {seconds} s…",
                       "顾客正在手机上确认（{wallet}），最多等待 {seconds} 秒…"),
    "pay.authorizing": ("Authorizing… trace {stan}", "授权中… 流水号 {stan}"),
    "pay.preparing": ("Contacting the host…", "正在连接主机…"),
    "pay.approved": ("APPROVED", "交易成功"),
    "pay.declined": ("DECLINED", "交易失败"),
    "pay.not_approved": ("NOT APPROVED", "交易未成功"),
    "pay.refused": ("NOT SENT", "交易未发送"),
    "pay.not_read": ("CARD NOT READ", "读卡未成功"),
    "pay.not_read_keys": ("Nothing was sent. Enter, then Enter again to charge once more.",
                          "未发送任何交易。按回车返回，再按回车重新收款。"),
    "pay.cancelled": ("Cancelled: nothing was sent.", "已取消：未发送任何交易。"),
    "pay.reversed": ("No answer from the host: reversed, no money taken.", "主机无应答：已冲正，未扣款。"),
    "pay.reversal_due": ("No answer from the host: a reversal is due and is sent before the next "
                         "transaction.", "主机无应答：待冲正，下一笔交易前自动发送。"),
    "pay.unknown": ("No answer from the host: outcome unknown. Check with the acquirer before trying again.",
                    "主机无应答：结果未知。请先与收单机构核实再重试。"),
    "pay.done_keys": ("Enter: done   R: receipt   P: print again", "回车：完成   R：签购单   P：重打"),
    "pay.retry_keys": ("Enter: back", "回车：返回"),
    "pay.pin_title": ("The card asks for its PIN", "请输入持卡人密码"),
    "pay.pin_for": ("Card {card}: enter the PIN, then Enter (Esc: cancel)", "卡 {card}：请输入密码后按回车（Esc：取消）"),
    # an error's kind, as the result's headline (docs/errors.md)
    "kind.refused": ("NOT SENT", "交易未发送"),
    "kind.declined": ("DECLINED", "交易失败"),
    "kind.no_answer": ("NO ANSWER", "主机无应答"),
    "kind.terminal": ("NOT SENT", "交易未发送"),
    "kind.busy": ("TERMINAL BUSY", "终端忙"),
    "kind.cancelled": ("CANCELLED", "已取消"),
    "pay.balance": ("Available balance {amount}", "可用余额 {amount}"),
    "field.trace": ("Trace", "流水号"),
    "field.rrn": ("RRN", "参考号"),
    "field.auth": ("Auth code", "授权码"),
    "field.card": ("Card", "卡号"),
    "field.wallet": ("Wallet", "钱包"),
    "field.amount": ("Amount", "金额"),
    "field.type": ("Type", "类型"),
    "field.state": ("State", "状态"),
    "field.time": ("Time", "时间"),
    "field.batch": ("Batch", "批次"),
    "field.code": ("Code", "应答码"),
    # transaction kinds and states
    "kind.sale": ("Sale", "消费"),
    "kind.void": ("Void", "撤销"),
    "kind.refund": ("Refund", "退货"),
    "kind.preauth": ("Pre-auth", "预授权"),
    "kind.completion": ("Completion", "预授权完成"),
    "kind.preauth_void": ("Pre-auth void", "预授权撤销"),
    "kind.completion_void": ("Completion void", "完成撤销"),
    "kind.balance": ("Balance", "余额查询"),
    "kind.wallet_sale": ("Wallet sale", "扫码消费"),
    "kind.mpm_sale": ("Code sale", "主扫消费"),
    "kind.wallet_query": ("Wallet query", "订单查询"),
    "kind.wallet_void": ("Wallet void", "扫码撤销"),
    "kind.wallet_refund": ("Wallet refund", "扫码退货"),
    "state.pending": ("pending", "处理中"),
    "state.approved": ("approved", "成功"),
    "state.declined": ("declined", "拒绝"),
    "state.reversal_due": ("reversal due", "待冲正"),
    "state.reversed": ("reversed", "已冲正"),
    "state.voided": ("voided", "已撤销"),
    "state.completed": ("completed", "已完成"),
    "state.unknown": ("unknown", "未知"),
    "state.not_sent": ("not sent", "未发送"),
    # receipt
    "receipt.title": ("Receipt of trace {stan}", "签购单 流水号 {stan}"),
    "receipt.none": ("Nothing printed for this transaction yet.", "该交易尚未打印。"),
    "receipt.no_printer": ("No printer is attached to this terminal.", "本终端未连接打印机。"),
    "receipt.keys": ("P: print again   Esc: back", "P：重打   Esc：返回"),
    "receipt.printed": ("Receipt of trace {stan} printed.", "流水号 {stan} 的签购单已打印。"),
    # history
    "history.title": ("History", "交易记录"),
    "history.search": ("Search trace, RRN, card, amount", "搜索流水号、参考号、卡号、金额"),
    "history.all_types": ("All types", "全部类型"),
    "history.all_states": ("All states", "全部状态"),
    "history.keys": ("V: void   F: refund   R: receipt   Esc: back", "V：撤销   F：退货   R：签购单   Esc：返回"),
    "history.empty": ("No transactions.", "没有交易记录。"),
    "history.none_selected": ("Select a transaction first.", "请先选择一笔交易。"),
    "history.not_voidable": ("Trace {stan} cannot be voided: only an approved sale of the open batch.",
                             "流水号 {stan} 不能撤销：只能撤销本批次已成功的消费。"),
    "history.not_refundable": ("Trace {stan} cannot be refunded: only an approved sale.",
                               "流水号 {stan} 不能退货：只能对成功的消费退货。"),
    # supervisor
    "pin.title": ("Supervisor PIN", "主管密码"),
    "pin.for": ("Needed to {what} trace {stan}", "{what}流水号 {stan} 需要主管密码"),
    "pin.wrong": ("Wrong supervisor PIN: refused.", "主管密码错误：已拒绝。"),
    "pin.ok": ("OK ↵", "确定 ↵"),
    "refund.title": ("Refund amount", "退货金额"),
    "refund.of": ("Of {amount} (RRN {rrn})", "原交易 {amount}（参考号 {rrn}）"),
    "refund.too_big": ("At most {max}.", "最多 {max}。"),
    # settlement
    "settle.title": ("Settlement", "结算"),
    "settle.debits": ("Sales", "借记（消费）"),
    "settle.credits": ("Refunds", "贷记（退货）"),
    "settle.domestic": ("Domestic cards", "内卡"),
    "settle.foreign": ("Foreign cards", "外卡"),
    "settle.keys": ("Enter: settle the batch   Esc: back", "回车：结算本批次   Esc：返回"),
    "settle.running": ("Settling with the host…", "正在与主机结算…"),
    "settle.uploading": ("Out of balance with the host: uploading {count} transactions…",
                         "与主机对账不平：正在上送 {count} 笔交易…"),
    "settle.balanced": ("Batch {batch} settled: balanced.", "批次 {batch} 结算完成：对账平。"),
    "settle.unbalanced": ("Batch {batch} settled: out of balance, {uploaded} transactions uploaded; "
                          "closed on the host's figures.",
                          "批次 {batch} 结算完成：对账不平，已上送 {uploaded} 笔，按主机数据结账。"),
    "settle.closed_on": ("Closed on: sales {debit} ({debits}), refunds {credit} ({credits})",
                         "结账数据：消费 {debit}（{debits} 笔），退货 {credit}（{credits} 笔）"),
    "settle.next": ("Next batch {batch}", "下一批次 {batch}"),
    "settle.count": ("{count} txn", "{count} 笔"),
    # reconciliation (pos reconcile at the till)
    "recon.title": ("Reconciliation", "对账"),
    "recon.fetching": ("Fetching the acquirer's statement…", "正在获取收单机构对账单…"),
    "recon.failed": ("Cannot reconcile: {detail}. Press F7 to try again.", "无法对账：{detail}。按 F7 重试。"),
    "recon.all_matched": ("every line matched", "全部相符"),
    "recon.exceptions": ("{count} exception(s)", "{count} 笔差错"),
    "recon.channel": ("Channel", "渠道"),
    "recon.card": ("card", "卡"),
    "recon.wallet": ("wallet", "钱包"),
    "recon.gross": ("Gross", "交易额"),
    "recon.fees": ("Fees", "手续费"),
    "recon.net": ("Net", "净额"),
    "recon.totals": ("Gross {gross}  fees {fees}  net {net}", "交易额 {gross}  手续费 {fees}  净额 {net}"),
    "recon.payout": ("payout {date}: {amount}", "{date} 入账 {amount}"),
    "recon.more": ("… {count} more: pos reconcile lists them all", "… 另有 {count} 笔：pos reconcile 列出全部"),
    "recon.cat.matched": ("matched", "相符"),
    "recon.cat.amount_differs": ("amount differs", "金额不符"),
    "recon.cat.terminal_only": ("terminal only", "仅终端有"),
    "recon.cat.acquirer_only": ("acquirer only", "仅收单有"),
    "recon.cat.voided_but_cleared": ("voided but cleared", "已撤销仍清算"),
    "recon.cat.refunded_or_charged_back": ("refunded/charged back", "退款或拒付"),
    "recon.cat.fee_differs": ("fee differs", "手续费不符"),
    "recon.cat.cleared_on_another_day": ("other day", "他日清算"),
    # settings
    "settings.title": ("Settings (read-only)", "设置（只读）"),
    "settings.config": ("Configuration directory", "配置目录"),
    "settings.state": ("State directory", "数据目录"),
    "settings.tid": ("Terminal ID (41)", "终端号 (41)"),
    "settings.mid": ("Merchant ID (42)", "商户号 (42)"),
    "settings.operator_now": ("Operator signed on", "当前操作员"),
    "settings.mac": ("MAC algorithm", "MAC 算法"),
    "settings.currency": ("Currency", "币种"),
    "settings.max": ("Maximum amount", "单笔上限"),
    "settings.host": ("Host", "主机地址"),
    "settings.timeout": ("Host timeout", "主机超时"),
    "settings.tmk": ("Terminal master key", "终端主密钥"),
    "settings.devices": ("Devices", "设备"),
    "settings.language": ("Language", "语言"),
    # simulator
    "sim.title": ("Simulator: what does the customer present?", "模拟器：顾客出示什么？"),
    "sim.cards": ("Cards (tap on the reader)", "银行卡（挥卡）"),
    "sim.devices": ("Phones and bands (tap on the reader)", "手机与手环（挥卡）"),
    "sim.codes": ("Payment codes (shown to the camera)", "付款码（出示给扫码器）"),
    "sim.trouble": ("Taps that go wrong", "异常挥卡"),
    "trouble.pulled-away": ("Card pulled away too soon", "卡片过早移开"),
    "trouble.two-cards": ("Two cards at once", "同时出示两张卡"),
    "trouble.declining": ("Card refuses to go online", "卡片拒绝联机"),
    "trouble.locked-phone": ("Phone still locked", "手机未解锁"),
    "sim.presented": ("Presented: {what}", "已出示：{what}"),
    "sim.not_waiting": ("No payment is waiting: type an amount and press Enter first.",
                        "当前没有等待付款的交易：请先输入金额并按回车。"),
    "sim.none": ("This terminal runs on real devices: there is nothing to simulate.",
                 "本终端使用真实设备：无可模拟内容。"),
    "wallet.alipay": ("Alipay", "支付宝"),
    "wallet.wechat": ("WeChat Pay", "微信支付"),
    "wallet.unionpay": ("UnionPay app", "云闪付"),
    "code.alipay": ("Alipay payment code", "支付宝付款码"),
    "code.wechat": ("WeChat Pay payment code", "微信付款码"),
    "code.unionpay": ("UnionPay app payment code", "云闪付付款码"),
    "code.cpm": ("EMVCo QR (UnionPay debit)", "EMVCo 二维码（银联借记卡）"),
    # notices: what happened, and what to do
    "notice.host_down": ("Host unreachable: {detail}. Nothing was charged. Check the network, then press "
                         "F10 to sign on again.",
                         "主机不可达：{detail}。未扣款。请检查网络，然后按 F10 重新签到。"),
    "notice.signon_failed": ("Sign-on failed: {detail}. Press F10 to try again.",
                             "签到失败：{detail}。按 F10 重试。"),
    "notice.reversal_outstanding": ("A reversal is not acknowledged yet: {detail}. Check the host link; "
                                    "press F10 to sign on and send it again.",
                                    "冲正尚未确认：{detail}。请检查主机连接，按 F10 重新签到并重发。"),
    "notice.reversal_pending": ("Reversal of trace {stan} pending ({detail}): it is sent before the next "
                                "transaction.", "流水号 {stan} 待冲正（{detail}）：下一笔交易前自动发送。"),
    "notice.reader": ("Card reader problem: {detail}. Check the reader's cable, then Enter and Enter again "
                      "to charge once more.", "读卡器故障：{detail}。请检查读卡器连接，然后按回车，再按回车重新收款。"),
    "notice.camera": ("Code scanner problem: {detail}. Check the camera, then try again.",
                      "扫码器故障：{detail}。请检查摄像头后重试。"),
    "notice.printer": ("Printer problem: {detail}. The transaction stands; fix the printer, then press P to "
                       "print again.", "打印机故障：{detail}。交易有效；请处理打印机后按 P 重打。"),
    "notice.paper_low": ("Printer paper is running low: load a new roll soon.", "打印纸即将用完：请尽快换纸。"),
    "notice.source_failed": ("{source} stopped waiting: {detail}. The others still wait; to use it again, "
                             "Esc and charge again.", "{source}已停止等待：{detail}。其他方式仍在等待；如需再次使用，"
                             "请按 Esc 后重新收款。"),
    "notice.refused": ("{detail}", "{detail}"),
    "notice.busy": ("A transaction is still running: wait for its result.", "交易进行中：请等待结果。"),
    "notice.not_signed_on": ("Sign on first (F10).", "请先签到（F10）。"),
    "notice.settle_failed": ("Settlement failed: {detail}. The batch stays open: press Enter to settle again.",
                             "结算失败：{detail}。批次未关闭：按回车重新结算。"),
    # --- the payment screen's other transactions, the merchant-presented code, notices (issue 11) ---
    "pay.scan_code": ("Scan with Alipay, WeChat Pay or the UnionPay app", "请用支付宝、微信或云闪付扫码付款"),
    "pay.code_bill": ("Order {bill}", "订单号 {bill}"),
    "pay.code_timeout": ("Cancelled if not paid within {seconds} s", "{seconds} 秒内未付款将自动取消"),
    "pay.code_keys": ("Esc: cancel (the order is reversed)", "Esc：取消（订单将被冲正）"),
    "pay.code_too_big": ("The payment code is too big for this screen: Esc, and take the payment another way.",
                         "收款码超出屏幕尺寸：请按 Esc 取消，改用其他方式收款。"),
    "trace.title": ("Pre-auth to complete", "要完成的预授权"),
    "trace.for": ("Trace number of the pre-auth (completing {amount})", "预授权流水号（完成金额 {amount}）"),
    "sim.pay_title": ("Simulator: the customer scans the code with…", "模拟器：顾客用以下应用扫码…"),
    "sim.pay_with": ("Pay with the {wallet} app", "用{wallet}付款"),
    "sim.pay_failed": ("The wallet app could not pay: {detail}. Press F6 to try again or Esc to cancel.",
                       "钱包应用无法付款：{detail}。按 F6 重试，或按 Esc 取消。"),
    "sim.pay_declined": ("{wallet} refused to pay ({detail}). The code stays on screen: F6 to pay again, "
                         "Esc to cancel.", "{wallet}拒绝付款（{detail}）。收款码仍在屏幕上：按 F6 重新付款，按 Esc 取消。"),
    "key.mpm": ("Show code", "收款码"),
    "key.preauth": ("Pre-auth", "预授权"),
    "key.completion": ("Completion", "预授权完成"),
    "key.balance": ("Balance", "余额"),
    "key.retry": ("Try again", "重试"),
    "pay.done_only": ("Enter: done", "回车：完成"),
    "notice.terminal_closed": ("The terminal could not open: {detail}. Fix this, then quit (Ctrl+Q) and start "
                               "pos again.", "终端无法启动：{detail}。请排除问题后退出（Ctrl+Q）并重新启动 pos。"),
    # bindings
    "key.quit": ("Quit", "退出"),
    "key.history": ("History", "记录"),
    "key.settle": ("Settle", "结算"),
    "key.settings": ("Settings", "设置"),
    "key.receipt": ("Receipt", "签购单"),
    "key.simulator": ("Simulator", "模拟器"),
    "key.language": ("中文", "English"),
    "key.signon": ("Sign on", "签到"),
    "key.back": ("Back", "返回"),
    "key.done": ("Done", "完成"),
    "key.cancel": ("Cancel", "取消"),
    "key.void": ("Void", "撤销"),
    "key.search": ("Search", "搜索"),
    "key.refund": ("Refund", "退货"),
    "key.print": ("Print again", "重打"),
}


#: what a contactless card outcome tells the cardholder (EMV Contactless Book A messages), in Chinese
CARD_PROMPTS_ZH = {
    "Present card again": "请重新挥卡",
    "Please present one card only": "请只出示一张卡",
    "Not authorised": "交易未授权",
    "See phone for instructions": "请查看手机提示",
    "Insert, swipe or try another card": "请插卡、刷卡或换一张卡",
    "Please insert or swipe card": "请插卡或刷卡",
}


def card_prompt(language: str, prompt: str) -> str:
    """A card outcome's message in `language` (the English message when no translation is known)."""
    return CARD_PROMPTS_ZH.get(prompt, prompt) if language == "zh" else prompt


def error_text(language: str, error: TillkitError) -> str:
    """An engine error in `language`, from its message key (`pos.messages`)."""
    return messages.error_text(language, error)


def translate(language: str, key: str, **values: object) -> str:
    """The text of `key` in `language` ("en" or "zh"), with `{name}` fields filled from `values`."""
    en, zh = TEXTS[key]
    text = zh if language == "zh" else en
    return text.format(**values) if values else text
