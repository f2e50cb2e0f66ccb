"""The virtual wallet: codes in each wallet's shape, stamped with their issue time, reproducible by seed."""
import cv2
import pytest

from drivers.camera import make_decoder
from drivers.sim.video import VideoError
from drivers.sim.wallet import CODE_KINDS, CODE_TTL_S, IssuedCode, VirtualWallet, WalletError, write_wallet_code
from pos.payment import CardData, WalletCode
from pos.qr import classify_payload

NOW = 1_750_000_000.0


@pytest.mark.parametrize("kind", ["alipay", "wechat", "unionpay"])
def test_payment_codes_classify_as_their_wallet(kind: str) -> None:
    wallet = VirtualWallet(seed=11, clock=lambda: NOW)
    for _ in range(200):
        code = wallet.issue(kind)
        assert classify_payload(code.payload) == WalletCode(kind, code.payload)


def test_codes_carry_issue_time_account_and_expiry() -> None:
    issued: list[IssuedCode] = []
    wallet = VirtualWallet(seed=1, account="wallet-0042", clock=lambda: NOW, on_issue=issued.append)
    codes = [wallet.issue(kind) for kind in CODE_KINDS]
    assert issued == codes
    assert all(c.issued_at == NOW and c.expires_at == NOW + CODE_TTL_S == NOW + 60 for c in codes)
    assert [c.account for c in codes] == ["wallet-0042"] * 3 + ["unionpay-debit"]
    assert isinstance(classify_payload(codes[-1].payload), CardData)


def test_same_seed_same_codes_and_fresh_cryptogram_per_code() -> None:
    first = [VirtualWallet(seed=5, clock=lambda: NOW).issue(k).payload for k in CODE_KINDS]
    again = [VirtualWallet(seed=5, clock=lambda: NOW).issue(k).payload for k in CODE_KINDS]
    assert first == again
    wallet = VirtualWallet(seed=5, clock=lambda: NOW)
    one, two = wallet.issue("cpm"), wallet.issue("cpm")
    atc = [classify_payload(c.payload).icc_data for c in (one, two)]
    assert one.payload != two.payload and atc[0] != atc[1]


@pytest.mark.parametrize(("args", "match"), [
    (("bitcoin",), "unknown code kind 'bitcoin'"),
])
def test_unknown_kind(args: tuple, match: str) -> None:
    with pytest.raises(WalletError, match=match):
        VirtualWallet().issue(*args)


def test_unknown_card_and_unreadable_card_file(tmp_path) -> None:
    with pytest.raises(WalletError, match="card 'nobody' is not in"):
        VirtualWallet().cpm_code(["nobody"])
    with pytest.raises(WalletError, match="cannot read the card file"):
        VirtualWallet(cards_file=tmp_path / "missing.toml").cpm_code()


@pytest.mark.parametrize("kind", CODE_KINDS)
def test_write_png_holds_the_issued_code(tmp_path, kind: str) -> None:
    out = tmp_path / f"{kind}.png"
    code = write_wallet_code(kind, out, seed=2)
    assert make_decoder("zxing-cpp").decode(cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)) == [code.payload]


def test_write_video_is_reproducible(tmp_path) -> None:
    a = write_wallet_code("wechat", tmp_path / "a.avi", seed=4)
    b = write_wallet_code("wechat", tmp_path / "b.avi", seed=4)
    assert a.payload == b.payload
    assert (tmp_path / "a.avi").read_bytes() == (tmp_path / "b.avi").read_bytes()
    capture = cv2.VideoCapture(str(tmp_path / "a.avi"))
    assert capture.get(cv2.CAP_PROP_FOURCC) == cv2.VideoWriter_fourcc(*"MJPG")
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    capture.release()


def test_write_refuses_other_formats_and_unwritable_places(tmp_path) -> None:
    with pytest.raises(WalletError, match=r"must end in \.png"):
        write_wallet_code("alipay", tmp_path / "code.gif")
    with pytest.raises(WalletError, match="cannot write image"):
        write_wallet_code("alipay", tmp_path / "no-such-dir" / "code.png")
    with pytest.raises(VideoError, match="cannot write video"):
        write_wallet_code("alipay", tmp_path / "no-such-dir" / "code.avi")
