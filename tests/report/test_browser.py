"""The report page in a real headless browser: Debian's chromium driven by selenium.

Skips (with the reason) only where no browser is installed; ``.ci/run`` installs
``chromium chromium-driver`` so CI always runs it.
"""

import io
import shutil

import numpy as np
import pytest

from lla.report import write_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no headless browser installed: `apt-get install -y chromium "
                    "chromium-driver` (Debian; .ci/run does this)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium (the 'test' extra) is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, sample_report, tmp_path_factory):
    path = write_html(sample_report, tmp_path_factory.mktemp("report") / "report.html")
    browser.get(path.resolve().as_uri())
    return browser


def _errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_console_capture_has_power(browser, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script>"
                   "</body></html>", encoding="utf-8")
    browser.get(bad.as_uri())
    assert any("undefinedFunction" in e["message"] for e in _errors(browser))


def test_loads_without_console_errors(page, sample_report):
    assert page.title == sample_report.title
    assert _errors(page) == []
    state = page.execute_script("return document.readyState")
    assert state == "complete"


def test_tables_and_figures_present(page, sample_report):
    n_tables = page.execute_script("return document.querySelectorAll('table').length")
    assert n_tables == 6
    images = page.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(images) == 6 and all(done and width > 100 for done, width in images)
    rows = page.execute_script(
        "return document.querySelectorAll('table.topics')[0].tBodies[0].rows.length")
    assert rows == len(sample_report.models[0].topics)
    # the hostile user name is shown as text, not run
    assert page.execute_script("return typeof window.alert") == "function"
    text = page.execute_script("return document.querySelector('table.histories').innerText")
    assert '<script>alert("x")</script>' in text


def _column(page, table_css, col):
    return page.execute_script(
        "var t = document.querySelector(arguments[0]);"
        "return Array.from(t.tBodies[0].rows).filter(r => !r.hidden)"
        ".map(r => r.cells[arguments[1]].getAttribute('data-value'));", table_css, col)


def test_sorting(page):
    table = "table.topics"
    headers = page.find_elements("css selector", f"{table} thead th")
    npmi = [h.text.split()[0] for h in headers].index("NPMI")
    headers[npmi].click()
    values = [float(v) for v in _column(page, table, npmi)]
    assert values == sorted(values) and len(set(values)) > 1
    assert headers[npmi].get_attribute("aria-sort") == "ascending"
    headers[npmi].click()
    values = [float(v) for v in _column(page, table, npmi)]
    assert values == sorted(values, reverse=True)
    headers[0].click()
    ids = [int(float(v)) for v in _column(page, table, 0)]
    assert ids == sorted(ids)


def test_searching(page, sample_report):
    model = sample_report.models[0]
    word = model.topics[3].words[0]
    expected = sum(word.lower() in " ".join(t.words[:10]).lower() for t in model.topics)
    box = page.find_elements("css selector", "input[type=search]")[0]
    box.clear()
    box.send_keys(word)
    shown = page.execute_script(
        "return Array.from(document.querySelector('table.topics').tBodies[0].rows)"
        ".filter(r => !r.hidden).length")
    assert 1 <= shown == expected < len(model.topics)
    count_id = box.get_attribute("data-count")
    assert page.find_element("id", count_id).text == f"{shown} of {len(model.topics)} rows"
    box.send_keys("no-such-word-anywhere")
    assert page.find_element("id", count_id).text == f"0 of {len(model.topics)} rows"
    box.clear()
    page.execute_script("arguments[0].dispatchEvent(new Event('input'))", box)
    assert page.find_element("id", count_id).text.startswith(f"{len(model.topics)} of")
    assert _errors(page) == []


def test_screenshot_is_not_blank(page, tmp_path):
    from matplotlib import image

    page.execute_script("window.scrollTo(0, 0)")
    png = page.get_screenshot_as_png()
    (tmp_path / "report.png").write_bytes(png)
    pixels = image.imread(io.BytesIO(png))[..., :3]
    assert pixels.shape[0] > 500 and pixels.shape[1] > 800
    assert float(pixels.std()) > 0.1                      # not a blank/white page
    assert float(np.mean(pixels.mean(axis=2) < 0.5)) > 0.02  # has dark ink (header, text)


def test_the_report_of_trained_models_in_the_browser(browser, tmp_path):
    """`lla report` of two real models (LDA and topic-LLA on a small event log with item names):
    no console errors, every table and figure there, histories with topic paths."""
    import lla
    from lla.cli.main import main
    from lla.data.synthetic import generate

    data = generate(n_docs=30, doc_length=30, n_topics=3, vocab_size=20, seed=4)
    names = [None] + [f"Film {i}" for i in range(1, 20)]
    corpus = lla.Corpus.from_documents(list(data.corpus), 20, item_names=names,
                                       meta={"options": {"format": "events"}})
    corpus.save(tmp_path / "corpus")
    corpus = lla.Corpus.open(tmp_path / "corpus")
    lla.LDA(3, n_iter=10, n_threads=1, random_state=0,
            show_progress=False).fit(corpus).save(tmp_path / "lda")
    lla.TopicLLA(3, embedding_size=4, hidden_size=6, n_iter=1, init_lda_iter=5,
                 init_lstm_epochs=1, lstm_epochs_per_iter=1, n_particles=4, n_threads=1,
                 random_state=0, show_progress=False).fit(corpus).save(tmp_path / "tlla")
    assert main(["report", str(tmp_path / "lda"), str(tmp_path / "tlla"), "--out",
                 str(tmp_path / "r"), "--histories", "3"]) == 0
    browser.get((tmp_path / "r" / "report.html").resolve().as_uri())
    assert _errors(browser) == []
    tables = browser.execute_script(
        "return Array.from(document.querySelectorAll('table')).map(t => t.className)")
    assert tables.count("sortable topics") == 2 and tables.count("sortable histories") == 2
    assert "sortable pairs" in tables                      # the matched topics side by side
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    # LDA: dendrogram, map, transitions; topic-LLA: the same and the LSTM's transitions
    assert len(images) == 7 and all(done and width > 100 for done, width in images)
    text = browser.execute_script("return document.body.innerText")
    assert "Film" in text and "HR@10" in text


def test_a_long_name_never_hides_the_topic_or_probability_of_its_chip(browser, fresh_report,
                                                                     tmp_path):
    """A chip cuts a long item name with an ellipsis, but its topic number and probability stay
    inside the visible chip (they were cut off behind the ellipsis for long film titles)."""
    from dataclasses import replace

    report = fresh_report
    model = report.models[0]
    long_name = "Adventures of Priscilla, Queen of the Desert, The (1994) " * 3
    row = replace(model.histories[0], history=[long_name] + model.histories[0].history[1:],
                  predicted_items=[(long_name, 0.25)] + model.histories[0].predicted_items[1:])
    model.histories[0] = row
    browser.get((write_html(report, tmp_path / "report.html")).resolve().as_uri())
    outside = browser.execute_script("""
        const bad = [];
        for (const tail of document.querySelectorAll('.chip > .prob, .chip > sub')) {
            const chip = tail.parentElement.getBoundingClientRect();
            const r = tail.getBoundingClientRect();
            if (r.width === 0 || r.right > chip.right + 0.5) bad.push(tail.parentElement.innerText);
        }
        return bad;""")
    assert outside == []
    cut = browser.execute_script("""
        return Array.from(document.querySelectorAll('.chip > .name')).filter(
            e => e.scrollWidth > e.clientWidth).length""")
    assert cut >= 2          # the long names are cut (with the ellipsis), not the chips' tails
