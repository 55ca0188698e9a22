#!/usr/bin/env python3
"""Generate hiveql's sample datasets (deterministic).

    python3 sample-data/generate.py                 # the small committed samples
    python3 sample-data/generate.py --views 5000000 --out /tmp/big   # larger copies

page_views/  tab-separated web page views with a header line (external table)
users/       Hive's default text format: \\001 fields, \\002 collection items,
             \\003 map keys, \\N for NULL; nested ARRAY and MAP columns
"""
import argparse
import datetime
import os
import random

COUNTRIES = ["US", "DE", "FR", "JP", "BR", "IN", "GB", "CA"]
PAGES = ["/", "/pricing", "/docs", "/docs/sql", "/docs/serde", "/blog", "/blog/hive-to-hiveql", "/signup", "/login", "/download"]
REFERRERS = ["https://www.google.com/", "https://news.ycombinator.com/", "https://github.com/", "-", "https://twitter.com/"]
INTERESTS = ["sql", "spark", "hive", "rust", "python", "bi", "etl", "ml"]
FIRST = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Edsger", "Donald", "Margaret", "Dennis", "Frances", "John", "Radia"]
LAST = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Dijkstra", "Knuth", "Hamilton", "Ritchie", "Allen", "Backus", "Perlman"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--views", type=int, default=2000)
    ap.add_argument("--users", type=int, default=120)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    rnd = random.Random(42)
    os.makedirs(os.path.join(a.out, "page_views"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "users"), exist_ok=True)
    start = datetime.datetime(2024, 3, 1)
    with open(os.path.join(a.out, "page_views", "views.tsv"), "w") as f:
        f.write("view_time\tuser_id\tpage_url\treferrer\tcountry\tduration_ms\n")
        for i in range(a.views):
            t = start + datetime.timedelta(seconds=rnd.randrange(0, 14 * 86400))
            dur = str(rnd.randrange(50, 30000)) if rnd.random() > 0.02 else "-"
            f.write("\t".join([t.strftime("%Y-%m-%d %H:%M:%S"), str(rnd.randrange(1, a.users + 1)), rnd.choice(PAGES),
                               rnd.choice(REFERRERS), rnd.choice(COUNTRIES), dur]) + "\n")
    with open(os.path.join(a.out, "users", "users.txt"), "w") as f:
        for u in range(1, a.users + 1):
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
            signup = (datetime.date(2020, 1, 1) + datetime.timedelta(days=rnd.randrange(0, 1500))).isoformat()
            interests = "\x02".join(rnd.sample(INTERESTS, rnd.randrange(0, 4)))
            attrs = {"plan": rnd.choice(["free", "pro", "team"]), "country": rnd.choice(COUNTRIES)}
            if rnd.random() < 0.3:
                attrs["referral"] = rnd.choice(["ads", "friend", "search"])
            attr_text = "\x02".join(f"{k}\x03{v}" for k, v in attrs.items())
            email = f"user{u}@example.com" if rnd.random() > 0.1 else "\\N"
            f.write("\x01".join([str(u), name, email, signup, interests, attr_text]) + "\n")


if __name__ == "__main__":
    main()
