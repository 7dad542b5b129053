"""Embedding throughput of the numpy all-MiniLM-L6-v2 encoder (services/discovery/embedding).

Texts are creator texts as the worker builds them (text.embedding_text: bio, niches, up to 12
captions) drawn from niche vocabularies, with mixed lengths: short bios alone, a few captions,
and long histories past the model's 256 word pieces. Prints texts/s at several batch sizes and
BLAS thread counts, beside two baselines from the same run: batch size 1 (no batching) and the
tokenizer alone (the floor no forward pass can beat), plus the memory of the loaded model.

    .venv/bin/python bench/embedding.py                    # 256 texts
    .venv/bin/python bench/embedding.py --texts 128 --threads 1
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402
from services.discovery.creator.text import embedding_text  # noqa: E402
from services.discovery.embedding.encoder import Encoder  # noqa: E402

NICHES = {
    "food": "vegan baking sourdough recipe brunch dessert meal prep gluten-free cake cookies kitchen dinner",
    "fitness": "workout gym hiit squat deadlift protein running marathon yoga mobility stretch gains",
    "travel": "backpacking hostel flight beach island roadtrip hiking itinerary budget city guide sunset",
    "beauty": "skincare serum makeup foundation lipstick routine glow spf retinol haircare nails",
    "gaming": "stream valorant fortnite speedrun console pc build controller esports patch update clip",
    "finance": "budget invest stocks etf index fund saving debt mortgage retirement crypto tax",
    "parenting": "toddler newborn school lunchbox bedtime family kids mum dad routine playdate homework",
    "tech": "smartphone review laptop unboxing camera gadget headphones setup desk keyboard battery",
}
TAGS = "#ad #sponsored #love #instagood #reels #fyp #tutorial #tips #weekend #newpost".split()


def creator_text(rng: random.Random) -> str:
    niche = rng.choice(list(NICHES))
    words = NICHES[niche].split()
    bio = " ".join(rng.choices(words, k=rng.randint(4, 14))).capitalize() + " | " + rng.choice(["DM for collabs", "📍 London", "she/her", "✨ new video every week"])
    n_captions = rng.choice([0, 1, 3, 6, 12])
    captions = [
        " ".join(rng.choices(words, k=rng.randint(5, 40))) + " " + " ".join(rng.sample(TAGS, rng.randint(0, 4)))
        for _ in range(n_captions)
    ]
    return embedding_text(bio, [niche], captions)


def rate(encoder: Encoder, texts: list[str]) -> float:
    encoder.encode(texts[:8])  # warm: first-call allocations
    started = time.perf_counter()
    encoder.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[8, 32, 64])
    args = parser.parse_args()

    rng = random.Random(7)
    texts = [creator_text(rng) for _ in range(args.texts)]
    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    encoder = Encoder(threads=args.threads[0])
    loaded = process.memory_info().rss
    # Recorded: the encoder's default batch (the service's EMBEDDING_ENCODE_BATCH), else the first size asked for.
    headline = encoder.batch_size if encoder.batch_size in args.batch_sizes else next(iter(args.batch_sizes), None)
    lengths = sorted(len(ids) for ids in encoder.tokenize(texts))
    print(f"texts: {len(texts)}, word pieces per text p50 {lengths[len(lengths) // 2]}, "
          f"p90 {lengths[int(len(lengths) * 0.9)]}, max {lengths[-1]} (cut at {encoder.max_seq_length})")
    print(f"model loaded: {(loaded - before) / 2**20:.0f} MiB resident")
    record("model resident", (loaded - before) / 2**20, "MiB")

    started = time.perf_counter()
    encoder.tokenize(texts)
    print(f"baseline tokenizer only: {len(texts) / (time.perf_counter() - started):,.0f} texts/s")
    for threads in args.threads:
        encoder.threads = threads
        encoder.batch_size = 1
        single = rate(encoder, texts)
        print(f"baseline batch 1, {threads} thread(s): {single:.1f} texts/s")
        for batch in args.batch_sizes:
            encoder.batch_size = batch
            texts_per_s = rate(encoder, texts)
            print(f"batch {batch}, {threads} thread(s): {texts_per_s:.1f} texts/s")
            if batch == headline:
                record(f"embedding, batch {batch}, {threads} thread(s)", texts_per_s, "texts/s", better="higher",
                       baseline="batch 1", baseline_value=single, note=f"{len(texts)} texts")
    print(f"peak resident: {process.memory_info().rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
