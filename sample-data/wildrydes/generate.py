#!/usr/bin/env python3
"""Wild Rydes unicorn telemetry as JSON lines, the shape of the Amazon
Kinesis Data Firehose / Athena tutorial (`wildrydes` table). Seeded.

  generate.py OUT_FILE [--lines N]

The checked-in sample is `generate.py data/rydes.json --lines 1000`. For a
benchmark-sized input: `--lines 7000000` (about 1.1 GiB).
"""
import argparse
import os
import random

UNICORNS = ["Shadowfax", "Rocinante", "Bucephalus", "Moonbeam", "Kismet", "Sparkles", "Thunder",
            "Stardust", "Blaze", "Willow"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2017)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as fh:
        for _ in range(a.lines):
            fh.write('{"Name":"%s","StatusTime":"2017-11-%02d %02d:%02d:%02d.%03d","Latitude":%.6f,'
                     '"Longitude":%.6f,"Distance":%.1f,"HealthPoints":%d,"MagicPoints":%d}\n' % (
                         rng.choice(UNICORNS), rng.randrange(1, 31), rng.randrange(24), rng.randrange(60),
                         rng.randrange(60), rng.randrange(1000), 40 + rng.random() * 8, -75 + rng.random() * 8,
                         rng.random() * 200, rng.randrange(100, 200), rng.randrange(100, 200)))


if __name__ == "__main__":
    main()
