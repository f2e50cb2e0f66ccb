"""Synthetic camera frames and video of a phone showing a payment code at a counter.

The camera driver and the decoder benchmark need frames that look like what a
checkout camera sees, with the faults it really meets: sensor noise, focus and
motion blur, a phone tilted away from the lens (perspective), a dim screen or
an overexposed scene (low contrast), a reflection across the screen (glare),
frames with no phone at all, and the phone entering and leaving the view.

Everything is drawn with OpenCV and numpy from a seeded `numpy.random.Generator`,
so the same seed gives the same frames on every machine. Videos are written as
MJPG .avi through `cv2.VideoWriter`, which OpenCV's own `VideoCapture` reads
back, as a camera's MJPG stream would be.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "Conditions", "Placement", "Scene", "VideoError", "clean_conditions", "code_video_frames",
    "blank_frames", "degraded_conditions", "frame_set", "write_video",
]


class VideoError(Exception):
    """The video could not be written (bad path, codec not available)."""


@dataclass(frozen=True)
class Placement:
    """Where the phone is: code centre (px), code width (px), roll/pitch/yaw (degrees)."""

    cx: float
    cy: float
    code_px: float
    roll: float = 0.0
    pitch: float = 0.0
    yaw: float = 0.0


@dataclass(frozen=True)
class Conditions:
    """The faults applied to one frame (zero / None means not applied)."""

    blur_sigma: float = 0.0      # focus blur, Gaussian sigma in px
    motion_px: int = 0           # motion blur length in px
    motion_angle: float = 0.0
    contrast: float = 1.0        # 1 = as drawn; 0.4 = a dim screen in a bright scene
    brightness: float = 0.0      # added after the contrast change
    glare: tuple[float, float, float, float] | None = None  # (x, y) on the code in code widths, radius, peak
    noise_sigma: float = 2.0     # sensor noise, in grey levels
    jpeg_quality: int = 85       # JPEG compression of a still (videos: the MJPG writer compresses)


def clean_conditions(rng: np.random.Generator) -> Conditions:
    """A steady phone in good light: only mild sensor noise and compression."""
    return Conditions(noise_sigma=float(rng.uniform(1.0, 3.0)), jpeg_quality=int(rng.integers(80, 95)))


def degraded_conditions(rng: np.random.Generator, scale: float = 1.0) -> Conditions:
    """One to three faults at realistic strength; `scale` is frame width / 640 (blur grows with it)."""
    faults = ["blur", "motion", "contrast", "glare", "noise"]
    chosen = set(rng.choice(faults, size=int(rng.integers(1, 4)), replace=False))
    return Conditions(
        blur_sigma=float(rng.uniform(0.8, 1.8) * scale) if "blur" in chosen else 0.0,
        motion_px=int(round(rng.uniform(3, 7) * scale)) if "motion" in chosen else 0,
        motion_angle=float(rng.uniform(0, 180)),
        contrast=float(rng.uniform(0.3, 0.55)) if "contrast" in chosen else 1.0,
        brightness=float(rng.uniform(-40, 50)) if "contrast" in chosen else 0.0,
        glare=((float(rng.uniform(-0.4, 0.4)), float(rng.uniform(-0.4, 0.4)),
                float(rng.uniform(0.15, 0.3)), float(rng.uniform(80, 160)))
               if "glare" in chosen else None),
        noise_sigma=float(rng.uniform(6, 14)) if "noise" in chosen else float(rng.uniform(1.0, 3.0)),
        jpeg_quality=int(rng.integers(60, 85)),
    )


class Scene:
    """A fixed counter background for one camera; `frame()` draws a phone on it and applies faults."""

    def __init__(self, size: tuple[int, int], rng: np.random.Generator) -> None:
        self.width, self.height = size
        self._rng = rng
        self._background = _counter_background(size, rng)
        self._phones: dict[tuple[int, float], tuple[np.ndarray, np.ndarray, float, tuple[float, float]]] = {}

    @property
    def scale(self) -> float:
        return self.width / 640

    def placement(self, *, tilt_deg: float, fill: tuple[float, float] = (0.35, 0.6)) -> Placement:
        """A random pose: code width a `fill` fraction of the frame height, centred with some slack."""
        code_px = self.height * float(self._rng.uniform(*fill))
        slack_x, slack_y = (self.width - code_px) * 0.3, (self.height - code_px) * 0.3
        return Placement(
            cx=self.width / 2 + float(self._rng.uniform(-slack_x, slack_x)),
            cy=self.height / 2 + float(self._rng.uniform(-slack_y, slack_y)),
            code_px=code_px,
            roll=float(self._rng.uniform(-180, 180)),
            pitch=float(self._rng.uniform(-tilt_deg, tilt_deg)),
            yaw=float(self._rng.uniform(-tilt_deg, tilt_deg)),
        )

    def _phone(self, code: np.ndarray, code_px: float) -> tuple[np.ndarray, float, tuple[float, float]]:
        """The flat phone image pre-shrunk near `code_px` (area averaging; the warp does the rest), cached."""
        shrink = round(min(1.0, code_px * 1.3 / code.shape[1]), 2)
        key = (id(code), shrink)
        if key not in self._phones:   # the code array is kept in the value, so its id stays unique
            phone, code_w, centre = _phone_image(code)
            small = cv2.resize(phone, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
            self._phones[key] = (code, small, code_w * shrink, (centre[0] * shrink, centre[1] * shrink))
        return self._phones[key][1:]

    def code_in_view(self, placement: Placement) -> bool:
        """True when all four corners of the code fall inside the frame."""
        quad = _code_quad(placement, focal=float(self.width))
        return bool(np.all((quad >= 0) & (quad < (self.width, self.height))))

    def frame(self, code: np.ndarray | None, placement: Placement | None, conditions: Conditions) -> np.ndarray:
        """A BGR frame: the background, the phone (if `code` and `placement`), then the faults."""
        image = self._background.copy()
        if code is not None and placement is not None:
            _draw_phone(image, self._phone(code, placement.code_px), placement)
            if conditions.glare is not None:
                _add_glare(image, placement, conditions.glare)
        return _apply_faults(image, conditions, self._rng)


def code_video_frames(code: np.ndarray, *, size: tuple[int, int] = (640, 480), seed: int = 0,
                      blank: int = 4, moving: int = 8, hold: int = 24,
                      degraded_share: float = 0.5) -> Iterator[np.ndarray]:
    """A customer presenting a phone: blank frames, the phone entering, held with jitter, leaving, blank.

    While held, a `degraded_share` of the frames get faults; entering and leaving
    frames carry motion blur, as a moving phone does.
    """
    rng = np.random.default_rng(seed)
    scene = Scene(size, rng)
    rest = scene.placement(tilt_deg=20, fill=(0.45, 0.6))
    rest = Placement(rest.cx, rest.cy, rest.code_px, roll=float(rng.uniform(-15, 15)),
                     pitch=rest.pitch, yaw=rest.yaw)
    off = scene.width + rest.code_px          # fully outside, to the left / right
    for _ in range(blank):
        yield scene.frame(None, None, clean_conditions(rng))
    for step in range(moving):                # entering from the left
        t = (step + 1) / (moving + 1)
        pose = Placement(rest.cx - off * (1 - t), rest.cy, rest.code_px, rest.roll, rest.pitch, rest.yaw)
        yield scene.frame(code, pose, _moving(rng, scene.scale))
    for _ in range(hold):
        jitter = Placement(rest.cx + float(rng.normal(0, 4)), rest.cy + float(rng.normal(0, 4)),
                           rest.code_px * float(rng.uniform(0.97, 1.03)), rest.roll + float(rng.normal(0, 2)),
                           rest.pitch + float(rng.normal(0, 2)), rest.yaw + float(rng.normal(0, 2)))
        degraded = rng.random() < degraded_share
        yield scene.frame(code, jitter, degraded_conditions(rng, scene.scale) if degraded else clean_conditions(rng))
    for step in range(moving):                # leaving to the right
        t = (step + 1) / (moving + 1)
        pose = Placement(rest.cx + off * t, rest.cy, rest.code_px, rest.roll, rest.pitch, rest.yaw)
        yield scene.frame(code, pose, _moving(rng, scene.scale))
    for _ in range(blank):
        yield scene.frame(None, None, clean_conditions(rng))


def frame_set(codes: list[np.ndarray], *, size: tuple[int, int], count: int, degraded: bool,
              seed: int) -> list[tuple[np.ndarray, int]]:
    """`count` still frames, each showing one of `codes` (cycled); returns (frame, code index).

    Clean frames: the phone held fairly straight (tilt up to 15 degrees) in good
    light. Degraded frames: tilt up to 35 degrees and one to three faults.
    """
    rng = np.random.default_rng(seed)
    scene = Scene(size, rng)
    frames = []
    for i in range(count):
        which = i % len(codes)
        placement = scene.placement(tilt_deg=35 if degraded else 15)
        while not scene.code_in_view(placement):
            placement = scene.placement(tilt_deg=35 if degraded else 15)
        conditions = degraded_conditions(rng, scene.scale) if degraded else clean_conditions(rng)
        frames.append((_as_jpeg(scene.frame(codes[which], placement, conditions), conditions), which))
    return frames


def blank_frames(*, size: tuple[int, int], count: int, seed: int) -> list[np.ndarray]:
    """Frames of the counter with no phone, some of them degraded (false-positive check)."""
    rng = np.random.default_rng(seed)
    scene = Scene(size, rng)
    frames = []
    for i in range(count):
        conditions = degraded_conditions(rng, scene.scale) if i % 2 else clean_conditions(rng)
        frames.append(_as_jpeg(scene.frame(None, None, conditions), conditions))
    return frames


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float = 15.0) -> int:
    """Write BGR frames as an MJPG .avi; returns the number of frames written."""
    path = Path(path)
    writer: cv2.VideoWriter | None = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
                if not writer.isOpened():
                    raise VideoError(f"cannot write video {path}: OpenCV could not open an MJPG writer there")
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    if count == 0:
        raise VideoError(f"no frames to write to {path}")
    return count


def _moving(rng: np.random.Generator, scale: float) -> Conditions:
    return Conditions(motion_px=int(round(rng.uniform(6, 14) * scale)), motion_angle=float(rng.uniform(-10, 10)),
                      noise_sigma=float(rng.uniform(1.0, 3.0)))


def _counter_background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A counter top: a smooth light gradient, a few objects (boxes, a keyboard edge) and texture."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(90, 170, size=3)
    slope = rng.uniform(-40, 40, size=(2, 3))
    image = (base + xs[..., None] / width * slope[0] + ys[..., None] / height * slope[1])
    image = image.astype(np.float32)
    for _ in range(int(rng.integers(3, 7))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 10, width // 3)), int(rng.integers(height // 10, height // 3))
        colour = rng.uniform(20, 230, size=3).tolist()
        cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), colour, thickness=-1)
    texture = cv2.GaussianBlur(rng.normal(0, 12, size=(height, width)).astype(np.float32), (0, 0), 3)
    image += texture[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def _phone_image(code: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
    """The phone as drawn flat: dark body, white screen, app header bar, the code.

    Returns the BGR image, the code's width in its pixels, and the code centre.
    """
    code_h, code_w = code.shape[:2]
    margin = code_w // 8
    screen_w = code_w + 2 * margin
    header = code_w // 5
    screen_h = header + code_w + 3 * margin
    bezel = max(4, code_w // 14)
    phone = np.full((screen_h + 2 * bezel, screen_w + 2 * bezel, 3), 25, np.uint8)
    phone[bezel:bezel + screen_h, bezel:bezel + screen_w] = 250
    phone[bezel:bezel + header, bezel:bezel + screen_w] = (200, 120, 20)   # the wallet app's bar
    top = bezel + header + margin
    left = bezel + margin
    gray = code if code.ndim == 2 else cv2.cvtColor(code, cv2.COLOR_BGR2GRAY)
    phone[top:top + code_h, left:left + code_w] = gray[..., None]
    return phone, float(code_w), (left + code_w / 2, top + code_h / 2)


def _code_quad(placement: Placement, focal: float) -> np.ndarray:
    """Where the code's corners land: the code square rotated in 3-D and projected (pinhole camera)."""
    half = 0.5
    corners = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
    rx, ry, rz = (math.radians(a) for a in (placement.pitch, placement.yaw, placement.roll))
    rot_x = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_z = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    distance = focal / placement.code_px      # in code widths: the code spans code_px when facing the lens
    points = corners @ (rot_z @ rot_y @ rot_x).T + np.array([0, 0, distance])
    projected = points[:, :2] / points[:, 2:3] * focal
    return (projected + np.array([placement.cx, placement.cy])).astype(np.float32)


def _draw_phone(image: np.ndarray, phone_drawing: tuple[np.ndarray, float, tuple[float, float]],
                placement: Placement) -> None:
    """Warp the flat phone onto the frame, only over the phone's bounding box."""
    phone, code_w, (ccx, ccy) = phone_drawing
    half = code_w / 2
    source = np.array([[ccx - half, ccy - half], [ccx + half, ccy - half],
                       [ccx + half, ccy + half], [ccx - half, ccy + half]], np.float32)
    height, width = image.shape[:2]
    homography = cv2.getPerspectiveTransform(source, _code_quad(placement, focal=float(width)))
    ph, pw = phone.shape[:2]
    outline = cv2.perspectiveTransform(np.array([[[0, 0], [pw, 0], [pw, ph], [0, ph]]], np.float32), homography)[0]
    x0, y0 = np.floor(outline.min(axis=0)).astype(int).clip(0, (width, height))
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int).clip(0, (width, height))
    if x1 <= x0 or y1 <= y0:
        return                                   # entirely outside the view
    shifted = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ homography
    box = (int(x1 - x0), int(y1 - y0))
    warped = cv2.warpPerspective(phone, shifted, box, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), shifted, box, flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    region = image[y0:y1, x0:x1]
    region[:] = (warped * alpha + region * (1 - alpha)).astype(np.uint8)


def _add_glare(image: np.ndarray, placement: Placement, glare: tuple[float, float, float, float]) -> None:
    """A soft bright reflection centred on the code (offsets and radius in code widths)."""
    dx, dy, radius, peak = glare
    height, width = image.shape[:2]
    ys, xs = np.ogrid[0:height, 0:width]
    cx, cy = placement.cx + dx * placement.code_px, placement.cy + dy * placement.code_px
    r = radius * placement.code_px
    spot = peak * np.exp(-(((xs - cx) ** 2 + ((ys - cy) * 1.6) ** 2) / (2 * r * r)))
    image[:] = np.clip(image + spot[..., None], 0, 255).astype(np.uint8)


def _apply_faults(image: np.ndarray, c: Conditions, rng: np.random.Generator) -> np.ndarray:
    out: np.ndarray = image.astype(np.float32)
    if c.blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), c.blur_sigma)
    if c.motion_px > 1:
        kernel: np.ndarray = np.zeros((c.motion_px, c.motion_px), np.float32)
        kernel[c.motion_px // 2, :] = 1.0 / c.motion_px
        centre = ((c.motion_px - 1) / 2, (c.motion_px - 1) / 2)
        kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(centre, c.motion_angle, 1.0),
                                (c.motion_px, c.motion_px))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    if c.contrast != 1.0 or c.brightness:
        out = (out - 128) * c.contrast + 128 + c.brightness
    # luminance noise, the same on the three channels (decoders see grey anyway)
    out += rng.standard_normal(size=out.shape[:2] + (1,), dtype=np.float32) * np.float32(c.noise_sigma)
    return np.clip(out, 0, 255).astype(np.uint8)


def _as_jpeg(frame: np.ndarray, c: Conditions) -> np.ndarray:
    """The frame as a camera's JPEG stream delivers it (block artefacts included)."""
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, c.jpeg_quality])
    if not ok:
        raise VideoError("OpenCV could not JPEG-encode a frame")
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    if decoded is None:
        raise VideoError("OpenCV could not decode its own JPEG frame")
    return decoded
