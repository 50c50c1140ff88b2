"""Analysis benchmarks: OCR character error rate, language identification, time per minute.

    python benchmarks/analysis.py [--frames 6] [--only ocr,language,speed]

OCR: text in each of the five languages burned into frames of the corpus footage
(../shared/corpus/public-footage, or TESTAMENT_CORPUS), white with a dark outline as
captions are, at 14-48 px, JPEG re-encoded at quality 70; each line is read as
`testament analyse` reads it (candidate lines, then Tesseract with every language loaded)
and the character error rate is the edit distance over the true text's length.
Language: windows of 3-30 words of post-like sentences per language, through the same
detector as `analyse`. Speed: OCR of a 720p corpus clip against decoding it.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

from testament.enrich.language import identify
from testament.enrich.ocr import DEFAULT_LANGS, INTERVAL, Reader, keyframes

CORPUS = Path(os.environ.get("TESTAMENT_CORPUS", "/work/shared/corpus")) / "public-footage"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SIZES = (14, 18, 24, 32, 48)
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


def corpus_frames(count: int) -> list[Image.Image]:
    """One frame from the middle of each of the first `count` corpus videos, at 720p."""
    frames = []
    for path in sorted(CORPUS.rglob("*.mp4"))[:count]:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            target = (stream.frames or 50) // 2
            for index, frame in enumerate(container.decode(stream)):
                if index >= target:
                    frames.append(frame.to_image().convert("RGB").resize((1280, 720)))
                    break
    if not frames:
        raise SystemExit(f"no corpus footage under {CORPUS}")
    return frames


def burned(background: Image.Image, text: str, size: int) -> Image.Image:
    image = background.copy()
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, size)
    y = image.height - 3 * size
    draw.text(
        (40, y), text, font=font, fill="white", stroke_width=max(1, size // 12), stroke_fill="black"
    )
    path = Path("/tmp/testament-bench-ocr.jpg")
    image.save(path, quality=70)
    return Image.open(path).convert("RGB")


def bench_ocr(frames: list[Image.Image]) -> None:
    reader = Reader(DEFAULT_LANGS)
    print("\nOCR character error rate (all five languages loaded at once)")
    print("| language | " + " | ".join(f"{s} px" for s in SIZES) + " |")
    print("|---" * (len(SIZES) + 1) + "|")
    for language, texts in TEXTS.items():
        row = []
        for size in SIZES:
            errors = chars = 0
            for frame in frames:
                for text in texts:
                    lines = reader.lines(burned(frame, text, size))
                    bottom = [line for line in lines if line.box[1] > 0.6]
                    read = " ".join(
                        line.text for line in sorted(bottom, key=lambda found: found.box[0])
                    )
                    errors += min(edit_distance(read, text), len(text))
                    chars += len(text)
            row.append(f"{100 * errors / chars:.1f}%")
        print(f"| {language} | " + " | ".join(row) + " |")
    reader.close()


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


def bench_speed() -> None:
    clips = [p for p in sorted(CORPUS.rglob("*.mp4"))]
    clip = next(p for p in clips if av.open(str(p)).streams.video[0].height >= 700)
    start = time.perf_counter()
    with av.open(str(clip)) as container:
        duration = float(container.duration or 0) / 1e6
        for _ in container.decode(video=0):
            pass
    decode = time.perf_counter() - start
    reader = Reader(DEFAULT_LANGS)
    start = time.perf_counter()
    for _, image in keyframes(clip, INTERVAL):
        reader.lines(image)
    ocr = time.perf_counter() - start
    print(f"\nSpeed on {clip.name} ({duration:.1f} s, 720p or more)")
    print("| analyser | seconds per minute of video | ratio to decoding |")
    print("|---|---|---|")
    print(f"| decoding | {60 * decode / duration:.1f} | 1.0 |")
    print(f"| ocr (1 keyframe/s) | {60 * ocr / duration:.1f} | {ocr / decode:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6, help="corpus frames behind the text")
    parser.add_argument("--only", default="ocr,language,speed")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    if "language" in chosen:
        bench_language()
    if "ocr" in chosen:
        bench_ocr(corpus_frames(args.frames))
    if "speed" in chosen:
        bench_speed()


if __name__ == "__main__":
    main()
