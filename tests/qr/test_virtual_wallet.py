"""The virtual wallet: codes in each wallet's shape, stamped with their issue time, reproducible by seed."""
from pathlib import Path

import cv2
import pytest

from acquirer.protocol.tlv import as_dict, parse
from acquirer.protocol.wallet_codes import read_code
from acquirer.protocol.wallets import load_wallets
from drivers.camera import make_decoder
from drivers.sim.contactless import AtcStore, CardFileError
from drivers.sim.video import VideoError
from drivers.sim.wallet import CODE_KINDS, CODE_TTL_S, IssuedCode, VirtualWallet, WalletError, write_wallet_code
from pos.core.payment import CardData, WalletCode
from pos.sources.qr import classify_payload

NOW = 1_750_000_000.0
CARDS_FILE = Path(__file__).parents[2] / "config" / "cards.toml"
WALLETS_FILE = Path(__file__).parents[2] / "config" / "wallets.toml"
KEYS = load_wallets(WALLETS_FILE).keys


def wallet(tmp_path: Path, seed: int = 1, **options: object) -> VirtualWallet:
    return VirtualWallet(seed=seed, clock=lambda: NOW, cards_file=CARDS_FILE, wallets_file=WALLETS_FILE,
                         state_dir=tmp_path, **options)


@pytest.mark.parametrize("kind", ["alipay", "wechat", "unionpay"])
def test_payment_codes_classify_as_their_wallet(kind: str) -> None:
    phone = VirtualWallet(seed=11, clock=lambda: NOW, wallets_file=WALLETS_FILE)
    for _ in range(200):
        code = phone.issue(kind)
        assert classify_payload(code.payload) == WalletCode(kind, code.payload)


def test_codes_carry_issue_time_account_and_expiry(tmp_path: Path) -> None:
    issued: list[IssuedCode] = []
    phone = wallet(tmp_path, on_issue=issued.append)
    codes = [phone.issue(kind) for kind in CODE_KINDS]
    assert issued == codes
    assert all(c.issued_at == NOW and c.expires_at == NOW + CODE_TTL_S == NOW + 60 for c in codes)
    assert [c.account for c in codes] == ["alipay-alice", "wechat-bob", "unionpay-carol", "unionpay-debit"]
    assert isinstance(classify_payload(codes[-1].payload), CardData)
    # what the digits say, as the wallet back end reads them with the same keys
    contents = [read_code(c.payload, KEYS) for c in codes[:3]]
    assert [(c.kind, c.account, c.issued_at(NOW + 30)) for c in contents] == [
        ("alipay", 1, NOW), ("wechat", 1, NOW), ("unionpay", 1, NOW)]


def test_a_named_account_pays_from_its_own_wallet_only(tmp_path: Path) -> None:
    phone = wallet(tmp_path, account="wechat-always")
    assert read_code(phone.issue("wechat").payload, KEYS).account == 2
    with pytest.raises(WalletError, match="wechat-always is a wechat account: it shows no alipay code"):
        phone.issue("alipay")
    with pytest.raises(WalletError, match="no account named 'nobody'"):
        wallet(tmp_path, account="nobody").issue("alipay")
    with pytest.raises(WalletError, match="needs the wallets file"):
        VirtualWallet().issue("alipay")


def test_same_seed_and_state_same_codes(tmp_path: Path) -> None:
    first = [wallet(tmp_path / "a", seed=5).issue(k).payload for k in CODE_KINDS]
    again = [wallet(tmp_path / "b", seed=5).issue(k).payload for k in CODE_KINDS]
    assert first == again


def test_cpm_atc_continues_the_cards_counter_across_wallets(tmp_path: Path) -> None:
    store = AtcStore(tmp_path)
    for _ in range(3):
        store.next("unionpay-debit")            # the contactless virtual card tapped three times
    atcs = []
    for seed in (1, 1):                          # two runs of the wallet, same seed
        payload = wallet(tmp_path, seed=seed).issue("cpm").payload
        atcs.append(int.from_bytes(as_dict(parse(classify_payload(payload).icc_data))["9F36"], "big"))
    assert atcs == [4, 5] and store.current("unionpay-debit") == 5


@pytest.mark.parametrize(("args", "match"), [
    (("bitcoin",), "unknown code kind 'bitcoin'"),
])
def test_unknown_kind(args: tuple, match: str) -> None:
    with pytest.raises(WalletError, match=match):
        VirtualWallet().issue(*args)


def test_unknown_card_missing_card_file(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match="no card named nobody"):
        wallet(tmp_path).cpm_code(["nobody"])
    with pytest.raises(WalletError, match="needs the card file"):
        VirtualWallet().cpm_code()
    with pytest.raises(CardFileError, match=r"missing\.toml: \(file\): file not found"):
        VirtualWallet(cards_file=tmp_path / "missing.toml", state_dir=tmp_path).cpm_code()


@pytest.mark.parametrize("kind", CODE_KINDS)
def test_write_png_holds_the_issued_code(tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.png"
    code = write_wallet_code(kind, out, seed=2, cards_file=CARDS_FILE, wallets_file=WALLETS_FILE, state_dir=tmp_path)
    assert make_decoder("zxing-cpp").decode(cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)) == [code.payload]


def test_write_video_is_reproducible(tmp_path: Path) -> None:
    a = write_wallet_code("wechat", tmp_path / "a.avi", seed=4, wallets_file=WALLETS_FILE, clock=lambda: NOW)
    b = write_wallet_code("wechat", tmp_path / "b.avi", seed=4, wallets_file=WALLETS_FILE, clock=lambda: NOW)
    assert a.payload == b.payload
    assert (tmp_path / "a.avi").read_bytes() == (tmp_path / "b.avi").read_bytes()
    capture = cv2.VideoCapture(str(tmp_path / "a.avi"))
    assert capture.get(cv2.CAP_PROP_FOURCC) == cv2.VideoWriter_fourcc(*"MJPG")
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    capture.release()


def test_write_refuses_other_formats_and_unwritable_places(tmp_path: Path) -> None:
    with pytest.raises(WalletError, match=r"must end in \.png"):
        write_wallet_code("alipay", tmp_path / "code.gif")
    with pytest.raises(WalletError, match="cannot write image"):
        write_wallet_code("alipay", tmp_path / "no-such-dir" / "code.png", wallets_file=WALLETS_FILE)
    with pytest.raises(VideoError, match="cannot write video"):
        write_wallet_code("alipay", tmp_path / "no-such-dir" / "code.avi", wallets_file=WALLETS_FILE)
