"""A terminal may be limited to some transaction types (`transactions` in its config): others get 58."""
import pytest

from acquirer.protocol.transactions import TxnType
from tests.acquirer.conftest import make_config, start_host

RESTRICTED = """
[[terminal]]
tid = "10000003"
mid = "898310048990001"
tmk = "0123456789ABCDEFFEDCBA9876543210"   # TEST KEY
mac = "ecb"
transactions = ["sale", "void", "balance"]
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("permissions")
    running = start_host(make_config(workdir / "config", acquirer_extra=RESTRICTED), workdir)
    yield running
    running.stop()


def test_transactions_not_permitted_to_the_terminal_get_58(host):
    t = host.terminal("10000003")
    card = host.card("unionpay-credit")
    before = host.available(card)
    assert t.sale(card, 100)["39"] == "00"
    assert t.financial(TxnType.PREAUTH, card, 100)["39"] == "58"
    assert t.financial(TxnType.BALANCE, card, None)["39"] == "00"
    assert host.available(card) == before - 100
    # the same card and type on an unrestricted terminal
    assert host.terminal("10000001").financial(TxnType.PREAUTH, card, 100)["39"] == "00"
