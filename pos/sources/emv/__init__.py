"""The EMV contactless kernel: tap -> online request with field 55 -> outcome after the host.

    kernel = ContactlessKernel(load_terminal_emv(config_dir / EMV_FILE))
    result = kernel.run(card, request)          # card: anything with exchange(apdu) -> bytes
    if result.outcome.kind is OutcomeKind.ONLINE_REQUEST:
        ... authorise result.card (CardData, icc_data = field 55) ...
        final = complete_online(result.card, field39, reply_field55)
"""
from pos.sources.emv.kernel import ApduTransport, ContactlessKernel
from pos.sources.emv.online import HostResult, IssuerAuthentication, complete_online
from pos.sources.emv.outcome import KernelResult, Outcome, OutcomeKind, outcome_for_card_error
from pos.sources.emv.params import EMV_FILE, AidParams, EmvConfigError, TerminalEmvConfig, load_terminal_emv

__all__ = [
    "EMV_FILE", "AidParams", "ApduTransport", "ContactlessKernel", "EmvConfigError", "HostResult",
    "IssuerAuthentication", "KernelResult", "Outcome", "OutcomeKind", "TerminalEmvConfig",
    "complete_online", "load_terminal_emv", "outcome_for_card_error",
]
