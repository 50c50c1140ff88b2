"""The same audio under other pictures, cut and re-encoded, is linked as `same_audio`."""

from __future__ import annotations

import json
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from testament.enrich.audio import best_alignment
from testament.store import Store
from tests.media import scene_frame
from tests.system import need_tool

RATE = 22050


def speech(text: str, folder: Path, seed: int) -> np.ndarray:
    """espeak-ng saying the text, over a tone and noise, as float samples at RATE."""
    need_tool("espeak-ng", "apt-get install espeak-ng")
    path = folder / f"speech-{seed}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "-s", "150", text], check=True)
    with wave.open(str(path)) as spoken:
        rate = spoken.getframerate()
        samples = np.frombuffer(spoken.readframes(spoken.getnframes()), dtype=np.int16) / 32768
    samples = np.interp(np.arange(0, len(samples), rate / RATE), np.arange(len(samples)), samples)
    rng = np.random.default_rng(seed)
    t = np.arange(len(samples)) / RATE
    tone = 0.1 * np.sin(2 * np.pi * (220 + 40 * seed) * t)
    return (0.8 * samples + tone + 0.03 * rng.standard_normal(len(samples))).astype(np.float32)


def clip(path: Path, sound: np.ndarray, picture_seed: int, bitrate: int = 96_000) -> Path:
    """An MP4 of moving shapes (picture_seed) with the sound as AAC."""
    seconds = len(sound) / RATE
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        audio = container.add_stream("aac", rate=RATE)
        audio.bit_rate = bitrate
        audio.layout = "mono"
        for index in range(int(seconds * 10)):
            picture = scene_frame(picture_seed, index / 10, 160, 96)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        for start in range(0, len(sound), 1024):
            chunk = sound[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


WORDS = (
    "This morning the enemy again shelled the border villages, damaging several houses "
    "and the school building. Local residents say the firing began at dawn and went on "
    "until noon."
)
OTHER = (
    "The weather tomorrow will be cloudy with some rain in the mountains and a light wind "
    "from the north, clearing in the evening over the plains."
)


@pytest.fixture(scope="module")
def soundtracks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_tool("fpcalc", "apt-get install libchromaprint-tools")
    folder = tmp_path_factory.mktemp("enrich-audio")
    media = folder / "media"
    media.mkdir()
    sound = speech(WORDS, folder, 1)
    clip(media / "original.mp4", sound, picture_seed=1)
    # Other pictures, the sound from 3 s on, re-encoded at a lower bit rate.
    clip(media / "reused.mp4", sound[3 * RATE :], picture_seed=7, bitrate=48_000)
    clip(media / "unrelated.mp4", speech(OTHER, folder, 2), picture_seed=4)
    return media


def test_the_same_soundtrack_under_other_pictures_is_linked_with_its_offset(
    cli, store: Store, soundtracks: Path
) -> None:
    assert cli("ingest", str(soundtracks)).exit_code == 0
    ran = cli("analyse", "--only", "audio")
    assert ran.exit_code == 0, ran.output
    by_name = {
        a["original_filename"]: a["sha256"] for a in json.loads(cli("assets", "--json").stdout)
    }
    reused = json.loads(cli("show", by_name["reused.mp4"], "--json").stdout)
    (audio,) = [a for a in reused["analyses"] if a["analyser"] == "audio"]
    assert audio["status"] == "ok", audio["error"]
    (match,) = audio["result"]["matches"]
    assert match["sha256"] == by_name["original.mp4"]
    assert abs(match["offset"] - 3.0) < 0.3  # the original's time is 3 s on
    assert reused["footage"], reused["analyses"]
    links = reused["footage"]["links"]
    assert [link["relation"] for link in links] == ["same_audio"]
    unrelated = json.loads(cli("show", by_name["unrelated.mp4"], "--json").stdout)
    (audio,) = [a for a in unrelated["analyses"] if a["analyser"] == "audio"]
    assert audio["result"]["matches"] == [] and unrelated["footage"] is None
    assert "same audio" in cli("show", by_name["reused.mp4"]).stdout
    assert cli("verify").exit_code == 0


def test_alignment_finds_the_shift_with_fewest_differing_bits() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**32, 200, dtype=np.uint32)
    b = np.concatenate([rng.integers(0, 2**32, 25, dtype=np.uint32), a[:150]])
    shift, errors, count = best_alignment(a, b)
    assert (shift, errors, count) == (25, 0.0, 150)
    assert best_alignment(a, rng.integers(0, 2**32, 200, dtype=np.uint32))[1] > 0.4
