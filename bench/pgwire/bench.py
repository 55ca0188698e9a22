"""The wire endpoint against PostgreSQL 15, in one run, same client (psycopg 3).

    python bench/pgwire/bench.py --hiveql target/release/hiveql [--rows 1000000] [--stream-rows 10000000]

Starts a throw-away PostgreSQL 15 (initdb in a temp dir, loopback, trust; as
the `postgres` user when run as root) and `hiveql serve --auth trust` on a
temp home, loads the same rows into both, and prints:

- `SELECT 1` round trips over the extended and the simple protocol: median and p99 latency;
- a ROWS-row, 5-column result fetched with psycopg in binary, and with
  `COPY (SELECT ...) TO STDOUT` read by psycopg and by psql: rows/s, the median of three
  fetches taken in turns, and (for psycopg) the CPU time the serving process spent per row
  (PostgreSQL's backend; hiveql's whole server, its scan included), from /proc;
- the hiveql server's peak RSS while one client streams STREAM_ROWS rows
  (and while it streams a tenth of that: it must not grow with the result).
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def as_postgres(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


def start_postgres(work):
    data = os.path.join(work, "pgdata")
    os.makedirs(data)
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "bench"]),
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(work, "pg.log"), "-w", "start",
                                "-o", f"-p {port} -k {work} -c listen_addresses=127.0.0.1"]),
                   check=True, stdout=subprocess.DEVNULL)
    return port, data


def stop_postgres(data):
    subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_hiveql(binary, home):
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--auth", "trust", "--port", str(port)],
                            env=dict(os.environ, HIVEQL_HOME=home), stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(home, "serve.log"), "w"))
    wait_port(port)
    return port, proc


def load(rows, work, pg_port, hq_port):
    csv = os.path.join(work, "t.csv")
    with open(csv, "w") as f:
        for i in range(1, rows + 1):
            f.write(f"{i},{i % 1000},{i * 0.5},row{i},2024-{1 + i % 12:02d}-{1 + i % 28:02d}\n")
    os.chmod(work, 0o755)
    os.chmod(csv, 0o644)
    with psycopg.connect(host="127.0.0.1", port=pg_port, user="bench", dbname="postgres", autocommit=True) as c:
        c.execute("CREATE TABLE t (id bigint, a int, b float8, s text, d date)")
        with c.cursor().copy("COPY t FROM STDIN WITH (FORMAT csv)") as cp:
            with open(csv, "rb") as f:
                while chunk := f.read(1 << 20):
                    cp.write(chunk)
        c.execute("VACUUM ANALYZE t")
    with psycopg.connect(host="127.0.0.1", port=hq_port, user="bench", dbname="default", autocommit=True) as c:
        c.execute("CREATE TABLE t_csv (id BIGINT, a INT, b DOUBLE, s STRING, d DATE) "
                  "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','")
        c.execute(f"LOAD DATA LOCAL INPATH '{csv}' INTO TABLE t_csv")
        c.execute("CREATE TABLE t STORED AS PARQUET AS SELECT * FROM t_csv")


def round_trips(port, db, n, extended):
    """`SELECT 1` latency; `extended`: Parse/Bind/Describe/Execute/Sync each time (psycopg sends the
    simple protocol's Query for a text cursor without parameters, the extended one for a binary cursor)."""
    with psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname=db, autocommit=True) as c:
        cur = c.cursor(binary=extended)
        for _ in range(50):
            cur.execute("SELECT 1", prepare=False)
            cur.fetchone()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            cur.execute("SELECT 1", prepare=False)
            cur.fetchone()
            times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6


def cpu_seconds(pid):
    """User plus system CPU time of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(c, pid):
    """The process serving connection `c`: PostgreSQL's backend, or hiveql's server (`pid`)."""
    return pid or c.execute("SELECT pg_backend_pid()").fetchone()[0]


def fetch_binary(port, db, rows, pid):
    """rows/s, and the serving process's CPU seconds, of a binary fetch of the whole table."""
    with psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname=db, autocommit=True) as c:
        spid = server_pid(c, pid)
        cur = c.cursor(binary=True)
        cpu = cpu_seconds(spid)
        t = time.perf_counter()
        cur.execute("SELECT id, a, b, s, d FROM t")
        n = 0
        while batch := cur.fetchmany(10000):
            n += len(batch)
        took = time.perf_counter() - t
        cpu = cpu_seconds(spid) - cpu
    assert n == rows, n
    return rows / took, cpu


def copy_out(port, db, rows, pid):
    """rows/s, and the serving process's CPU seconds, of `COPY (SELECT ...) TO STDOUT`."""
    with psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname=db, autocommit=True) as c:
        spid = server_pid(c, pid)
        cpu = cpu_seconds(spid)
        t = time.perf_counter()
        n = 0
        with c.cursor().copy("COPY (SELECT id, a, b, s, d FROM t) TO STDOUT") as cp:
            for data in cp:
                n += bytes(data).count(b"\n")
        took = time.perf_counter() - t
        cpu = cpu_seconds(spid) - cpu
    assert n == rows, n
    return rows / took, cpu


def copy_out_psql(port, db, rows, pid):
    """rows/s of `COPY (SELECT ...) TO STDOUT` read by psql (C, libpq) into a pipe: what the
    server sends when the client is not a Python loop over one message a row. The CPU time is
    not taken (psql's own connection has no backend pid to ask for)."""
    t = time.perf_counter()
    out = subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "bench", "-d", db,
                          "-c", "COPY (SELECT id, a, b, s, d FROM t) TO STDOUT"],
                         stdout=subprocess.PIPE, check=True).stdout
    took = time.perf_counter() - t
    n = out.count(b"\n")
    assert n == rows, n
    return rows / took, None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stream_peak_rss(port, pid, rows, base_rows):
    """Peak RSS (MiB) of the server while a client reads `rows` rows through a server-side cursor."""
    copies = max(1, rows // base_rows)
    peak = [rss_kib(pid)]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    before = rss_kib(pid)
    n = 0
    t = time.perf_counter()
    with psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname="default") as c:
        with c.cursor(name="stream", binary=True) as cur:
            cur.itersize = 10000
            reps = ",".join(str(i) for i in range(copies))
            cur.execute(f"SELECT t.id, t.a, t.b, t.s, t.d, r FROM t LATERAL VIEW explode(array({reps})) x AS r")
            for _ in cur:
                n += 1
    took = time.perf_counter() - t
    done.set()
    return before / 1024, peak[0] / 1024, n, n / took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hiveql", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--stream-rows", type=int, default=10_000_000)
    ap.add_argument("--roundtrips", type=int, default=2000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pgwire-bench-")
    home = os.path.join(work, "home")
    os.makedirs(home)
    pg_port, pg_data = start_postgres(work)
    hq_port, hq = start_hiveql(os.path.abspath(args.hiveql), home)
    try:
        load(args.rows, work, pg_port, hq_port)
        print(f"rows={args.rows} stream_rows={args.stream_rows} roundtrips={args.roundtrips}")
        for extended, protocol in ((True, "extended"), (False, "simple")):
            for name, port, db in (("postgresql", pg_port, "postgres"), ("hiveql", hq_port, "default")):
                med, p99 = round_trips(port, db, args.roundtrips, extended)
                print(f"{name:10} SELECT 1 round trip ({protocol:8}): median {med:7.1f} us  p99 {p99:7.1f} us")
        # the median of three, taken in turns: one fetch moves with what else the two cores do
        # the client (a Python loop over one message a row) can be the limit for both servers;
        # the serving process's CPU time per row is what the server itself spends
        for what, run in (("fetch {} rows, binary", fetch_binary), ("COPY {} rows TO STDOUT", copy_out),
                          ("COPY {} rows TO STDOUT (psql)", copy_out_psql)):
            rates = {"postgresql": [], "hiveql": []}
            cpus = {"postgresql": [], "hiveql": []}
            for _ in range(3):
                for name, port, db, pid in (("postgresql", pg_port, "postgres", None), ("hiveql", hq_port, "default", hq.pid)):
                    rate, cpu = run(port, db, args.rows, pid)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
            for name, r in rates.items():
                runs = ", ".join(f"{x:,.0f}" for x in r)
                cpu = "" if None in cpus[name] else \
                    f"; server CPU {statistics.median(cpus[name]) * 1e9 / args.rows:,.0f} ns/row"
                print(f"{name:10} {what.format(args.rows)}: {statistics.median(r):12,.0f} rows/s (median of {runs}){cpu}")
        for rows in (args.stream_rows // 10, args.stream_rows):
            before, peak, n, rate = stream_peak_rss(hq_port, hq.pid, rows, args.rows)
            print(f"hiveql     stream {n} rows (server-side cursor): RSS before {before:.0f} MiB, "
                  f"peak {peak:.0f} MiB, {rate:,.0f} rows/s")
    finally:
        hq.kill()
        stop_postgres(pg_data)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
