"""Camera pipeline speed on this machine: frames/s per 640x480 stream, and how many 15 fps streams fit.

    .venv/bin/python benchmarks/camera_pipeline.py [--seconds 60] [--visits 12]

Ceiling: a rendered rush-hour clip of store S002 (about six shoppers per frame) is rendered first
and kept in memory, then timed through the pipeline alone (MOG2 + blobs + homography + tracker).
The trained detector (YOLOX-Nano, one onnxruntime thread) is timed through the same pipeline on real
footage scaled to 640x480: OpenCV's vtest.avi (``make opencv-samples``), or the rendered clip without it.
Entrance: CenterFace + age + gender on a 640x480 frame with one face (scikit-image's astronaut
photo placed on a grey entrance), and on an empty frame.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import time
from pathlib import Path

import cv2
import numpy as np

from ingestion.camera.ceiling import CeilingPipeline
from ingestion.camera.config import TrainedDetectorConfig
from ingestion.camera.entrance import EntranceCamera, read_image
from ingestion.camera.scoring import score_tracking
from ingestion.camera.video import Frame, open_video
from twin.camera_clips import ClipRequest, busy_paths
from twin.render import camera_config, ceiling_camera, render_frames
from walkout.catalog import load_catalog

STREAM_FPS = 15.0
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def ceiling(seconds: float, visits: int) -> None:
    request = ClipRequest(visits=visits, seconds=seconds)
    camera = ceiling_camera(load_catalog().store(request.store_id))
    paths, start = busy_paths(request)
    frames = list(render_frames(camera, paths, start, seconds, request.fps, request.seed))
    pipeline = CeilingPipeline(camera_config(camera, request.seed), request.fps, camera.size)
    started = time.perf_counter()
    tracked = [result.positions for result in pipeline.run(frame.image for frame in frames)]
    elapsed = time.perf_counter() - started
    score = score_tracking([frame.people for frame in frames], tracked)
    people = sum(len(frame.people) for frame in frames) / len(frames)
    print_streams(
        f"ceiling 640x480, foreground detector: {len(frames)} frames, {people:.1f} shoppers/frame",
        len(frames) / elapsed,
    )
    print(f"  MOTA {score.mota:.3f}, IDF1 {score.idf1:.3f}, median floor error {score.median_error_m:.3f} m")
    trained([frame.image for frame in frames])


def trained(rendered: list[Frame]) -> None:
    if VTEST.is_file():
        with open_video(str(VTEST)) as video:
            frames = [small(frame) for frame in video.frames()]
        source = "vtest.avi"
    else:
        frames, source = rendered, "the rendered clip (no vtest.avi: `make opencv-samples`)"
    pipeline = CeilingPipeline(None, STREAM_FPS, (640, 480), TrainedDetectorConfig())
    started = time.perf_counter()
    found = sum(len(result.detections) for result in pipeline.run(frames))
    elapsed = time.perf_counter() - started
    people = found / len(frames)
    label = f"ceiling 640x480, trained detector: {len(frames)} frames of {source}, {people:.1f} people/frame"
    print_streams(label, len(frames) / elapsed)


def small(frame: Frame) -> Frame:
    return np.asarray(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def print_streams(label: str, fps: float) -> None:
    print(f"{label}: {fps:.0f} frames/s on one core")
    print(
        f"  -> {fps / STREAM_FPS:.1f} streams of {STREAM_FPS:.0f} fps per core, "
        f"about {2 * fps / STREAM_FPS:.0f} on 2 cores"
    )


def entrance(repeats: int) -> None:
    camera = EntranceCamera()
    photo = importlib.metadata.distribution("scikit-image").locate_file("skimage/data/astronaut.png")
    face = cv2.resize(read_image(Path(str(photo))), (320, 320))
    frame = np.full((480, 640, 3), 120, dtype=np.uint8)
    frame[80:400, 160:480] = face
    empty = np.full((480, 640, 3), 120, dtype=np.uint8)
    for name, image in (("one face", frame), ("no face", empty)):
        camera.estimate(image)
        started = time.perf_counter()
        for _ in range(repeats):
            found = camera.estimate(image)
        fps = repeats / (time.perf_counter() - started)
        print(
            f"entrance 640x480, {name} ({len(found)} found): "
            f"{fps:.1f} frames/s ({fps * len(found):.1f} faces/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--visits", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; OpenCV {cv2.__version__}")
    cv2.setNumThreads(1)
    ceiling(args.seconds, args.visits)
    entrance(args.repeats)
    print(
        "reproduce: .venv/bin/python benchmarks/camera_pipeline.py "
        f"--seconds {args.seconds:g} --visits {args.visits}"
    )


if __name__ == "__main__":
    main()
