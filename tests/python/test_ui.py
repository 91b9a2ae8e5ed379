"""The web UI in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
by Selenium) against a real `comity serve`: sign in, the dashboard, browsing objects and an
object page with its markings, drafting and submitting a preservation request and finding
it in the outbox, voting on a proposal and seeing the ballot counted (and who may not vote,
forged votes included), tabling a proposal from the form (and a refusal shown on the form),
the members page, API tokens made, used and revoked from their page and an admin's page of
users, roles and sessions, the language switch (Arabic right to left), every page in all six
languages without a missing message, a viewer without rights who sees no trace of a
withheld object, CSRF refusals, session fixation, clickjacking headers, and axe-core
(vendored, injected by the test only) finding no serious or critical violation.

Screenshots of every page in English and Arabic, of the dashboard and the governance and
members pages in Chinese, of the proposal form (blank and refused) in English, Arabic and
Chinese, and of the tokens and administration pages (a token and a password shown once, a
refusal) in English and Arabic, are kept under ``target/ui-screenshots/``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
import requests

from conftest import REPO, TAXII, target
from federation_nodes import AB, federation

pytestmark = [
    pytest.mark.skipif(target() == "medallion", reason="comity-only: the web UI"),
    pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("chromedriver") is None,
                       reason="needs Debian's chromium and chromium-driver (scripts/test installs them)"),
]

SHOTS = REPO / "target" / "ui-screenshots"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "ui-password-1"
LANGS = ["en", "fr", "es", "ru", "zh", "ar"]
MISSING = "\u27e6missing:"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
SHARED_ID = f"indicator--{uuid.uuid4()}"
WITHHELD_ID = f"indicator--{uuid.uuid4()}"
KINDS = ["admit_member", "suspend_member", "reinstate_member", "expel_member", "adopt_norm", "amend_norm",
         "repeal_norm", "change_rules", "joint_statement"]
# Voting opens at once and lasts ten minutes: the tests vote while it is open.
RULES = {
    "voting_delay_seconds": 0, "voting_period_seconds": 600, "execution_window_seconds": 600,
    "quorum": "1/2", "abstentions_count_toward_quorum": True,
    "kinds": {k: {"majority": "2/3" if k in ("admit_member", "expel_member", "change_rules") else "1/2",
                  "sponsors": 2 if k == "admit_member" else 0} for k in KINDS},
}
NORM = {"kind": "adopt_norm", "norm": "gge-2015-13f",
        "texts": {"en": "A State should not knowingly support ICT activity that damages critical infrastructure.",
                  "ar": "لا ينبغي للدولة أن تدعم عن علم نشاطًا يلحق الضرر بالبنية التحتية الحيوية.",
                  "zh": "国家不应故意支持损害关键基础设施的信通技术活动。"}}


def indicator(id_: str, name: str, **extra) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": id_,
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": name, "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z", **extra}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with federation(tmp_path_factory.mktemp("ui"), "AB", [AB], serve="A") as w:
        a = w["A"]
        n = a.node
        for name, role in [("liaison", "liaison"), ("reader", "analyst")]:
            n.cli("user", "add", name, "--role", role, "--data-dir", n.data_dir,
                  env={"COMITY_USER_PASSWORD": PASSWORD})
        shared = n.add_collection("Shared", read=["reader", "liaison"])
        withheld = n.add_collection("Withheld")
        for cid, obj in [
            (shared, indicator(SHARED_ID, "Shared C2 server", object_marking_refs=[AMBER],
                               x_comity_handling={"codes": ["H2"]})),
            (withheld, indicator(WITHHELD_ID, "withheld-secret-name")),
        ]:
            r = requests.post(f"{a.url}/taxii2/default/collections/{cid}/objects/",
                              auth=n.admin, data=json.dumps({"objects": [obj]}),
                              headers={"Content-Type": TAXII, "Accept": TAXII}, timeout=30)
            assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
        rules = tmp_path_factory.mktemp("rules") / "rules.json"
        rules.write_text(json.dumps(RULES))
        n.cli("governance", "rules", "--set", str(rules), "--data-dir", n.data_dir)
        r = requests.post(f"{a.url}/api/v1/governance/proposals", auth=n.admin, json={"action": NORM}, timeout=30)
        assert r.status_code == 201 and r.json()["state"] == "active", r.text
        yield {"a": a, "b": w["B"], "shared": shared, "withheld": withheld, "proposal": r.json()["id"]}


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--lang=en-GB"]:
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def by(css: str):
    from selenium.webdriver.common.by import By
    return (By.CSS_SELECTOR, css)


def follow(driver, element):
    """Clicks `element` and waits for the page it leads to."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    old = driver.find_element(*by("html"))
    element.click()
    WebDriverWait(driver, 15).until(gone)


def sign_in(driver, base: str, user: str, password: str = PASSWORD):
    driver.delete_all_cookies()
    driver.get(base + "/signin")
    driver.find_element(*by("#name")).send_keys(user)
    driver.find_element(*by("#password")).send_keys(password)
    follow(driver, driver.find_element(*by("form.card button[type=submit]")))
    assert driver.current_url.endswith("/dashboard"), driver.page_source[-1500:]


def choose_language(driver, lang: str):
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(*by("#pref-lang"))).select_by_value(lang)
    follow(driver, driver.find_element(*by("form.prefs button[type=submit]")))
    html = driver.find_element(*by("html"))
    assert html.get_attribute("lang") == lang


def shot(driver, name: str):
    """The whole page, however long (the window grows to it, up to 6000 pixels, then shrinks back)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(1000, min(height + 150, 6000)))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def axe_violations(driver) -> list[dict]:
    """Serious and critical axe-core violations of the page shown (axe is injected through
    WebDriver, which the page's CSP does not govern; the node never serves it)."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations));")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
            for v in result if v["impact"] in ("serious", "critical")]


def pages(world) -> dict[str, str]:
    shared = world["shared"]
    return {
        "dashboard": "/dashboard",
        "intel": "/intel",
        "objects": f"/intel/default/{shared}/",
        "object": f"/intel/default/{shared}/{SHARED_ID}",
        "requests": "/requests",
        "draft": "/requests/new",
        "sessions": "/sessions",
        "proposals": "/governance",
        "proposal": f"/governance/proposals/{world['proposal']}",
        "norms": "/governance/norms",
        "members": "/members",
        "tokens": "/tokens",
    }


def draft_preservation(driver, base: str, to: str) -> str:
    driver.get(base + "/requests/new?kind=preservation")
    fields = {
        "authority.name": "Unité cyber — وحدة الجرائم الإلكترونية",
        "authority.contact": "+33 1 00 00 00 00",
        "authority.time_zone": "Europe/Paris",
        "legal_basis.instrument": "Budapest Convention",
        "summary": "Ransomware C2 hosted at ACME",
        "offence": "Unauthorised access (art. 2)",
        "details.data": "Server logs of 203.0.113.9",
        "details.relation_to_offence": "C2 server of the attack",
        "details.custodian": "ACME hosting",
        "details.necessity": "Logs rotate in 7 days",
    }
    driver.find_element(*by("#to")).send_keys(to)
    for name, value in fields.items():
        driver.find_element(*by(f"[name='{name}']")).send_keys(value)
    follow(driver, driver.find_element(*by("form.draft button[type=submit]")))
    assert "/requests/request--" in driver.current_url or "/requests/" in driver.current_url, driver.current_url
    return driver.current_url.rsplit("/", 1)[1]


def test_an_officer_signs_in_browses_intelligence_and_drafts_a_preservation_request(world, browser):
    a, b = world["a"], world["b"]
    sign_in(browser, a.url, "liaison")
    assert "Dashboard" in browser.title
    shot(browser, "en-dashboard")
    assert axe_violations(browser) == []

    follow(browser, browser.find_element(*by("nav a[href='/intel']")))
    follow(browser, browser.find_element(*by(f"a[href='/intel/default/{world['shared']}/']")))
    row = browser.find_element(*by(f"a[href$='{SHARED_ID}']"))
    assert row.text == "Shared C2 server"
    assert "TLP:AMBER" in browser.find_element(*by("table")).text
    follow(browser, row)
    badge = browser.find_element(*by(".badge.tlp-amber"))
    assert badge.text == "TLP:AMBER"
    # TLP 2.0 amber (#FFC000) on black.
    assert badge.value_of_css_property("color") in ("rgba(255, 192, 0, 1)", "rgb(255, 192, 0)")
    assert "H2" in browser.find_element(*by(".markings")).text
    assert json.loads(browser.find_element(*by("pre.json")).text)["id"] == SHARED_ID
    assert axe_violations(browser) == []

    rid = draft_preservation(browser, a.url, b.id)
    assert browser.find_element(*by("h1")).text.startswith("Expedited preservation")
    assert "Draft" in browser.find_element(*by(".fields")).text
    assert axe_violations(browser) == []
    follow(browser, browser.find_element(*by("form.act button[value=submit]")))
    assert "Submitted" in browser.find_element(*by(".fields")).text
    timeline = browser.find_element(*by(".timeline")).text
    assert "Sign and submit" in timeline and "Signature" in timeline
    shot(browser, "en-request")

    follow(browser, browser.find_element(*by("nav a[href='/requests']")))
    assert browser.find_element(*by(f"a[href='/requests/{rid}']"))
    assert b.id in browser.find_element(*by("section[aria-labelledby=outbox]")).text
    assert rid not in browser.find_element(*by("section[aria-labelledby=inbox]")).get_attribute("innerHTML")
    assert axe_violations(browser) == []


def test_a_draft_with_missing_or_hostile_fields_is_refused_or_escaped(world, browser):
    a, b = world["a"], world["b"]
    sign_in(browser, a.url, "liaison")
    browser.get(a.url + "/requests/new?kind=preservation")
    browser.find_element(*by("#to")).send_keys("identity--00000000-0000-4000-8000-000000000000")
    follow(browser, browser.find_element(*by("form.draft button[type=submit]")))
    assert browser.find_element(*by("h1")).text == "The request is not valid."
    # A hostile summary is stored and shown as text, never as markup.
    browser.get(a.url + "/requests/new?kind=preservation")
    browser.find_element(*by("#to")).send_keys(b.id)
    browser.find_element(*by("[name=summary]")).send_keys("<img src=x onerror=alert(1)>")
    follow(browser, browser.find_element(*by("form.draft button[type=submit]")))
    assert "<img src=x onerror=alert(1)>" in browser.find_element(*by("pre.json")).text
    assert not browser.find_elements(*by("img"))
    browser.get(a.url + "/requests/new?kind=bribery")
    assert browser.find_element(*by("h1")).text == "The request is not valid."


def test_every_page_in_six_languages_and_arabic_right_to_left(world, browser):
    a = world["a"]
    sign_in(browser, a.url, "liaison")
    for lang in LANGS:
        browser.get(a.url + "/dashboard")
        choose_language(browser, lang)
        for name, path in pages(world).items():
            browser.get(a.url + path)
            html = browser.find_element(*by("html"))
            assert html.get_attribute("lang") == lang, (lang, path)
            assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr"), (lang, path)
            assert MISSING not in browser.page_source, (lang, path)
            if lang in ("en", "ar"):
                shot(browser, f"{lang}-{name}")
            if lang == "zh" and name in ("dashboard", "proposals", "proposal", "norms", "members"):
                shot(browser, f"zh-{name}")
    # Arabic mirrors the layout: the navigation starts at the right.
    browser.get(a.url + "/dashboard")
    choose_language(browser, "ar")
    brand = browser.find_element(*by(".brand")).rect
    assert brand["x"] > 640, brand
    assert browser.find_element(*by("nav a[href='/intel']")).text == "المعلومات الاستخبارية"
    assert axe_violations(browser) == []
    choose_language(browser, "en")
    # The sign-in page speaks the language chosen, and the browser's before any choice.
    browser.delete_all_cookies()
    browser.get(a.url + "/signin?lang=ar")
    assert browser.find_element(*by("html")).get_attribute("dir") == "rtl"
    shot(browser, "ar-signin")
    browser.get(a.url + "/signin")
    assert browser.find_element(*by("html")).get_attribute("lang") == "ar", "the choice was not remembered"
    browser.delete_all_cookies()
    browser.get(a.url + "/signin")
    assert browser.find_element(*by("html")).get_attribute("lang") == "en"
    shot(browser, "en-signin")
    r = requests.get(a.url + "/signin", headers={"Accept-Language": "ru-RU,ru;q=0.9"}, timeout=10)
    assert 'lang="ru"' in r.text and MISSING not in r.text


def test_a_viewer_without_rights_sees_no_trace_of_a_withheld_object(world, browser):
    a = world["a"]
    sign_in(browser, a.url, "reader")
    for path in ["/dashboard", "/intel", f"/intel/default/{world['shared']}/",
                 f"/intel/default/{world['shared']}/{SHARED_ID}"]:
        browser.get(a.url + path)
        source = browser.page_source
        for trace in (WITHHELD_ID, world["withheld"], "withheld-secret-name", "Withheld"):
            assert trace not in source, (path, trace)
    # The shared indicator's address is also in the withheld one: for this reader, no one else holds it.
    browser.get(a.url + f"/intel/default/{world['shared']}/{SHARED_ID}")
    who = browser.find_element(*by("section[aria-labelledby=who-else]")).text
    assert "203.0.113.9" in who and "No other object you may read holds it." in who, who
    browser.get(a.url + "/intel")
    assert len(browser.find_elements(*by("ul.collections li"))) == 1
    browser.get(a.url + f"/intel/default/{world['withheld']}/{WITHHELD_ID}")
    assert browser.find_element(*by("h1")).text == "Not found."
    assert "withheld-secret-name" not in browser.page_source
    # The requests pages are for officers only, and the menu does not offer them.
    assert not browser.find_elements(*by("nav a[href='/requests']"))
    browser.get(a.url + "/requests")
    assert browser.find_element(*by("h1")).text == "You are not allowed to do this."


def test_csrf_session_fixation_and_clickjacking_fail(world, browser):
    a = world["a"]
    # Session fixation: an id planted before sign-in is not the session after.
    browser.delete_all_cookies()
    browser.get(a.url + "/signin")
    planted = "f" * 64
    browser.add_cookie({"name": "comity_session", "value": planted, "path": "/"})
    browser.find_element(*by("#name")).send_keys("liaison")
    browser.find_element(*by("#password")).send_keys(PASSWORD)
    follow(browser, browser.find_element(*by("form.card button[type=submit]")))
    session = browser.get_cookie("comity_session")
    assert session and session["value"] != planted and len(session["value"]) == 64
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert requests.get(a.url + "/dashboard", cookies={"comity_session": planted},
                        allow_redirects=False, timeout=10).status_code == 303

    # CSRF: the session's own cookie without the form's token, or with a wrong one.
    cookies = {"comity_session": session["value"]}
    for form in [{"lang": "ar", "tz": "UTC", "back": "/"},
                 {"lang": "ar", "tz": "UTC", "back": "/", "csrf": "0" * 64},
                 {"lang": "ar", "tz": "UTC", "back": "/", "csrf": ""}]:
        for path in ["/preferences", "/signout", "/requests/new"]:
            r = requests.post(a.url + path, data=form, cookies=cookies, allow_redirects=False, timeout=10)
            assert r.status_code == 403, (path, form, r.status_code)
            assert "did not come from this site" in r.text
    browser.get(a.url + "/dashboard")
    assert browser.find_element(*by("html")).get_attribute("lang") == "en", "a forged form took effect"

    # Clickjacking and injection: the headers of every page.
    for path in ["/signin", "/dashboard", "/intel", "/requests", "/sessions"]:
        r = requests.get(a.url + path, cookies=cookies, allow_redirects=False, timeout=10)
        assert r.status_code == 200, path
        h = r.headers
        assert h["X-Frame-Options"] == "DENY"
        csp = h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert h["X-Content-Type-Options"] == "nosniff" and h["Cache-Control"] == "no-store"
        assert "<script" not in r.text, f"{path} carries a script"
    # Sign-out ends the session on the server.
    follow(browser, browser.find_element(*by("form.signout button")))
    assert browser.current_url.endswith("/signin")
    assert requests.get(a.url + "/dashboard", cookies=cookies, allow_redirects=False,
                        timeout=10).status_code == 303


def test_an_object_page_names_who_else_holds_its_values_to_a_reader_of_both(world, browser):
    a = world["a"]
    sign_in(browser, a.url, "admin", a.node.admin[1])
    browser.get(a.url + f"/intel/default/{world['shared']}/{SHARED_ID}")
    who = browser.find_element(*by("section[aria-labelledby=who-else]"))
    assert "One other object you may read holds it (one member)." in who.text, who.text
    link = who.find_element(*by(f"a[href='/intel/default/{world['withheld']}/{WITHHELD_ID}']"))
    assert axe_violations(browser) == []
    shot(browser, "en-object-who-else")
    follow(browser, link)
    assert browser.find_element(*by("h1")).text == "withheld-secret-name"
    back = browser.find_element(*by("section[aria-labelledby=who-else]"))
    assert back.find_element(*by(f"a[href$='{SHARED_ID}']")), back.text
    choose_language(browser, "ar")
    browser.get(a.url + f"/intel/default/{world['shared']}/{SHARED_ID}")
    assert "يحتوي عليها كائن آخر واحد يمكنك قراءته" in browser.find_element(
        *by("section[aria-labelledby=who-else]")).text
    shot(browser, "ar-object-who-else")
    choose_language(browser, "en")


def plain(text: str) -> str:
    """`text` without the isolation marks Fluent puts around the values it places."""
    return text.replace("\u2068", "").replace("\u2069", "")


def tally(world) -> dict:
    """The proposal's outcome so far, as the API gives it."""
    a = world["a"]
    r = requests.get(f"{a.url}/api/v1/governance/proposals/{world['proposal']}", auth=a.node.admin, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["outcome"]


def test_an_admin_votes_on_a_proposal_and_sees_the_ballot_counted(world, browser):
    a, pid = world["a"], world["proposal"]
    sign_in(browser, a.url, "admin", a.node.admin[1])
    voting = browser.find_element(*by("section[aria-labelledby=voting]"))
    assert "One proposal is open for a vote." in voting.text, voting.text
    assert voting.find_element(*by(f"a[href='/governance/proposals/{pid}']")).text == "Adoption of a norm"
    follow(browser, browser.find_element(*by("nav a[href='/governance']")))
    from selenium.webdriver.common.by import By
    link = browser.find_element(*by(f"a[href='/governance/proposals/{pid}']"))
    row = link.find_element(By.XPATH, "./ancestor::tr")
    assert "Adoption of a norm" in row.text and "Voting open" in row.text, row.text
    assert a.name in row.text
    assert axe_violations(browser) == []
    follow(browser, browser.find_element(*by(f"a[href='/governance/proposals/{pid}']")))
    effect = browser.find_element(*by("section[aria-labelledby=effect]"))
    assert NORM["texts"]["en"] in effect.text and "gge-2015-13f" in effect.text
    assert effect.find_element(*by("blockquote[lang=ar]")).text.endswith(NORM["texts"]["ar"])
    assert "No ballot counts yet." in browser.find_element(*by("section[aria-labelledby=ballots]")).text
    assert axe_violations(browser) == []
    browser.find_element(*by("form.vote input[value=yes]")).click()
    follow(browser, browser.find_element(*by("form.vote button[type=submit]")))
    assert browser.current_url.endswith(f"/governance/proposals/{pid}"), browser.current_url
    ballots = plain(browser.find_element(*by("section[aria-labelledby=ballots]")).text)
    assert "One ballot counts." in ballots and a.name in ballots and "Yes" in ballots, ballots
    assert "Passing so far" in browser.find_element(*by("section[aria-labelledby=result]")).text
    assert browser.find_element(*by("form.vote input[value=yes]")).is_selected(), "the form forgets our ballot"
    o = tally(world)
    assert (o["yes"], o["no"], o["abstain"]) == (1, 0, 0), o
    assert [c["member"] for c in o["counted"]] == [a.id]
    shot(browser, "en-proposal-voted")
    follow(browser, browser.find_element(*by("nav a[href='/governance']")))
    assert "Yes 1 · No 0 · Abstain 0" in browser.find_element(*by("table.proposals")).text


def test_who_may_not_vote_sees_no_form_and_a_forged_vote_is_refused(world, browser):
    a, pid = world["a"], world["proposal"]
    before = tally(world)
    # Anonymous: sent to sign in, from the pages and from the vote.
    browser.delete_all_cookies()
    for path in ["/governance", f"/governance/proposals/{pid}", "/governance/norms", "/members"]:
        browser.get(a.url + path)
        assert browser.current_url.endswith("/signin"), (path, browser.current_url)
    r = requests.post(f"{a.url}/governance/proposals/{pid}/vote", data={"choice": "no"}, allow_redirects=False,
                      timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/signin"
    # An analyst reads the proposal but is offered no vote, and a vote forged with its own
    # session and token is refused.
    sign_in(browser, a.url, "reader")
    browser.get(a.url + f"/governance/proposals/{pid}")
    assert browser.find_element(*by("h1")).text.startswith("Adoption of a norm")
    assert not browser.find_elements(*by("form.vote"))
    assert f"/governance/proposals/{pid}/vote" not in browser.page_source
    csrf = browser.find_element(*by("form.prefs input[name=csrf]")).get_attribute("value")
    cookies = {"comity_session": browser.get_cookie("comity_session")["value"]}
    r = requests.post(f"{a.url}/governance/proposals/{pid}/vote", data={"csrf": csrf, "choice": "no"},
                      cookies=cookies, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "You are not allowed to do this." in r.text, r.status_code
    # Without the token, even an admin's session is refused.
    sign_in(browser, a.url, "admin", a.node.admin[1])
    cookies = {"comity_session": browser.get_cookie("comity_session")["value"]}
    r = requests.post(f"{a.url}/governance/proposals/{pid}/vote", data={"choice": "no"}, cookies=cookies,
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "did not come from this site" in r.text
    assert tally(world)["counted"] == before["counted"], "a refused vote changed the tally"


def test_the_members_page_lists_the_directory_and_the_norms_page_the_rules(world, browser):
    a, b = world["a"], world["b"]
    sign_in(browser, a.url, "reader")
    follow(browser, browser.find_element(*by("nav a[href='/members']")))
    directory = browser.find_element(*by("table.members")).text
    for m in (a, b):
        assert m.name in directory and m.id in directory, directory
    assert "this node" in directory and "Active" in directory
    agreement = browser.find_element(*by("article.agreement")).text
    for shown in (AB.title, "Active", "TLP:AMBER", "H2", "indicator", "malware", "intelligence", a.name, b.name):
        assert shown in agreement, (shown, agreement)
    fingerprint = browser.find_element(*by("code.fingerprint")).text
    assert len(fingerprint.split(" ")) == 4 and all(len(g) == 4 for g in fingerprint.split(" ")), fingerprint
    assert axe_violations(browser) == []
    browser.get(a.url + "/governance/norms")
    rules = plain(browser.find_element(*by("section[aria-labelledby=rules]")).text)
    assert "10 minutes" in rules and "0 seconds" in rules and "Admission of a member" in rules, rules
    assert axe_violations(browser) == []


def test_an_admin_tables_a_proposal_from_the_form_in_three_languages(world, browser):
    a, b = world["a"], world["b"]
    sign_in(browser, a.url, "admin", a.node.admin[1])
    follow(browser, browser.find_element(*by("nav a[href='/governance']")))
    shot(browser, "en-proposals-admin")
    follow(browser, browser.find_element(*by("a.button[href='/governance/propose']")))
    assert browser.find_element(*by("h1")).text == "Table a proposal"
    assert axe_violations(browser) == []
    # The kind is chosen without JavaScript: a GET form.
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element(*by("#kind-choice"))).select_by_value("joint_statement")
    follow(browser, browser.find_element(*by("form.filter button[type=submit]")))
    assert browser.current_url.endswith("/governance/propose?kind=joint_statement"), browser.current_url
    assert not browser.find_elements(*by("#norm"))
    statement = "Members condemn attacks on hospitals."
    browser.find_element(*by("#text-en")).send_keys(statement)
    browser.find_element(*by(f"input[name=sponsor][value='{b.id}']")).click()
    follow(browser, browser.find_element(*by("form.propose button[type=submit]")))
    assert "/governance/proposals/proposal--" in browser.current_url, browser.current_url
    pid = browser.current_url.rsplit("/", 1)[1]
    assert browser.find_element(*by("h1")).text.startswith("Joint statement")
    assert statement in browser.find_element(*by("section[aria-labelledby=effect]")).text
    assert b.name in browser.find_element(*by(".fields")).text, "the sponsor"
    r = requests.get(f"{a.url}/api/v1/governance/proposals/{pid}", auth=a.node.admin, timeout=30)
    assert r.status_code == 200 and r.json()["action"] == {
        "kind": "joint_statement", "texts": {"en": statement}}, r.text
    assert r.json()["sponsors"] == [b.id]
    # The form and a refusal, in English, Arabic (right to left) and Chinese.
    for lang in ["en", "ar", "zh"]:
        browser.get(a.url + "/dashboard")
        choose_language(browser, lang)
        browser.get(a.url + "/governance/propose")
        assert MISSING not in browser.page_source, lang
        assert browser.find_element(*by("html")).get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        shot(browser, f"{lang}-propose")
        browser.find_element(*by("#norm")).send_keys("gge 13/f")
        browser.find_element(*by(f"#text-{lang}")).send_keys(NORM["texts"][lang])
        follow(browser, browser.find_element(*by("form.propose button[type=submit]")))
        problem = browser.find_element(*by("#problem"))
        assert "a norm id is 1 to 64 ASCII letters" in problem.text, problem.text
        assert browser.find_element(*by(f"#text-{lang}")).get_attribute("value") == NORM["texts"][lang]
        assert browser.find_element(*by("#norm")).get_attribute("value") == "gge 13/f"
        assert MISSING not in browser.page_source, lang
        shot(browser, f"{lang}-propose-refused")
        assert axe_violations(browser) == []
    browser.get(a.url + "/governance/propose?kind=admit_member")
    shot(browser, "zh-propose-admit")
    # Revoking a member's keys: the member, the time and both keys, left to right in Arabic too.
    for lang in ["zh", "ar"]:
        choose_language(browser, lang)
        browser.get(a.url + "/governance/propose?kind=revoke_member_key")
        for field in ("#revoked_from", "#new_key", "#encryption_key"):
            assert browser.find_element(*by(field)).get_attribute("dir") == "ltr", (lang, field)
        assert MISSING not in browser.page_source, lang
        shot(browser, f"{lang}-propose-revoke-key")
        assert axe_violations(browser) == []
    choose_language(browser, "en")
    assert len(requests.get(f"{a.url}/api/v1/governance/proposals", auth=a.node.admin,
                            timeout=30).json()["proposals"]) == 2, "a refused form was tabled"


def test_a_token_made_on_its_page_works_over_taxii_until_revoked_there(world, browser):
    a = world["a"]
    sign_in(browser, a.url, "reader")
    assert not browser.find_elements(*by("nav a[href='/admin']")), "the menu offers administration to an analyst"
    follow(browser, browser.find_element(*by("nav a[href='/tokens']")))
    assert browser.find_element(*by("h1")).text == "API tokens"
    assert not browser.find_elements(*by("#member")), "a member's token is for admins"
    assert axe_violations(browser) == []
    browser.find_element(*by("#label")).send_keys("Suricata sensor")
    days = browser.find_element(*by("#days"))
    days.clear()
    days.send_keys("30")
    follow(browser, browser.find_element(*by("form.card button[type=submit]")))
    secret = browser.find_element(*by("pre.secret")).text
    assert secret.startswith("comity_") and len(secret) == 75, secret
    assert "shown this once and never again" in browser.find_element(*by("[role=alert]")).text
    assert axe_violations(browser) == []
    shot(browser, "en-token-created")
    bearer = {"Authorization": f"Bearer {secret}", "Accept": TAXII}
    assert requests.get(f"{a.url}/taxii2/default/collections/", headers=bearer, timeout=10).status_code == 200
    # Never shown again: the list names it without its secret.
    browser.get(a.url + "/tokens")
    assert secret not in browser.page_source and secret.split(".")[1] not in browser.page_source
    from selenium.webdriver.common.by import By
    row = browser.find_element(By.XPATH, "//table[@class='tokens']//tr[td/bdi[text()='Suricata sensor']]")
    assert "Active" in row.text, row.text
    shot(browser, "en-tokens")
    follow(browser, row.find_element(*by("button[type=submit]")))
    row = browser.find_element(By.XPATH, "//table[@class='tokens']//tr[td/bdi[text()='Suricata sensor']]")
    assert "Revoked" in row.text and not row.find_elements(*by("button")), row.text
    assert requests.get(f"{a.url}/taxii2/default/collections/", headers=bearer, timeout=10).status_code == 401
    # A label the API refuses is shown on the form, its field marked.
    browser.find_element(*by("#label")).send_keys("   ")
    follow(browser, browser.find_element(*by("form.card button[type=submit]")))
    assert browser.find_element(*by("#label")).get_attribute("aria-invalid") == "true"
    assert "label" in browser.find_element(*by("#problem")).text
    assert axe_violations(browser) == []
    shot(browser, "en-tokens-refused")
    choose_language(browser, "ar")
    browser.get(a.url + "/tokens")
    assert browser.find_element(*by("html")).get_attribute("dir") == "rtl" and MISSING not in browser.page_source
    shot(browser, "ar-tokens")
    browser.find_element(*by("#label")).send_keys("مستشعر")
    follow(browser, browser.find_element(*by("form.card button[type=submit]")))
    assert browser.find_element(*by("pre.secret")).text.startswith("comity_")
    assert MISSING not in browser.page_source
    shot(browser, "ar-token-created")
    choose_language(browser, "en")


def test_an_admin_adds_a_user_changes_roles_and_sees_every_session(world, browser):
    a = world["a"]
    sign_in(browser, a.url, "admin", a.node.admin[1])
    follow(browser, browser.find_element(*by("nav a[href='/admin']")))
    assert browser.find_element(*by("h1")).text == "Administration"
    users = browser.find_element(*by("table.users")).text
    for name in ("admin", "liaison", "reader"):
        assert name in users, users
    assert "admin" in browser.find_element(*by("table.sessions")).text
    assert axe_violations(browser) == []
    shot(browser, "en-admin")
    # A refusal: the field at fault marked, nothing added.
    browser.find_element(*by("#name")).send_keys("eve:admin")
    follow(browser, browser.find_element(*by("form.card button[type=submit]")))
    assert browser.find_element(*by("#name")).get_attribute("aria-invalid") == "true"
    assert browser.find_element(*by("#name")).get_attribute("value") == "eve:admin"
    assert axe_violations(browser) == []
    shot(browser, "en-admin-refused")
    # A user with a generated password, shown once; it signs in.
    from selenium.webdriver.support.ui import Select
    name = browser.find_element(*by("#name"))
    name.clear()
    name.send_keys("duty-officer")
    Select(browser.find_element(*by("#role"))).select_by_value("liaison")
    follow(browser, browser.find_element(*by("form.card button[type=submit]")))
    assert browser.find_element(*by("h1")).text == "User added"
    password = browser.find_element(*by("pre.secret")).text
    assert len(password) == 24, password
    assert axe_violations(browser) == []
    shot(browser, "en-user-added")
    session = requests.Session()
    page = session.get(a.url + "/signin", timeout=10)
    token = page.text.split('name="token" value="')[1].split('"')[0]
    r = session.post(a.url + "/signin", data={"name": "duty-officer", "password": password, "token": token},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    # Its role changed from its row: the node's workflow, as `comity user set-role`.
    browser.get(a.url + "/admin")
    from selenium.webdriver.common.by import By
    row = browser.find_element(By.XPATH, "//table[@class='users']//tr[td/bdi[text()='duty-officer']]")
    Select(row.find_element(*by("select"))).select_by_value("viewer")
    follow(browser, row.find_element(*by("button[type=submit]")))
    listed = a.node.cli("user", "list", "--data-dir", a.node.data_dir).stdout.decode()
    assert "duty-officer\tviewer" in listed, listed
    # Every session is listed, the new user's included; the admin ends it.
    row = browser.find_element(By.XPATH, "//table[@class='sessions']//tr[td/bdi[text()='duty-officer']]")
    follow(browser, row.find_element(*by("button[type=submit]")))
    assert session.get(a.url + "/dashboard", allow_redirects=False, timeout=10).status_code == 303
    for lang in LANGS:
        choose_language(browser, lang)
        browser.get(a.url + "/admin")
        assert MISSING not in browser.page_source, lang
        assert browser.find_element(*by("html")).get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        if lang == "ar":
            shot(browser, "ar-admin")
            assert axe_violations(browser) == []
            browser.find_element(*by("#name")).send_keys("x")
            browser.find_element(*by("#password")).send_keys("short")
            browser.find_element(*by("#password_again")).send_keys("short")
            follow(browser, browser.find_element(*by("form.card button[type=submit]")))
            assert browser.find_element(*by("#password")).get_attribute("aria-invalid") == "true"
            shot(browser, "ar-admin-refused")
    choose_language(browser, "en")
