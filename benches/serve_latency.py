#!/usr/bin/env python3
"""How long an edit of one post takes to reach the browser under `sitrep serve`.

    benches/serve_latency.py SITREP_BIN SITE_DIR [--edits 10]

Starts `sitrep serve` on an ephemeral loopback port, listens to its reload events the way
the live-reload script does, then edits posts (a sentence appended to the body, and a title
change, alternately) and measures, for each edit, the time from the file write to
  * the reload event (what makes the browser reload), and
  * the edited page served with the edit in it.
The site is restored afterwards. Python 3 standard library only.
"""
import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sitrep")
    ap.add_argument("site")
    ap.add_argument("--edits", type=int, default=10)
    a = ap.parse_args()

    posts_dir = os.path.join(a.site, "content", "posts")
    posts = sorted(f for f in os.listdir(posts_dir) if f.endswith(".md"))
    out = tempfile.mkdtemp(prefix="sitrep-serve-bench-")
    proc = subprocess.Popen(
        [a.sitrep, "serve", "--root", a.site, "--port", "0", "--output", os.path.join(out, "site")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    originals = {}
    lines = []
    try:
        addr = None
        start = time.monotonic()
        for line in proc.stdout:
            lines.append(line.rstrip())
            m = re.search(r"at http://([0-9.]+):(\d+)/", line)
            if m:
                addr = (m.group(1), int(m.group(2)))
                break
        if addr is None:
            sys.exit("serve did not start:\n" + "\n".join(lines))
        print(f"first build and start: {time.monotonic() - start:.2f} s")
        threading.Thread(target=lambda: [lines.append(l.rstrip()) for l in proc.stdout], daemon=True).start()

        events = []
        cond = threading.Condition()

        def listen():
            conn = http.client.HTTPConnection(*addr, timeout=600)
            conn.request("GET", "/__sitrep/events", headers={"Host": f"{addr[0]}:{addr[1]}"})
            resp = conn.getresponse()
            while True:
                line = resp.fp.readline()
                if not line:
                    return
                if line.startswith(b"data:"):
                    with cond:
                        events.append((time.monotonic(), line[5:].strip().decode()))
                        cond.notify_all()

        threading.Thread(target=listen, daemon=True).start()
        with cond:
            cond.wait_for(lambda: events, timeout=30)
        time.sleep(0.3)  # let the watcher settle

        def get(path):
            conn = http.client.HTTPConnection(*addr, timeout=60)
            conn.request("GET", path, headers={"Host": f"{addr[0]}:{addr[1]}"})
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace")

        to_event, to_page = [], []
        for n in range(a.edits):
            name = posts[(len(posts) // 2 + 37 * n) % len(posts)]
            path = os.path.join(posts_dir, name)
            text = originals.setdefault(path, open(path, encoding="utf-8").read())
            marker = f"edited-{n}-{os.getpid()}"
            if n % 2 == 0:
                new = text.rstrip("\n") + f"\n\nA sentence added for the benchmark ({marker}).\n"
            else:
                new = re.sub(r'^title: "(.*)"$', lambda m: f'title: "{m.group(1)} {marker}"', text, count=1, flags=re.M)
            with cond:
                seen = len(events)
            t0 = time.monotonic()
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            with cond:
                if not cond.wait_for(lambda: len(events) > seen, timeout=120):
                    sys.exit("no reload event within 120 s\n" + "\n".join(lines[-20:]))
                t_event = events[seen][0]
            slug = name[:-3]
            while True:
                status, body = get(f"/posts/{slug}/")
                if marker in body:
                    break
                if time.monotonic() - t0 > 120:
                    sys.exit(f"the edit never showed on /posts/{slug}/ (status {status})")
            t_page = time.monotonic()
            to_event.append((t_event - t0) * 1000)
            to_page.append((t_page - t0) * 1000)
            kind = "body" if n % 2 == 0 else "title"
            print(f"edit {n + 1:2} ({kind:5}): reload event after {to_event[-1]:7.1f} ms, page served after {to_page[-1]:7.1f} ms")
            time.sleep(0.2)
        for label, xs in (("reload event", to_event), ("edited page served", to_page)):
            print(f"{label}: median {statistics.median(xs):.1f} ms, min {min(xs):.1f}, max {max(xs):.1f} (n={len(xs)})")
        rebuilds = [l for l in lines if l.startswith("rebuilt in")]
        print("serve's own rebuild times:", ", ".join(l.split()[-2] + " ms" for l in rebuilds[-a.edits:]))
    finally:
        for path, text in originals.items():
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
