"""Speech: a Whisper model from the folder the user names, loaded and run for real.

The model is a tiny, randomly initialised one that tests/whisper_model.py builds, so the
real loading, voice-activity, language-detection and decoding path runs; its words are
meaningless, so the tests check times, records, search and display, never the words.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from testament.enrich.speech import MODEL_ENV, Speech, clamp
from testament.store import Store
from tests.test_enrich_audio import RATE, clip, speech
from tests.whisper_model import build

SAID = "The convoy crossed the bridge at dawn and turned towards the village."
SILENCE = 2.0  # seconds before the voice starts


@pytest.fixture(scope="session")
def whisper_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("whisper") / "tiny-random-whisper")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A video whose sound is silence, then espeak-ng's voice; and a silent-picture still."""
    folder = tmp_path_factory.mktemp("enrich-speech")
    media = folder / "media"
    media.mkdir()
    voice = speech(SAID, folder, 1)
    sound = np.concatenate([np.zeros(int(SILENCE * RATE), np.float32), voice])
    clip(media / "spoken.mp4", sound, picture_seed=3)
    return media


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, whisper_folder: Path) -> Path:
    """The model configured, the hub switched off and an empty home: a download would fail."""
    home = tmp_path / "empty-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setenv(MODEL_ENV, str(whisper_folder))
    return home


@pytest.fixture
def transcribed(cli, store: Store, spoken: Path, offline: Path) -> str:
    assert cli("ingest", str(spoken)).exit_code == 0
    ran = cli("analyse", "--only", "speech,language")
    assert ran.exit_code == 0, ran.output
    assert "speech: ok" in ran.output, ran.output
    (asset,) = json.loads(cli("assets", "--json").stdout)
    return asset["sha256"]


def _speech(cli, sha256: str) -> dict:
    record = json.loads(cli("show", sha256, "--json").stdout)
    (found,) = [a for a in record["analyses"] if a["analyser"] == "speech"]
    return found | {"custody": record["custody"]}


def test_speech_is_transcribed_recorded_searchable_and_shown(
    cli, store: Store, transcribed: str, offline: Path
) -> None:
    """One transcription (the slow part) checked for each thing it feeds."""
    _check_record(cli, transcribed, offline)
    _check_search_and_show(cli, transcribed)
    _check_transcript_language(cli, transcribed)
    _check_asset_page(store, transcribed, cli)


def _check_record(cli, transcribed: str, offline: Path) -> None:
    found = _speech(cli, transcribed)
    assert found["status"] == "ok", found["error"]
    result = found["result"]
    duration = result["duration"]
    assert duration == pytest.approx(SILENCE + 4.5, abs=1.5)
    # The voice-activity detector left the silence out.
    assert 0 < result["speech_seconds"] < duration - 1.0
    assert result["segments"]
    for segment in result["segments"]:
        assert 0 <= segment["start"] < segment["end"] <= duration
        assert segment["text"]
    assert len(result["language"]) in (2, 3) and 0 < result["language_probability"] <= 1
    assert result["text"] == "\n".join(s["text"] for s in result["segments"])
    assert result["decoding"] == {"beam_size": 5, "temperature": 0.0, "vad_filter": True}
    assert found["tool"] == "faster-whisper"
    assert found["version"].startswith("1.2.1 ctranslate2 4.8.5 model ")
    assert found["model"].startswith("tiny-random-whisper (model.bin sha256 ")
    events = [e for e in found["custody"] if e["action"] == "analysed"]
    assert any(e["details"]["analyser"] == "speech" for e in events)
    assert not (offline / ".cache" / "huggingface").exists(), "nothing fetched from a hub"


def _check_search_and_show(cli, transcribed: str) -> None:
    segment = _speech(cli, transcribed)["result"]["segments"][0]
    word = segment["text"].split()[0]
    found = cli("search", word)
    assert found.exit_code == 0 and transcribed[:12] in found.stdout, found.output
    shown = cli("show", transcribed).stdout
    assert "transcript segment" in shown and "spoken language" in shown
    assert f"{segment['start']:.1f}–{segment['end']:.1f}s “{segment['text']}”" in shown


def _check_transcript_language(cli, transcribed: str) -> None:
    record = json.loads(cli("show", transcribed, "--json").stdout)
    (language,) = [a for a in record["analyses"] if a["analyser"] == "language"]
    assert [t["source"] for t in language["result"]["texts"]] == ["transcript"]


def _check_asset_page(store: Store, transcribed: str, cli) -> None:
    from tests.web_support import client, login, make_user

    segments = _speech(cli, transcribed)["result"]["segments"]
    make_user(store, "reader", "viewer")
    browser = client(store)
    login(browser, "reader")
    page = browser.get(f"/assets/{transcribed}")
    assert page.status_code == 200
    assert "Transcript" in page.text
    assert f'data-seek="{segments[0]["start"]}"' in page.text


def test_no_model_is_one_line_and_the_rest_carry_on(
    cli, store: Store, spoken: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert cli("ingest", str(spoken)).exit_code == 0
    ran = cli("analyse", "--only", "speech,language")
    assert ran.exit_code == 0, ran.output
    lines = [line for line in ran.output.splitlines() if "speech:" in line]
    assert len(lines) == 1 and f"set {MODEL_ENV}" in lines[0], ran.output
    assert "language: ok" in ran.output
    monkeypatch.setenv(MODEL_ENV, str(tmp_path))
    assert Speech().missing() == (
        f"speech: {tmp_path} is not a faster-whisper model folder "
        "(no model.bin, config.json, tokenizer.json)"
    )


def test_times_past_the_end_of_the_sound_are_cut_to_it() -> None:
    segments = [
        {"start": 0.5, "end": 2.0, "text": "a"},
        {"start": 2.5, "end": 9.0, "text": "b"},
        {"start": 4.0, "end": 6.0, "text": "c"},
        {"start": 1.0, "end": 1.5, "text": ""},
    ]
    assert clamp(segments, 3.0) == [
        {"start": 0.5, "end": 2.0, "text": "a"},
        {"start": 2.5, "end": 3.0, "text": "b"},
    ]


def test_sound_that_cannot_be_decoded_is_an_analysis_error(tmp_path: Path, offline: Path) -> None:
    """The error the runner records as this asset's failure, never a traceback."""
    from testament.enrich.analyser import AnalysisError
    from tests.media import make_corrupt_video

    broken = make_corrupt_video(tmp_path / "broken.mp4")
    with pytest.raises(AnalysisError, match=r"cannot decode the sound of broken\.mp4"):
        Speech().analyse(None, broken, None)  # type: ignore[arg-type]


def test_transcribing_again_gives_the_same_transcript(spoken: Path, offline: Path) -> None:
    """Whisper's fallback to sampling once gave other words, or none, on each run."""
    speech = Speech()
    first, second = (speech.analyse(None, spoken / "spoken.mp4", None) for _ in range(2))  # type: ignore[arg-type]
    assert first.result["segments"] and first.result == second.result
