#!/usr/bin/env python3
"""CloudFront access logs in the classic (web distribution) format that the
Amazon EMR Hive tutorial reads with RegexSerDe: tab-separated fields

  date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem
  sc-status cs(Referer) cs(User-Agent) cs-uri-query

with `#Version` / `#Fields` header lines at the top of each file, gzipped as
CloudFront delivers them. Seeded, so the same arguments give the same files.

  generate.py OUT_DIR [--files N] [--lines-per-file N] [--plain]

The checked-in sample is `generate.py data --files 3 --lines-per-file 400`.
For a benchmark-sized input: `generate.py /tmp/cf --files 8 --lines-per-file 500000 --plain`
(about 1.1 GiB).
"""
import argparse
import gzip
import os
import random

EDGES = ["DFW3", "LHR3", "NRT12", "FRA2", "IAD53", "SFO5", "SIN2", "GRU1"]
OSES = [
    ("Windows", "Windows%20NT%206.1"),
    ("MacOS", "Intel%20Mac%20OS%20X%2010_9_3"),
    ("Linux", "X11%20Linux%20x86_64"),
    ("iOS", "CPU%20iPhone%20OS%207_1_2%20like%20Mac%20OS%20X"),
    ("Android", "Linux%20Android%204.4.2"),
]
BROWSERS = ["Chrome", "Firefox", "Safari", "IE", "Opera", "Edge"]
PATHS = ["/test-image-1.jpeg", "/test-image-2.jpeg", "/index.html", "/api/v1/items", "/video/intro.mp4"]
HEADER = ("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
          "sc-status cs(Referer) cs(User-Agent) cs-uri-query\n")


def line(rng):
    os_name, platform = rng.choice(OSES)
    browser = rng.choice(BROWSERS)
    version = "%d.%d.%d" % (rng.randrange(3, 40), rng.randrange(10), rng.randrange(2000))
    agent = ("Mozilla/5.0%%20(%s;%%20U;%%20%s;%%20en-US;%%20rv:1.9.0.9)%%20AppleWebKit/537.36"
             "%%20(KHTML,%%20like%%20Gecko)%%20%s/%s" % (os_name, platform, browser, version))
    day = rng.randrange(62)  # 2014-07-01 .. 2014-08-31
    date = "2014-%02d-%02d" % (7 + day // 31, day % 31 + 1)
    return "\t".join([
        date,
        "%02d:%02d:%02d" % (rng.randrange(24), rng.randrange(60), rng.randrange(60)),
        rng.choice(EDGES),
        str(rng.randrange(100, 500000)),
        "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        rng.choice(["GET", "GET", "GET", "HEAD", "POST"]),
        "d111111abcdef8.cloudfront.net",
        rng.choice(PATHS),
        rng.choice(["200", "200", "200", "304", "404", "500"]),
        "-",
        agent,
        rng.choice(["-", "id=%d" % rng.randrange(10000), "ref=home"]),
    ]) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--lines-per-file", type=int, default=400)
    ap.add_argument("--plain", action="store_true", help="write .log files instead of .gz")
    ap.add_argument("--seed", type=int, default=20140705)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    for f in range(a.files):
        text = HEADER + "".join(line(rng) for _ in range(a.lines_per_file))
        name = os.path.join(a.out, "E2EXAMPLE.2014-07-05-%02d.%s" % (f, "log" if a.plain else "gz"))
        if a.plain:
            with open(name, "w") as fh:
                fh.write(text)
        else:
            with gzip.GzipFile(name, "wb", mtime=0) as fh:
                fh.write(text.encode())


if __name__ == "__main__":
    main()
