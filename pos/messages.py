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
    # --- amounts as typed (pos/core/amount.py), worded for the command line and the screens ---
    "amount.empty": ("Amount refused: amount is empty: type an amount in yuan such as 12.34",
                     "金额为空：请输入以元为单位的金额，例如 12.34。"),
    "amount.negative": ("Amount refused: amount {amount} is negative: amounts must be greater than zero",
                        "金额 {amount} 为负数：金额必须大于零。"),
    "amount.decimals": ("Amount refused: amount {amount} has more than two decimals: fen is the smallest unit",
                        "金额 {amount} 超过两位小数：最小单位为分。"),
    "amount.not_a_number": ("Amount refused: amount {amount} is not a number: type yuan such as 12.34",
                            "金额 {amount} 不是数字：请输入以元为单位的金额，例如 12.34。"),
    "amount.over_maximum": ("Amount refused: amount {amount} is over this terminal's maximum of {maximum}",
                            "金额 {amount} 超过本终端的上限 {maximum}。"),
    "amount.zero": ("Amount refused: amount {amount} is zero: amounts must be greater than zero",
                    "金额 {amount} 为零：金额必须大于零。"),
    # --- `pos refund --trace` (pos/cli/originals.py) ---
    "refund.bad_trace": ("The trace number must be up to 6 digits, got {trace}.", "流水号必须是 1 到 6 位数字：{trace}。"),
    "refund.no_trace": ("No transaction with trace {trace} in this terminal's journal.",
                        "本终端流水中没有流水号 {trace} 的交易。"),
    "refund.not_refundable": ("Trace {trace} is a {txn_kind} ({state}): only an approved sale, completion or "
                              "wallet sale can be refunded.",
                              "流水号 {trace} 是{txn_kind}交易（{state}）：只有成功的消费、预授权完成或钱包消费可以退货。"),
    "refund.over_original": ("A refund of {amount} is more than the {original} of trace {trace}: nothing was sent.",
                             "退货金额 {amount} 超过流水号 {trace} 的原交易金额 {original}：未发送任何交易。"),
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


# --- the command line's own words (pos/cli), in the till's language ------------------------------
#
# What `pos` prints besides error messages: progress lines (stderr), outcomes,
# settlement, reprint and binding lines, its own refusals. English is what
# `pos` printed before it spoke Chinese, byte for byte (scripts read it);
# values keep their Rich markup escaping at the call site. The language is
# `--lang`, else $TILLKIT_LANG, else pos.toml `[tui] language` -- the till's
# display language, the same setting the checkout screen starts in.

CLI_TEXTS: dict[str, tuple[str, str]] = {
    # progress (engine events)
    "cli.signing_on": ("signing on to the host ({address})…", "正在向主机签到（{address}）…"),
    "cli.signed_on": ("signed on, batch {batch}", "签到成功，批次 {batch}"),
    "cli.host_unreachable": ("[yellow]host {address} unreachable[/] ({error}); retrying in {retry:g} s",
                             "[yellow]主机 {address} 不可达[/]（{error}）；{retry:g} 秒后重试"),
    "cli.waiting": ("{kind}: waiting for payment {what} ({sources})", "{kind}：等待付款 {what}（{sources}）"),
    "cli.card_read": ("card {masked} {label} ({source}, entry mode {entry})",
                      "卡 {masked} {label}（{source}，输入方式 {entry}）"),
    "cli.wallet_code_read": ("{wallet} payment code {masked} ({source}): paying through the wallet channel",
                             "{wallet} 付款码 {masked}（{source}）：通过钱包渠道支付"),
    "cli.source_failed": ("[yellow]{source} stopped[/] ({reason}); still waiting on the others",
                          "[yellow]{source} 已停止[/]（{reason}）；继续等待其他付款方式"),
    "cli.customer_confirming": ("[yellow]customer confirming on the phone[/] ({wallet}, trace {stan}); "
                                "waiting up to {timeout:g} s",
                                "[yellow]顾客正在手机上确认[/]（{wallet}，流水号 {stan}）；最多等待 {timeout:g} 秒"),
    "cli.showing_code": ("show the customer the payment code for {amount} (trace {stan}, bill {bill}); "
                         "waiting up to {timeout:g} s for the payment",
                         "请顾客扫描 {amount} 的收款码（流水号 {stan}，账单号 {bill}）；最多等待 {timeout:g} 秒"),
    "cli.reader_shows": ("reader shows [{colour}]{prompt}[/]", "读卡器显示 [{colour}]{prompt}[/]"),
    "cli.authorizing": ("authorizing {kind}, trace {stan}, batch {batch}…", "正在授权{kind}，流水号 {stan}，批次 {batch}…"),
    "cli.reversal_pending": ("[yellow]reversal pending[/] for {kind} trace {stan} (reason {code}): {reason}",
                             "[yellow]待冲正[/]：{kind} 流水号 {stan}（原因码 {code}）：{reason}"),
    "cli.reversal_sent": ("sending the reversal of trace {stan} (attempt {attempt})…",
                          "正在发送流水号 {stan} 的冲正（第 {attempt} 次）…"),
    "cli.reversed": ("[yellow]reversal of trace {stan} acknowledged: no money taken[/]",
                     "[yellow]流水号 {stan} 冲正成功：未扣款[/]"),
    "cli.settling": ("settling batch {batch}: debits {debit} ({debits}), credits {credit} ({credits})",
                     "正在结算批次 {batch}：借记 {debit}（{debits} 笔），贷记 {credit}（{credits} 笔）"),
    "cli.uploading": ("[yellow]host is out of balance[/]: uploading batch {batch} ({count} transactions)",
                      "[yellow]主机对账不平[/]：正在上送批次 {batch}（{count} 笔）"),
    "cli.printing": ("printing the receipt of trace {stan}…", "正在打印流水号 {stan} 的签购单…"),
    "cli.printed": ("{what} printed", "{what} 已打印"),
    "cli.paper_near_end": ("; [yellow]paper near its end[/]: load a new roll soon", "；[yellow]纸将用完[/]：请尽快换纸"),
    "cli.queued": ("[yellow]{what} not printed[/]: {error}; it stays in the print queue and prints once the "
                   "printer is back", "[yellow]{what} 未打印[/]：{error}；已留在打印队列，打印机恢复后自动打印"),
    # outcomes
    "cli.approved": ("[bold green]APPROVED[/] {kind} {amount} card {card}", "[bold green]交易成功[/] {kind} {amount} 卡 {card}"),
    "cli.approved_refs": ("trace {stan}  batch {batch}  RRN {rrn}  auth code {auth}",
                          "流水号 {stan}  批次 {batch}  参考号 {rrn}  授权码 {auth}"),
    "cli.balance": ("available balance {balance}", "可用余额 {balance}"),
    "cli.declined": ("[bold red]DECLINED[/] {kind} {amount} card {card}: {message}",
                     "[bold red]交易失败[/] {kind} {amount} 卡 {card}：{message}"),
    "cli.refs": ("trace {stan}  batch {batch}", "流水号 {stan}  批次 {batch}"),
    "cli.not_approved": ("[bold yellow]NOT APPROVED[/] {kind} {amount} card {card} ({state}): {message}",
                         "[bold yellow]交易未成功[/] {kind} {amount} 卡 {card}（{state}）：{message}"),
    "cli.chip": ("{label} AID {aid}, entry mode {entry}", "{label} AID {aid}，输入方式 {entry}"),
    "cli.application": ("application", "应用"),
    # commands
    "cli.settled": ("batch {batch} settled ({state}); closed on debits {debit} ({debits}), credits {credit} "
                    "({credits}); next batch {next_batch}",
                    "批次 {batch} 已结算（{state}）；借记 {debit}（{debits} 笔），贷记 {credit}（{credits} 笔）；"
                    "下一批次 {next_batch}"),
    "cli.balanced": ("balanced", "对账平"),
    "cli.out_of_balance": ("out of balance: {uploaded} transactions uploaded", "对账不平：已上送 {uploaded} 笔"),
    "cli.reversals_acknowledged": ("; {count} reversal(s) acknowledged", "；{count} 笔冲正已确认"),
    "cli.no_printer": ('no printer: pos.toml [printer] connection is "none" (`pos reprint --text` writes the '
                       "receipt to the screen)",
                       '没有打印机：pos.toml 的 [printer] connection 为 "none"（`pos reprint --text` 将签购单显示在屏幕上）'),
    "cli.not_reprinted": ("{what} not reprinted: {error}. It stays in the print queue and prints once the printer "
                          "is back (at the next transaction, `pos reprint` or start)",
                          "{what} 未重打：{error}。已留在打印队列，打印机恢复后打印（下一笔交易、`pos reprint` 或启动时）"),
    "cli.reprinted": ("{what} printed", "{what} 已打印"),
    "cli.report_not_printed": ("{kind} report not printed: {error} (it stays in the print queue)",
                               "{kind} 报表未打印：{error}（已留在打印队列）"),
    "cli.no_receipt_yet": ("no transaction with a receipt in the journal yet", "流水中还没有带签购单的交易"),
    "cli.bound": ("terminal {tid} is bound to the acquirer {address}", "终端 {tid} 已绑定收单主机 {address}"),
    "cli.not_test_card": ("the original's card is not a test card: present it with --card NAME or --manual",
                          "原交易的卡不是测试卡：请用 --card 卡名 或 --manual 出示"),
    "cli.demo_needs_sim": ('pos demo taps the test cards on the simulated reader: set [nfc] reader = "sim" '
                           "(this terminal's is {reader})",
                           'pos demo 在模拟读卡器上挥测试卡：请设置 [nfc] reader = "sim"（本终端为 {reader}）'),
    "cli.card_number": ("Card number", "卡号"),
    "cli.expiry": ("Expiry (YYMM)", "有效期（YYMM）"),
    "cli.camera_refused": ("[yellow]camera: {message}[/] ({reason})", "[yellow]扫码器：{message}[/]（{reason}）"),
    "cli.code_written": ("payment code written to {path}", "收款码已写入 {path}"),
    "cli.history_title": ("journal {path}", "流水 {path}"),
    "cli.history_columns": ("trace|batch|type|amount|card|entry|AID|application|cryptogram|code|RRN|auth|state|"
                            "time (UTC)",
                            "流水号|批次|类型|金额|卡号|输入方式|AID|应用|密文|应答码|参考号|授权码|状态|时间 (UTC)"),
    # its own refusals of the options given (usage errors, exit 2)
    "cli.no_tty": ("`pos` with no command opens the checkout screen, which needs a terminal; "
                   "`pos --help` lists the commands",
                   "不带命令的 `pos` 打开收银界面，需要终端；`pos --help` 列出所有命令"),
    "cli.manual_excludes": ("--manual excludes --card and --card-fault", "--manual 不能与 --card、--card-fault 同用"),
    "cli.sim_only": ('--card and --card-fault tap test cards on the simulated reader ([nfc] reader = "sim"); '
                     "this terminal's reader is {reader}: tap a card on it",
                     '--card 和 --card-fault 只在模拟读卡器上挥测试卡（[nfc] reader = "sim"）；本终端读卡器为 {reader}：'
                     "请在其上挥卡"),
    "cli.show_code_excludes": ("--show-code excludes --card, --card-fault, --manual, --pin and --camera",
                               "--show-code 不能与 --card、--card-fault、--manual、--pin、--camera 同用"),
    "cli.code_png_needs": ("--code-png goes with --show-code", "--code-png 需与 --show-code 同用"),
    "cli.manual_no_camera": ("--manual excludes --camera", "--manual 不能与 --camera 同用"),
    "cli.bad_pin": ("{detail}", "密码格式不正确（{detail}）：应为 4 到 12 位数字"),
    "cli.refund_form": ("give RRN AMOUNT, or --trace TRACE AMOUNT", "请给出 参考号 金额，或 --trace 流水号 金额"),
}


def cli_text(language: str, key: str, **values: object) -> str:
    """The command line's words for `key` in `language` ("en" or "zh"), `{name}` fields filled from `values`."""
    en, zh = CLI_TEXTS[key]
    return (zh if language == "zh" else en).format(**values)
