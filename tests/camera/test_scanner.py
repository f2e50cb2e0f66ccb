"""The camera driver end to end on generated media: VideoCapture, decoding, dedupe, cancel, timeout, errors."""
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera import (
    CameraNotFound,
    CameraOpenError,
    CameraScanner,
    DecoderUnavailable,
    NoFrames,
    ScanCancelled,
    ScannedCode,
    ScanTimeout,
    SourceEnded,
    make_decoder,
    to_gray,
)
from tests.camera.conftest import KINDS, Media

BACKENDS = ("zxing-cpp", "pyzbar")


def scan_all(source: object, backend: str = "zxing-cpp", **options: object) -> list[ScannedCode]:
    """Every code until the source ends (SourceEnded is the expected end of a file)."""
    codes = []
    with CameraScanner(source, backend=backend, **options) as scan:  # type: ignore[arg-type]
        with pytest.raises(SourceEnded):
            while True:
                codes.append(scan.next_code())
    return codes


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_video_of_a_presented_code_is_read_once(media: Media, backend: str, kind: str) -> None:
    codes = scan_all(media.video(kind), backend)
    assert [c.payload for c in codes] == [media.code(kind).payload]
    assert codes[0].backend == backend
    assert media.code(kind).payload not in repr(codes[0])     # a CPM payload carries the PAN
    assert codes[0].frame_index >= 4         # the first four frames show no phone


@pytest.mark.parametrize("backend", BACKENDS)
def test_code_seen_on_many_frames_is_reported_once(media: Media, backend: str) -> None:
    path = media.video("wechat")
    decoder = make_decoder(backend)
    capture = cv2.VideoCapture(str(path))
    frames_with_code = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames_with_code += decoder.decode(to_gray(frame)) == [media.code("wechat").payload]
    capture.release()
    assert frames_with_code >= 5
    assert len(scan_all(path, backend)) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_customers_in_one_video_are_two_codes_in_order(media: Media, backend: str) -> None:
    codes = scan_all(media.video("alipay", "cpm"), backend)
    assert [c.payload for c in codes] == [media.code("alipay").payload, media.code("cpm").payload]
    assert codes[0].frame_index < codes[1].frame_index


@pytest.mark.parametrize("backend", BACKENDS)
def test_image_file(media: Media, backend: str) -> None:
    codes = scan_all(media.image("unionpay"), backend)
    assert [(c.payload, c.frame_index) for c in codes] == [(media.code("unionpay").payload, 0)]


def test_folder_is_read_in_name_order(media: Media, tmp_path: Path) -> None:
    media.image("cpm", tmp_path, "b.png")
    media.image("alipay", tmp_path, "a.jpg")
    cv2.imwrite(str(tmp_path / "c.png"), np.full((200, 200), 255, np.uint8))   # nothing on it
    media.image("alipay", tmp_path, "d.png")                                    # same code again
    (tmp_path / "notes.txt").write_text("not an image")
    codes = scan_all(tmp_path)
    assert [(c.payload, c.frame_index) for c in codes] == [
        (media.code("alipay").payload, 0), (media.code("cpm").payload, 1)]


def test_looping_source_replays_but_reports_each_code_once(media: Media) -> None:
    with CameraScanner(media.image("wechat"), loop=True, timeout_s=0.5) as scan:
        assert scan.next_code().payload == media.code("wechat").payload
        with pytest.raises(ScanTimeout, match="within 0.5 s"):
            scan.next_code()


def test_cancel_from_another_thread_ends_the_scan(media: Media) -> None:
    with CameraScanner(media.blank_video(), loop=True, timeout_s=None) as scan:
        threading.Thread(target=scan.cancel).start()
        with pytest.raises(ScanCancelled):
            scan.next_code()
        with pytest.raises(ScanCancelled):      # the ending stays
            scan.next_code()


def test_codes_found_before_a_cancel_are_still_delivered(media: Media) -> None:
    with CameraScanner(media.image("alipay"), loop=True, timeout_s=None) as scan:
        first = scan.next_code()
        scan.cancel()
        with pytest.raises(ScanCancelled):
            scan.next_code()
    assert first.payload == media.code("alipay").payload


def test_timeout_without_a_code(media: Media) -> None:
    with CameraScanner(media.blank_video(), loop=True, timeout_s=0.2) as scan:
        with pytest.raises(ScanTimeout, match="no payment code seen"):
            scan.next_code()


def test_blank_video_ends_without_a_code(media: Media) -> None:
    assert scan_all(media.blank_video()) == []


@pytest.mark.parametrize("source", ["/tmp/no-such-dir/video.avi", "/dev/video-does-not-exist"])
def test_missing_source(source: str) -> None:
    with pytest.raises(CameraNotFound, match="not found"):
        CameraScanner(source)


def test_device_index_that_cannot_be_opened() -> None:
    with pytest.raises(CameraNotFound, match="camera 97 not found or busy"):
        CameraScanner(97)


def test_file_that_is_no_video(tmp_path: Path) -> None:
    bogus = tmp_path / "clip.avi"
    bogus.write_bytes(b"this is not a video" * 10)
    with pytest.raises(CameraOpenError, match="clip.avi"):
        CameraScanner(bogus)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(NoFrames, match="has no image files"):
        CameraScanner(tmp_path)


def test_unreadable_image_in_a_folder_ends_the_scan(media: Media, tmp_path: Path) -> None:
    media.image("alipay", tmp_path, "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG but not really")
    with CameraScanner(tmp_path) as scan:
        assert scan.next_code().payload == media.code("alipay").payload
        with pytest.raises(CameraOpenError, match="b.png as an image"):
            scan.next_code()


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(DecoderUnavailable, match="unknown QR backend 'zbar'.*zxing-cpp, pyzbar, opencv"):
        make_decoder("zbar")


@pytest.mark.parametrize(("backend", "module", "package"), [
    ("pyzbar", "pyzbar", "apt-get install libzbar0"),
    ("zxing-cpp", "zxingcpp", "pip install zxing-cpp"),
])
def test_backend_whose_library_is_missing_names_the_package(monkeypatch: pytest.MonkeyPatch, backend: str,
                                                             module: str, package: str) -> None:
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)   # what Python does for a package that is not there
    with pytest.raises(DecoderUnavailable, match=package):
        make_decoder(backend)


def test_opencv_backend_reads_a_code(media: Media) -> None:
    assert [c.payload for c in scan_all(media.image("cpm"), "opencv")] == [media.code("cpm").payload]
