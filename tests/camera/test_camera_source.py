"""The camera as the engine's payment source: classify scanned codes, skip refused ones, cancel cleanly."""
import asyncio
import threading
from pathlib import Path

import cv2
import pytest

from acquirer.protocol.mpm import build_dynamic_mpm
from drivers.camera import CameraNotFound, ScanTimeout, SourceEnded
from drivers.sim.wallet import code_image
from pos.core.payment import CardData, PaymentRequest, WalletCode
from pos.sources.qr import MerchantCodeScanned, QrPayloadError, UnknownPayload
from pos.sources.qr.source import CameraSource
from tests.camera.conftest import Media

REQUEST = PaymentRequest("sale", 1234)


def read(source: CameraSource) -> CardData | WalletCode:
    return asyncio.run(source.read(REQUEST))


def scan_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("qr-scan")]


def test_cpm_video_gives_chip_like_card_data(media: Media) -> None:
    card = read(CameraSource(media.video("cpm")))
    assert isinstance(card, CardData)
    assert (card.source, card.entry_mode, card.scheme) == ("qr-cpm", "03", "unionpay")
    assert card.icc_data


@pytest.mark.parametrize("kind", ["alipay", "wechat", "unionpay"])
def test_wallet_code_video_gives_the_wallet_code(media: Media, kind: str) -> None:
    assert read(CameraSource(media.video(kind), backend="pyzbar")) == WalletCode(kind, media.code(kind).payload)


def test_refused_codes_are_reported_and_the_scan_goes_on(media: Media, tmp_path: Path) -> None:
    shop = build_dynamic_mpm(amount_fen=1234, merchant_id="898310048990001", terminal_id="10000001",
                             merchant_name="Tiantian", merchant_city="Shanghai", mcc="5411", bill_number="B1")
    cv2.imwrite(str(tmp_path / "a.png"), code_image(shop))
    cv2.imwrite(str(tmp_path / "b.png"), code_image("https://example.com/menu"))
    media.image("wechat", tmp_path, "c.png")
    refused: list[QrPayloadError] = []
    result = read(CameraSource(tmp_path, on_refused=refused.append))
    assert result == WalletCode("wechat", media.code("wechat").payload)
    assert [type(r) for r in refused] == [MerchantCodeScanned, UnknownPayload]
    assert "shop's payment code" in refused[0].message


def test_only_refused_codes_end_with_the_source(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), code_image("6901234567892"))
    with pytest.raises(SourceEnded):
        read(CameraSource(tmp_path))


def test_cancel_releases_the_camera(media: Media) -> None:
    async def armed_then_cancelled() -> None:
        task = asyncio.create_task(CameraSource(media.blank_video(), loop=True, timeout_s=None).read(REQUEST))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(armed_then_cancelled())
    assert scan_threads() == []


def test_timeout_and_missing_camera_are_typed(media: Media) -> None:
    with pytest.raises(ScanTimeout):
        read(CameraSource(media.blank_video(), loop=True, timeout_s=0.2))
    with pytest.raises(CameraNotFound):
        read(CameraSource("/dev/video-does-not-exist"))
    assert scan_threads() == []
