"""Probing preserved files: media type, container and stream facts, EXIF, parse errors."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import select

from testament.catalog.models import Asset
from testament.collect.files import collect_path
from testament.collect.ingest import Ingest, Outcome
from testament.collect.items import Sighting
from testament.media import probe
from testament.media.avprobe import clockwise_rotation, creation_time, rotate_tag
from testament.media.exif import ZONE_UNKNOWN, exif_datetime, gps_coordinate, read_gps
from testament.media.iso6709 import parse_iso6709
from testament.media.jsonable import clean_tags, clean_text, finite
from testament.media.probe import ProbeResult, probe_file
from testament.media.sniff import looks_like_text, sniff_mime
from testament.store import Store
from tests.media import make_corrupt_video, make_image, make_video, scene_frame

LOCATION = "+40.1792+044.4991+1000.000/"


def probed(path: Path, filename: str | None = None) -> ProbeResult:
    """Probe, and check the metadata survives the catalog's JSON column unchanged."""
    result = probe_file(path, filename)
    encoded = json.dumps(result.metadata, allow_nan=False)
    assert json.loads(encoded) == result.metadata
    if result.error is not None:
        assert "\n" not in result.error
        assert str(path.parent) not in result.error
    return result


def write_video(
    path: Path,
    *,
    frames: int = 50,
    tags: dict[str, str] | None = None,
    rotation: float | None = None,
    movflags: str = "use_metadata_tags",
) -> Path:
    """An H.264 + AAC MP4 with container tags, written with the given movflags."""
    with av.open(str(path), "w", options={"movflags": movflags}) as container:
        container.metadata.update(tags or {})
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = container.add_stream("aac", rate=48000, layout="mono")
        audio.metadata["language"] = "hye"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(scene_frame(3, i / 25, 320, 180), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
        samples = frames * 48000 // 25
        for start in range(0, samples, 1024):
            chunk = np.zeros((1, 1024), dtype=np.float32)
            sound = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            sound.sample_rate, sound.pts, sound.time_base = 48000, start, Fraction(1, 48000)
            container.mux(audio.encode(sound))
        container.mux(audio.encode())
    return path


def write_audio(path: Path, codec: str, rate: int = 16000) -> Path:
    """One second of silence; the container follows the file extension."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        fmt = "s16" if codec.startswith("pcm") else "fltp"
        dtype = np.int16 if fmt == "s16" else np.float32
        for start in range(0, rate, 1024):
            sound = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), dtype), format=fmt, layout="mono"
            )
            sound.sample_rate, sound.pts, sound.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(sound))
        container.mux(stream.encode())
    return path


def gps_exif(
    *, lat_ref: str = "N", lon_ref: str = "E", offset: str | None = "+04:00"
) -> Image.Exif:
    exif = Image.Exif()
    exif[Base.Make] = "Canon"
    exif[Base.Model] = "Canon EOS 5D Mark IV"
    exif[Base.Software] = "Adobe Photoshop 25.0"
    exif[Base.Orientation] = 6
    exif[Base.DateTime] = "2020:11:12 10:00:00"
    details = exif.get_ifd(IFD.Exif)
    details[Base.DateTimeOriginal] = "2020:11:10 08:30:15"
    if offset is not None:
        details[Base.OffsetTimeOriginal] = offset
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = lat_ref
    gps[GPS.GPSLatitude] = (IFDRational(40), IFDRational(10), IFDRational(45.12))
    gps[GPS.GPSLongitudeRef] = lon_ref
    gps[GPS.GPSLongitude] = (IFDRational(44), IFDRational(29), IFDRational(57))
    gps[GPS.GPSAltitudeRef] = b"\x00"
    gps[GPS.GPSAltitude] = IFDRational(1000.5)
    gps[GPS.GPSTimeStamp] = (IFDRational(4), IFDRational(30), IFDRational(15))
    gps[GPS.GPSDateStamp] = "2020:11:10"
    return exif


# --- video and audio -----------------------------------------------------------------


def test_video_container_streams_and_tags(tmp_path: Path) -> None:
    tags = {
        "creation_time": "2020-11-10T08:30:00.000000Z",
        "com.apple.quicktime.location.ISO6709": LOCATION,
        "com.apple.quicktime.creationdate": "2020-11-10T12:30:00+0400",
        "title": "clip",
    }
    result = probed(write_video(tmp_path / "clip.mp4", tags=tags), "clip.mp4")

    assert (result.media_type, result.mime_type, result.error) == ("video", "video/mp4", None)
    meta = result.metadata
    assert meta["container"].startswith("mov,mp4")
    assert meta["duration"] == pytest.approx(2.0, abs=0.05)
    assert meta["bit_rate"] > 0
    assert meta["creation_time"] == "2020-11-10T08:30:00Z"
    assert meta["local_creation_time"] == "2020-11-10T12:30:00+04:00"
    assert meta["location"] == {
        "latitude": 40.1792,
        "longitude": 44.4991,
        "altitude": 1000.0,
        "tag": "com.apple.quicktime.location.ISO6709",
    }
    assert meta["tags"]["title"] == "clip"
    video, audio = meta["streams"]
    assert video["type"] == "video" and video["codec"] == "h264" and video["profile"] == "High"
    assert (video["width"], video["height"], video["pixel_format"]) == (320, 180, "yuv420p")
    assert video["frame_rate"] == 25.0
    assert video["frames"] == 50
    assert video["duration"] == pytest.approx(2.0)
    assert video["bit_rate"] > 0
    assert video["rotation"] == 0
    assert audio["type"] == "audio" and audio["codec"] == "aac"
    assert (audio["sample_rate"], audio["channels"], audio["language"]) == (48000, 1, "hye")
    assert "truncated" not in meta


def test_plain_location_tag_is_parsed(tmp_path: Path) -> None:
    path = write_video(tmp_path / "android.mp4", frames=5, tags={"location": "-33.8688+151.2093/"})
    location = probed(path).metadata["location"]
    assert location["latitude"] == -33.8688 and location["longitude"] == 151.2093
    assert location["tag"] in ("location", "location-eng")
    assert "altitude" not in location


def test_rotation_from_display_matrix(tmp_path: Path) -> None:
    # A phone held upright records landscape frames and asks players to turn them 90°.
    path = write_video(tmp_path / "portrait.mp4", frames=5, rotation=-90)
    assert probed(path).metadata["streams"][0]["rotation"] == 90


def test_rotation_conventions() -> None:
    assert clockwise_rotation(-90) == 90
    assert clockwise_rotation(90) == 270
    assert clockwise_rotation(180.0) == 180
    assert clockwise_rotation(0) == 0
    assert rotate_tag("90") == 90
    assert rotate_tag("-90") == 270
    assert rotate_tag("sideways") is None
    assert rotate_tag(None) is None


def test_creation_time_is_utc() -> None:
    assert creation_time("2020-11-10T12:30:00+04:00") == "2020-11-10T08:30:00Z"
    assert creation_time("2020-11-10 08:30:00") == "2020-11-10T08:30:00Z"
    assert creation_time("2020-11-10T08:30:00.250000Z") == "2020-11-10T08:30:00.250000Z"
    assert creation_time("yesterday") is None


def test_video_with_sample_helper_and_audio(tmp_path: Path) -> None:
    result = probed(make_video(tmp_path / "scene.mp4", seconds=1.0, audio=True))
    assert result.media_type == "video"
    assert [s["type"] for s in result.metadata["streams"]] == ["video", "audio"]


@pytest.mark.parametrize(
    ("name", "codec", "container", "mime"),
    [
        ("tone.wav", "pcm_s16le", "wav", "audio/wav"),
        ("voice.m4a", "aac", "mov,mp4,m4a,3gp,3g2,mj2", "audio/mp4"),
    ],
)
def test_audio(tmp_path: Path, name: str, codec: str, container: str, mime: str) -> None:
    result = probed(write_audio(tmp_path / name, codec))
    assert (result.media_type, result.mime_type, result.error) == ("audio", mime, None)
    assert result.metadata["container"] == container
    assert result.metadata["duration"] == pytest.approx(1.0, abs=0.1)
    (stream,) = result.metadata["streams"]
    assert stream["codec"] == codec
    assert (stream["sample_rate"], stream["channels"]) == (16000, 1)


@pytest.mark.parametrize(
    ("name", "container", "mime"),
    [("clip.mkv", "matroska,webm", "video/x-matroska"), ("clip.ts", "mpegts", "video/mp2t")],
)
def test_other_video_containers(tmp_path: Path, name: str, container: str, mime: str) -> None:
    result = probed(make_video(tmp_path / name, seconds=1.0, audio=True))
    assert (result.media_type, result.mime_type, result.error) == ("video", mime, None)
    assert result.metadata["container"] == container
    assert result.metadata["duration"] == pytest.approx(1.0, abs=0.1)
    assert [s["codec"] for s in result.metadata["streams"]] == ["h264", "aac"]
    assert "filename_suggests" not in result.metadata


def test_mp4_holding_only_sound_is_audio(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "sound.m4a", "aac")
    renamed = tmp_path / "sound.mp4"
    path.rename(renamed)
    result = probed(renamed)
    assert (result.media_type, result.mime_type) == ("audio", "audio/mp4")


def test_corrupt_video_is_an_error_without_paths(tmp_path: Path) -> None:
    path = make_corrupt_video(tmp_path / hashlib.sha256(b"x").hexdigest())
    result = probed(path, "execution.mp4")
    assert result == ProbeResult(
        "video", "video/mp4", {}, "cannot parse as video: Invalid data found when processing input"
    )


def _cut(whole: Path, fraction: float) -> Path:
    """The first `fraction` of a file's bytes, as an interrupted download leaves it."""
    data = whole.read_bytes()
    cut = whole.with_name(f"cut-{whole.name}")
    cut.write_bytes(data[: int(len(data) * fraction)])
    return cut


def test_video_cut_after_its_header_probes_as_partial(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.mp4", frames=100, movflags="faststart")
    size = whole.stat().st_size

    result = probed(_cut(whole, 0.5))
    assert result.media_type == "video"
    assert result.error == (
        "cannot parse as video to the end: the file is cut short "
        f"(its index runs to byte {size} of {size // 2})"
    )
    assert result.metadata["duration"] == pytest.approx(4.0, abs=0.05)
    assert result.metadata["streams"][0]["width"] == 320
    assert result.metadata["truncated"] is True


@pytest.mark.parametrize(
    ("name", "codec", "what"),
    [
        ("clip.mkv", "libx264", "segment"),
        ("clip.webm", "libvpx-vp9", "segment"),
        ("clip.avi", "mpeg4", "RIFF chunk"),
    ],
)
@pytest.mark.parametrize("fraction", [0.9, 0.999])
def test_video_cut_short_is_partial(
    tmp_path: Path, name: str, codec: str, what: str, fraction: float
) -> None:
    whole = make_video(tmp_path / name, seconds=3.0, codec=codec, width=64, height=48)
    assert probed(whole).error is None
    size = whole.stat().st_size

    result = probed(_cut(whole, fraction))
    assert result.media_type == "video"
    assert result.metadata["streams"][0]["width"] == 64  # what the header says is kept
    assert result.error == (
        "cannot parse as video to the end: the file is cut short "
        f"(its {what} runs to byte {size} of {int(size * fraction)})"
    )


def test_matroska_cut_early_is_partial(tmp_path: Path) -> None:
    whole = make_video(tmp_path / "clip.webm", seconds=3.0, codec="libvpx-vp9", width=64)
    result = probed(_cut(whole, 0.3))
    assert result.error is not None and "the file is cut short (its segment" in result.error


def test_sound_cut_short_is_partial(tmp_path: Path) -> None:
    whole = write_audio(tmp_path / "call.wav", "pcm_s16le")
    size = whole.stat().st_size
    assert probed(whole).error is None

    result = probed(_cut(whole, 0.5))
    assert result.media_type == "audio"
    assert result.error == (
        "cannot parse as audio to the end: the file is cut short "
        f"(its RIFF chunk runs to byte {size} of {size // 2})"
    )


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png"])
@pytest.mark.parametrize("fraction", [0.5, 0.95])
def test_still_cut_short_is_partial(tmp_path: Path, name: str, fraction: float) -> None:
    whole = make_image(tmp_path / name, width=320, height=240)
    assert probed(whole).error is None

    result = probed(_cut(whole, fraction))
    assert (result.media_type, result.metadata["width"]) == ("image", 320)
    assert result.error is not None
    assert result.error.startswith("cannot parse as image to the end: image file is truncated")


def test_video_cut_before_its_index_is_an_error(tmp_path: Path) -> None:
    data = make_video(tmp_path / "whole.mp4", seconds=2.0).read_bytes()  # index at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    result = probed(cut)
    assert result.media_type == "video"
    assert result.error == "cannot parse as video: Invalid data found when processing input"


def test_probe_reads_little_of_a_large_file(tmp_path: Path) -> None:
    io_stats = Path("/proc/self/io")
    if not io_stats.exists():
        pytest.skip("needs Linux /proc/self/io to count bytes read")
    path = write_video(tmp_path / "long.mp4", frames=25, movflags="faststart")
    with path.open("r+b") as file:
        file.truncate(2 * 1024**3)  # sparse: 2 GB without using the disk

    def bytes_read() -> int:
        fields = dict(line.split(": ") for line in io_stats.read_text().splitlines())
        return int(fields["rchar"])

    before = bytes_read()
    result = probed(path)
    assert result.media_type == "video" and result.error is None
    assert bytes_read() - before < 64 * 1024**2


# --- images ----------------------------------------------------------------------------


def test_jpeg_with_exif_and_gps(tmp_path: Path) -> None:
    path = make_image(tmp_path / "still.jpg", exif=gps_exif())
    result = probed(path)
    assert (result.media_type, result.mime_type, result.error) == ("image", "image/jpeg", None)
    meta = result.metadata
    size = ("format", "width", "height", "mode", "frames", "animated")
    assert [meta[key] for key in size] == ["JPEG", 640, 360, "RGB", 1, False]
    assert "exif_error" not in meta
    assert meta["exif"] == {
        "make": "Canon",
        "model": "Canon EOS 5D Mark IV",
        "software": "Adobe Photoshop 25.0",
        "orientation": 6,
        "date_time_original": "2020-11-10T08:30:15+04:00",
        "date_time_original_zone": "+04:00",
        "date_time": "2020-11-12T10:00:00",
        "date_time_zone": ZONE_UNKNOWN,
        "gps": {
            "latitude": pytest.approx(40.1792),
            "longitude": pytest.approx(44.4991667),
            "altitude": 1000.5,
            "timestamp": "2020-11-10T04:30:15Z",
        },
    }


def test_gps_hemispheres_and_local_time(tmp_path: Path) -> None:
    path = make_image(tmp_path / "south.jpg", exif=gps_exif(lat_ref="S", lon_ref="W", offset=None))
    exif = probed(path).metadata["exif"]
    assert exif["gps"]["latitude"] == pytest.approx(-40.1792)
    assert exif["gps"]["longitude"] == pytest.approx(-44.4991667)
    assert exif["date_time_original"] == "2020-11-10T08:30:15"
    assert exif["date_time_original_zone"] == ZONE_UNKNOWN


def test_png_and_extensionless_image(tmp_path: Path) -> None:
    path = make_image(tmp_path / "frame.png", width=64, height=48)
    bare = tmp_path / "0f" / "0f00"
    bare.parent.mkdir()
    shutil.copy(path, bare)
    for result in (probed(path), probed(bare)):
        assert (result.media_type, result.mime_type, result.error) == ("image", "image/png", None)
        assert (result.metadata["width"], result.metadata["height"]) == (64, 48)
        assert "exif" not in result.metadata


@pytest.mark.parametrize(
    ("name", "mime"), [("frame.png", "image/png"), ("frame.webp", "image/webp")]
)
def test_exif_in_other_still_formats(tmp_path: Path, name: str, mime: str) -> None:
    result = probed(make_image(tmp_path / name, width=64, height=48, exif=gps_exif()))
    assert (result.media_type, result.mime_type, result.error) == ("image", mime, None)
    assert result.metadata["exif"]["model"] == "Canon EOS 5D Mark IV"
    assert result.metadata["exif"]["gps"]["latitude"] == pytest.approx(40.1792)


def test_animated_gif(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    path = tmp_path / "loop.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = probed(path)
    assert (result.media_type, result.mime_type) == ("image", "image/gif")
    assert (result.metadata["frames"], result.metadata["animated"]) == (3, True)


def test_single_frame_gif_is_an_image(tmp_path: Path) -> None:
    path = tmp_path / "still.gif"
    Image.new("RGB", (40, 30), "red").save(path)
    result = probed(path)
    assert (result.media_type, result.metadata["frames"]) == ("image", 1)


def test_still_that_only_ffmpeg_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HEIC stands in here as AVIF: a Pillow without the plugin hands it to PyAV."""
    if "libsvtav1" not in av.codecs_available:
        pytest.skip("this PyAV build has no AV1 encoder")
    path = tmp_path / "photo.avif"
    with av.open(str(path), "w", format="avif") as container:
        stream = container.add_stream("libsvtav1", rate=1)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        frame = av.VideoFrame.from_ndarray(scene_frame(5, 0, 64, 48), format="rgb24")
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    monkeypatch.setattr(
        probe, "PILLOW_FORMATS", tuple(f for f in probe.PILLOW_FORMATS if f != "AVIF")
    )
    result = probed(path)
    assert (result.media_type, result.mime_type, result.error) == ("image", "image/avif", None)
    assert (result.metadata["width"], result.metadata["height"]) == (64, 48)
    assert result.metadata["streams"][0]["codec"] == "av1"


def test_broken_exif_is_recorded_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    Image.new("RGB", (32, 24)).save(path, exif=b"Exif\x00\x00" + b"garbage!" * 8)
    result = probed(path)
    assert (result.media_type, result.error) == ("image", None)
    assert result.metadata["width"] == 32
    assert result.metadata["exif_error"] == (
        "unreadable EXIF: not a TIFF file (header b'garbage!' not valid)"
    )


def test_exif_pointing_past_its_end(tmp_path: Path) -> None:
    # IFD0 names a GPS block at offset 5000 and a camera make at 9000, in 30 bytes.
    ifd0 = struct.pack("<H", 2) + struct.pack("<HHII", 0x010F, 2, 50, 9000)
    ifd0 += struct.pack("<HHII", 0x8825, 4, 1, 5000) + b"\x00" * 4
    path = tmp_path / "cut-exif.jpg"
    Image.new("RGB", (32, 24)).save(path, exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + ifd0)
    result = probed(path)
    assert result.error is None
    assert "exif" not in result.metadata
    error = result.metadata["exif_error"]
    assert "unreadable GPSInfo block" in error
    assert "Tag data larger than file" in error


def test_corrupt_image(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    result = probed(path)
    assert (result.media_type, result.mime_type) == ("image", "image/jpeg")
    assert result.error is not None and result.error.startswith("cannot parse as image: ")


# --- what a file is -------------------------------------------------------------------


def test_content_wins_over_extension(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", seconds=0.4).rename(tmp_path / "photo.jpg")
    result = probed(path)
    assert (result.media_type, result.mime_type, result.error) == ("video", "video/mp4", None)
    assert result.metadata["filename_suggests"] == "image/jpeg"


def test_extensionless_video_is_detected(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", seconds=0.4)
    result = probed(path, "telegram_download")
    assert (result.media_type, result.mime_type) == ("video", "video/mp4")
    assert "filename_suggests" not in result.metadata


@pytest.mark.parametrize(
    ("name", "content", "kind", "mime"),
    [
        ("notes.txt", "Խաղաղություն — notes from the field\n".encode(), "document", "text/plain"),
        ("notes", b"plain text without a name\n", "document", "text/plain"),
        ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "document", "application/pdf"),
        ("blob.bin", bytes(range(256)) * 4, "other", "application/octet-stream"),
        ("blob", bytes(range(256)) * 4, "other", None),
    ],
)
def test_non_media_files(tmp_path: Path, name: str, content: bytes, kind: str, mime: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert probed(path) == ProbeResult(kind, mime, {}, None)


def test_office_document_keeps_its_type(tmp_path: Path) -> None:
    path = tmp_path / "statement.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    result = probed(path)
    assert result.media_type == "document"
    assert result.mime_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def test_empty_download(tmp_path: Path) -> None:
    path = tmp_path / "video_2020-11-10.mp4"
    path.touch()
    error = "cannot parse as video: the file is empty"
    assert probed(path) == ProbeResult("video", "video/mp4", {}, error)
    assert probed(path, "unnamed") == ProbeResult("other", None, {}, None)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    result = probed(tmp_path / "gone.mp4")
    error = "cannot read file: No such file or directory"
    assert result == ProbeResult("video", "video/mp4", {}, error)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe1\x00\x10Exif", "image/jpeg"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom3gp4", "video/3gpp"),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00M4A isom", "audio/mp4"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
        ((b"\x47" + b"\x00" * 187) * 4, "video/mp2t"),
        (b"\xff\xfb\x90\x64\x00", "audio/mpeg"),
        (b"\xff\xf1\x50\x80\x02", "audio/aac"),
        (b"hello", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, mime: str | None) -> None:
    assert sniff_mime(head) == mime


def test_text_detection() -> None:
    assert looks_like_text("Шуши, 2020\n".encode())
    assert looks_like_text("Ստեփանակերտ".encode()[:-1])  # a character cut by the sample
    assert not looks_like_text(b"\x00\x01\x02")
    assert not looks_like_text(b"text\x1bwith escapes")
    assert not looks_like_text(b"")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("seeds")
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue")]
    frames[0].save(folder / "loop.gif", save_all=True, append_images=frames[1:])
    return [
        make_image(folder / "still.jpg", width=64, height=48, exif=gps_exif()),
        write_video(folder / "clip.mp4", frames=10, tags={"location": LOCATION}),
        write_audio(folder / "sound.wav", "pcm_s16le"),
        folder / "loop.gif",
    ]


@settings(max_examples=80, deadline=None)
@given(
    choice=st.integers(0, 3),
    keep=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.integers(0, 2047), st.integers(0, 255)), max_size=12),
    named=st.booleans(),
)
def test_damaged_files_never_raise(
    seeds: list[Path], choice: int, keep: float, flips: list[tuple[int, int]], named: bool
) -> None:
    seed = seeds[choice]
    data = bytearray(seed.read_bytes())
    for offset, value in flips:
        data[offset % len(data)] = value
    damaged = seed.parent / f"damaged-{seed.name}"
    damaged.write_bytes(bytes(data[: max(1, int(len(data) * keep))]))
    result = probed(damaged, seed.name if named else "download")
    assert result.media_type in ("video", "image", "audio", "document", "other")
    assert "\\u0000" not in json.dumps(result.metadata)  # PostgreSQL cannot query it


# --- parsers on their own --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "point"),
    [
        (LOCATION, {"latitude": 40.1792, "longitude": 44.4991, "altitude": 1000.0}),
        ("+40.1792+044.4991/", {"latitude": 40.1792, "longitude": 44.4991}),
        (
            "-33.8688+151.2093+012.5CRSWGS_84/",
            {"latitude": -33.8688, "longitude": 151.2093, "altitude": 12.5},
        ),
        ("+4010.752-04429.946/", {"latitude": 40.1792, "longitude": -44.4991}),
        ("+401045+0442957/", {"latitude": 40.1791667, "longitude": 44.4991667}),
        (" +40.1792+044.4991/ ", {"latitude": 40.1792, "longitude": 44.4991}),
    ],
)
def test_iso6709(text: str, point: dict[str, float]) -> None:
    assert parse_iso6709(text) == pytest.approx(point)


@pytest.mark.parametrize(
    "text", ["", "40.1792,44.4991", "+91.0000+044.0000/", "+40.1792+181.0000/", "+4075.0+04400.0/"]
)
def test_iso6709_rejects(text: str) -> None:
    assert parse_iso6709(text) is None


def test_exif_datetime() -> None:
    assert exif_datetime("2020:11:10 08:30:15", None, None) == ("2020-11-10T08:30:15", ZONE_UNKNOWN)
    assert exif_datetime("2020:11:10 08:30:15\x00", "25", "-03:30") == (
        "2020-11-10T08:30:15.250000-03:30",
        "-03:30",
    )
    assert exif_datetime("2020:11:10 08:30:15", None, "junk") == (
        "2020-11-10T08:30:15",
        ZONE_UNKNOWN,
    )
    assert exif_datetime("0000:00:00 00:00:00", None, None) is None
    assert exif_datetime("    :  :     :  :  ", None, None) is None
    assert exif_datetime(b"2020:11:10 08:30:15", None, "+04:00") == (
        "2020-11-10T08:30:15+04:00",
        "+04:00",
    )


def test_untrusted_values_become_json() -> None:
    assert clean_text(b"Canon\x00\x00  ") == "Canon"
    assert clean_text("\x00\x00") is None
    assert clean_text(42) is None
    assert clean_tags({"title": "a\x00b", "empty": " ", "\x00": "x"}) == {"title": "ab"}
    assert finite(IFDRational(1, 0)) is None
    assert finite(Fraction(1, 4)) == 0.25
    assert finite("n/a") is None


def test_gps_values() -> None:
    dms = (IFDRational(40), IFDRational(10), IFDRational(45.12))
    assert gps_coordinate(dms, "N", "NS") == pytest.approx(40.1792)
    assert gps_coordinate(dms, b"S\x00", "NS") == pytest.approx(-40.1792)
    assert gps_coordinate(IFDRational(12.5), "W", "EW") == -12.5
    assert gps_coordinate(dms, None, "NS") is None  # no hemisphere: no guess
    assert gps_coordinate(dms, "E", "NS") is None
    assert gps_coordinate((IFDRational(40), IFDRational(1, 0), IFDRational(0)), "N", "NS") is None
    assert gps_coordinate((IFDRational(95), 0, 0), "N", "NS") is None
    assert gps_coordinate("forty", "N", "NS") is None

    problems: list[str] = []
    gps: dict[int, Any] = {
        GPS.GPSLatitude: dms,
        GPS.GPSLongitudeRef: "E",
        GPS.GPSLongitude: (IFDRational(44), IFDRational(29), IFDRational(57)),
        GPS.GPSAltitudeRef: b"\x01",
        GPS.GPSAltitude: IFDRational(28),
        GPS.GPSTimeStamp: (IFDRational(23), IFDRational(59), IFDRational(59.5)),
    }
    assert read_gps(gps, problems) == {
        "longitude": pytest.approx(44.4991667),
        "altitude": -28.0,
        "time": "23:59:59",
    }
    assert problems == ["unreadable GPS latitude (or its N/S reference)"]


# --- through the ingest ----------------------------------------------------------------


def _assets(store: Store) -> dict[str, Asset]:
    with store.read() as session:
        return {a.original_filename: a for a in session.execute(select(Asset)).scalars()}


def test_ingest_keeps_corrupt_video_and_records_metadata(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    corrupt = make_corrupt_video(folder / "execution.mp4")
    tags = {"creation_time": "2020-11-10T08:30:00Z", "location": LOCATION}
    write_video(folder / "clip.mp4", frames=10, tags=tags)
    make_image(folder / "still.jpg", exif=gps_exif())

    summary = Ingest(store).run(collect_path(folder, Sighting(method="file")))

    outcomes = {Path(r.label).name: r for r in summary.results}
    error = "cannot parse as video: Invalid data found when processing input"
    assert outcomes["execution.mp4"].outcome is Outcome.PARSE_ERROR
    assert outcomes["execution.mp4"].message == error
    assert outcomes["clip.mp4"].outcome is Outcome.PRESERVED
    assert outcomes["still.jpg"].outcome is Outcome.PRESERVED

    assets = _assets(store)
    broken = assets["execution.mp4"]
    assert [broken.media_type, broken.mime_type, broken.parse_error] == [
        "video",
        "video/mp4",
        error,
    ]
    assert broken.sha256 == hashlib.sha256(corrupt.read_bytes()).hexdigest()
    with store.blobs.open(broken.sha256) as blob:
        assert blob.read() == corrupt.read_bytes()

    for name in ("clip.mp4", "still.jpg"):
        asset = assets[name]
        expected = probe_file(folder / name, name)
        assert (asset.media_type, asset.mime_type, asset.parse_error) == (
            expected.media_type,
            expected.mime_type,
            None,
        )
        assert asset.probe == expected.metadata
    assert assets["clip.mp4"].probe["location"]["latitude"] == 40.1792
    assert assets["still.jpg"].probe["exif"]["gps"]["longitude"] == pytest.approx(44.4991667)
