"""The report page on real models (issue 11, "Measure and document"): time ``lla report`` and take
screenshots of the page in headless chromium (the browser of the report's test).

    python benchmarks/report_example.py MODEL_DIR [MODEL_DIR ...] --out DIR [--corpus CORPUS]
        [--shots DIR] [--repeats 3]

Writes DIR/report.html (``lla report``'s output), prints the generation time of each repeat
(wall seconds, the whole command in this process: loading the models, scoring, prediction for
the histories, the figures, the HTML) and, with ``--shots``, PNG screenshots: the top of the
page, the first model's figures, the histories table and the matched-topics table (whichever
exist).  Needs chromium and chromium-driver (Debian packages) and selenium (test extra).
"""

import argparse
import base64
import shutil
import tempfile
import time
from pathlib import Path

from lla.cli.main import main as lla_main

WIDTH = 1400
#: name → CSS selector of the element shown (the last match: the last model's, e.g. topic-LLA's
#: histories with their topic paths when the models are given as LDA ... topic-LLA)
SECTIONS = {"top": None, "figures": "div.figures", "histories": "table.histories",
            "pairs": "table.pairs", "topics": "table.topics"}


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tempfile.mkdtemp()}", f"--window-size={WIDTH},1000"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))


def screenshots(page, out_dir, height=900):
    """PNG of the page top and of the last element of each section (``height`` px from its
    top)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    driver = browser()
    try:
        driver.get(page.resolve().as_uri())
        for name, selector in SECTIONS.items():
            top = 0 if selector is None else driver.execute_script(
                "const all = document.querySelectorAll(arguments[0]);"
                "const e = all.length ? all[all.length - 1] : null;"
                "return e ? e.getBoundingClientRect().top + window.scrollY : null;", selector)
            if top is None:
                continue
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": max(0, int(top) - 40), "width": WIDTH, "height": height,
                         "scale": 0.75}})
            path = out_dir / f"report_{name}.png"
            path.write_bytes(base64.b64decode(shot["data"]))
            print(f"wrote {path}")
    finally:
        driver.quit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--shots")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--exclude-history", action="store_true")
    args = ap.parse_args()
    argv = ["report", *args.models, "--out", args.out, "--force"]
    if args.corpus:
        argv += ["--corpus", args.corpus]
    if args.exclude_history:
        argv.append("--exclude-history")
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        code = lla_main(argv)
        times.append(time.perf_counter() - start)
        if code != 0:
            raise SystemExit(code)
    print("lla report seconds per repeat: " + ", ".join(f"{t:.2f}" for t in times))
    page = Path(args.out) / "report.html"
    print(f"{page}: {page.stat().st_size / 1e6:.2f} MB")
    if args.shots:
        screenshots(page, Path(args.shots))


if __name__ == "__main__":
    main()
