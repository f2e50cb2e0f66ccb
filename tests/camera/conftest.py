"""Generated camera sources shared by the camera tests: videos, images and folders in a per-worker tmp dir."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.sim.video import Scene, clean_conditions, code_video_frames, write_video
from drivers.sim.wallet import IssuedCode, VirtualWallet, code_image

KINDS = ("alipay", "wechat", "unionpay", "cpm")


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> "Media":
    return Media(tmp_path_factory.mktemp("camera"))


class Media:
    """Lazily written test media; each file is made once per test worker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        config = Path(__file__).parents[2] / "config"
        self.wallet = VirtualWallet(seed=21, clock=lambda: 1_750_000_000.0, state_dir=root / "atc",
                                    cards_file=config / "cards.toml", wallets_file=config / "wallets.toml")
        self.codes: dict[str, IssuedCode] = {}

    def code(self, kind: str) -> IssuedCode:
        if kind not in self.codes:
            self.codes[kind] = self.wallet.issue(kind)
        return self.codes[kind]

    def video(self, *kinds: str, seed: int = 0) -> Path:
        """A video of the phone showing each code in turn (blank, enter, hold, leave, blank)."""
        path = self.root / f"{'-'.join(kinds)}-{seed}.avi"
        if not path.exists():
            frames = []
            for i, kind in enumerate(kinds):
                frames += code_video_frames(code_image(self.code(kind).payload), seed=seed + i)
            write_video(path, frames)
        return path

    def blank_video(self) -> Path:
        path = self.root / "blank.avi"
        if not path.exists():
            rng = np.random.default_rng(3)
            scene = Scene((320, 240), rng)
            write_video(path, (scene.frame(None, None, clean_conditions(rng)) for _ in range(5)))
        return path

    def image(self, kind: str, directory: Path | None = None, name: str | None = None) -> Path:
        directory = directory or self.root
        path = directory / (name or f"{kind}.png")
        cv2.imwrite(str(path), code_image(self.code(kind).payload))
        return path
