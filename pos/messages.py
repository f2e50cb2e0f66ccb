"""The words of every error's message key, in English and Chinese, for every face.

The engine and the layers under it raise `TillkitError`s that carry a message
key and display-safe data, never a screen text. A face words them here, in
the cashier's language: `error_text("zh", error)`. `{detail}` is always
available (the error's English sentence), so a key whose facts are only in
that sentence still reads whole. tests/pos/test_errors.py checks that every
key the code raises has both words and that the data fills them.
"""
from __future__ import annotations

from acquirer.protocol.errors import TillkitError

ERROR_TEXTS: dict[str, tuple[str, str]] = {
    # the engine
    "engine.refused": ("{detail}", "{detail}"),
    "engine.busy": ("The terminal is busy with a {running}: try again when it has ended.",
                    "终端正在处理{running}交易：请在其结束后再试。"),
    "engine.cancelled": ("Cancelled: nothing was sent.", "已取消：未发送任何交易。"),
    "engine.sign_on_failed": ("Sign-on failed: {detail}", "签到失败：{detail}"),
    "engine.sign_on_no_answer": ("Sign-on: no answer from the host within {timeout_s} s.",
                                 "签到：主机 {timeout_s} 秒内无应答。"),
    "engine.sign_on_connection_lost": ("Sign-on: the connection to the host was lost ({error}).",
                                       "签到：与主机的连接中断（{error}）。"),
    "engine.sign_on_unreadable": ("Sign-on: the host's reply is unreadable ({error}).",
                                  "签到：主机应答无法解析（{error}）。"),
    "engine.sign_on_refused": ("Sign-on refused by the host (response code {response_code}).",
                               "主机拒绝签到（应答码 {response_code}）。"),
    "engine.sign_on_no_keys": ("Sign-on: the host's reply carries no working keys.", "签到：主机应答中没有工作密钥。"),
    "engine.sign_on_bad_keys": ("Sign-on: the working keys failed their check ({error}).",
                                "签到：工作密钥校验失败（{error}）。"),
    "engine.reversal_outstanding": ("The reversal of trace {stan} is not acknowledged after {attempts} attempts: "
                                    "no new transaction until it is.",
                                    "流水号 {stan} 的冲正 {attempts} 次未获确认：确认前不能进行新交易。"),
    "engine.settlement_failed": ("{detail}", "{detail}"),
    "engine.settlement_no_totals": ("The settlement reply carries no totals: the batch stays open, settle again.",
                                    "结算应答中没有总数：批次未关闭，请重新结算。"),
    "engine.settlement_no_answer": ("{step}: no answer from the host; the batch stays open, settle again.",
                                    "{step}：主机无应答；批次未关闭，请重新结算。"),
    "engine.settlement_refused": ("{step} refused by the host (response code {response_code}).",
                                  "主机拒绝{step}（应答码 {response_code}）。"),
    "engine.pin_not_entered": ("The card {card} asks for its PIN and none was entered: nothing was sent.",
                               "卡 {card} 需要密码，未输入密码：未发送任何交易。"),
    "engine.original_not_found": ("{detail}", "{detail}"),
    "engine.no_trace": ("No transaction with trace {trace} in the open batch {batch}.",
                        "当前批次 {batch} 中没有流水号 {trace} 的交易。"),
    "engine.no_rrn": ("No approved sale with reference number {rrn} in this terminal's journal.",
                      "本终端流水中没有参考号 {rrn} 的成功消费。"),
    "engine.no_preauth": ("No approved pre-authorization with trace {trace}.", "没有流水号 {trace} 的成功预授权。"),
    "engine.not_voidable": ("Trace {trace} is a {txn_kind}: only sales, completions and pre-auths can be voided.",
                            "流水号 {trace} 是{txn_kind}交易：只有消费、预授权完成和预授权可以撤销。"),
    "engine.not_approved": ("Trace {trace} is {state}: only an approved transaction can be voided.",
                            "流水号 {trace} 状态为 {state}：只有成功的交易可以撤销。"),
    "engine.card_mismatch": ("This card ({card}) is not the card of the original transaction ({original}).",
                             "此卡（{card}）不是原交易的卡（{original}）。"),
    "engine.wallet_code_not_for": ("A payment code pays a sale, not a {txn_kind}: present the card.",
                                   "付款码只能用于消费，不能用于{txn_kind}：请出示银行卡。"),
    "engine.no_payment_source": ("No card reader or scanner to read a payment from.", "没有可用的读卡器或扫码器。"),
    "engine.card_not_read": ("{prompt} ({reason}); nothing was sent.", "读卡未成功：{prompt}（{reason}）；未发送任何交易。"),
    # the layers under the engine
    "link.failed": ("Host link: {detail}", "主机链路：{detail}"),
    "link.host_unavailable": ("Host unreachable: {detail}", "主机不可达：{detail}"),
    "link.connection_lost": ("The connection to the host was lost: {detail}", "与主机的连接中断：{detail}"),
    "receipt.not_found": ("{detail}", "{detail}"),
    "operator.refused": ("{detail}", "{detail}"),
    "qr.refused": ("{detail}", "{detail}"),
    "manual.invalid": ("Card number or expiry refused: {detail}", "卡号或有效期不正确：{detail}"),
    "amount.invalid": ("Amount refused: {detail}", "金额不正确：{detail}"),
    "config.invalid": ("Configuration: {detail}", "配置错误：{detail}"),
    "terminal.state_locked": ("Another pos process is using this terminal: {detail}",
                              "另一个 pos 进程正在使用本终端：{detail}"),
    "terminal.state_dir": ("The state directory {directory} is not usable ({reason}): give a writable one "
                           "with --state-dir or [state] dir in pos.toml.",
                           "状态目录 {directory} 不可用（{reason}）：请用 --state-dir 或 pos.toml 的 [state] dir "
                           "指定一个可写的目录。"),
    "terminal.host_binding": ("This terminal is bound to the acquirer {bound}; {requested} is refused while "
                              "batch {batch} is open. Settle first.",
                              "本终端已绑定收单主机 {bound}；批次 {batch} 未结算，不能使用 {requested}。请先结算。"),
    "sim.unknown_card": ("{detail}", "{detail}"),
    "device.failed": ("Device problem: {detail}", "设备故障：{detail}"),
    "device.reader": ("Card reader: {error}", "读卡器：{error}"),
    "device.camera": ("Camera: {error}", "扫码器：{error}"),
    "error.terminal": ("{detail}", "{detail}"),
    "reconcile.failed": ("Cannot reconcile: {detail}", "无法对账：{detail}"),
}


def error_text(language: str, error: TillkitError) -> str:
    """The error's message key in `language` ("en" or "zh"); its English sentence when the key is unknown."""
    words = ERROR_TEXTS.get(error.message_key)
    if words is None:
        return str(error)
    text = words[1] if language == "zh" else words[0]
    try:
        return text.format(detail=str(error), **error.data)
    except (KeyError, IndexError):   # a raise site without the data the words need: its own sentence
        return str(error)
