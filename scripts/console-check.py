#!/usr/bin/env python3
"""The web console in a real browser (headless Chromium through Selenium), against real servers.

    console-check.py AUTH_URL ADMIN_KEY READ_ONLY_KEY OPEN_URL SCREENSHOT_DIR

AUTH_URL serves with admin authentication on (ADMIN_KEY holds '*', READ_ONLY_KEY only keys.read), OPEN_URL with it
off. Controls are found by their accessible names, as a person (or a screen reader) finds them. Prints `ok   - …` /
`FAIL - …` lines and exits 1 on any failure.
"""
import json
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

AUTH, ADMIN_KEY, READ_ONLY_KEY, OPEN, SHOTS = sys.argv[1:6]
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   - {name}")
    else:
        failed += 1
        print(f"FAIL - {name}{': ' + str(detail) if detail else ''}")


def call(base, method, path, body=None, key=ADMIN_KEY):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
            return response.status, json.loads(data) if data else None
    except urllib.error.HTTPError as error:
        data = error.read()
        return error.code, json.loads(data) if data else None


def verify(base, credential, key=ADMIN_KEY):
    return call(base, "POST", "/v2alpha1/admin/apiKeys:verify", {"credential": credential}, key)[1]


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--disable-gpu"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 10)
console_errors = []


def collect_logs():
    # Chromium logs every 4xx answer as "Failed to load resource"; those are API answers the page handles (its
    # permission probes expect 400/403, the sign-in probe 401, the error test a 400). Anything else is a failure:
    # script errors, CSP refusals ("Refused to …"), 5xx answers.
    for entry in driver.get_log("browser"):
        handled = "Failed to load resource: the server responded with a status of 4" in entry["message"]
        if entry["level"] in ("SEVERE", "WARNING") and not handled:
            console_errors.append(entry["message"])


def named(name, tags="input,select,textarea,button,a,output,table,span,svg,pre,ol,section"):
    """The displayed element whose computed accessible name is `name` (Chromium's own accessibility tree)."""
    def find(_):
        for element in driver.find_elements(By.CSS_SELECTOR, tags):
            try:
                if element.is_displayed() and element.accessible_name.strip() == name:
                    return element
            except Exception:
                continue
        return False
    return wait.until(find, f"no displayed element named {name!r}")


def button(name):
    return named(name, "button")


def field(name):
    return named(name, "input,select,textarea")


def fill(name, value):
    element = field(name)
    element.clear()
    element.send_keys(value)


def text_of(name, tags="output,span,pre,section"):
    return named(name, tags).text


def shot(name):
    collect_logs()
    driver.save_screenshot(f"{SHOTS}/{name}.png")


def emulate(scheme):
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def wait_text(css, text, timeout=10):
    """Waits until an element matching `css` shows `text` (the page re-renders: detached elements are skipped)."""
    def shown(d):
        for element in d.find_elements(By.CSS_SELECTOR, css):
            try:
                if text in element.text:
                    return True
            except StaleElementReferenceException:
                continue
        return False
    WebDriverWait(driver, timeout).until(shown)


def rows():
    return driver.find_elements(By.CSS_SELECTOR, "table tbody tr")


try:
    # --- Sign in (admin authentication on).
    driver.get(AUTH + "/console/")
    fill("Admin key", ADMIN_KEY)
    shot("sign-in")
    button("Sign in").click()
    table = named("Keys", "table")
    check("sign in with an admin key shows the keys table", table.is_displayed())
    check("the admin key is kept in sessionStorage only, no cookie, nothing in localStorage",
          driver.execute_script("return [sessionStorage.length, sessionStorage.getItem('talos.adminKey'), localStorage.length, document.cookie]")
          == [1, ADMIN_KEY, 0, ""])

    # --- Issue a key: the secret shown once, and it verifies.
    named("Issue", "a").click()
    fill("Name", "partner-key")
    fill("Actor", "partner-42")
    fill("Scopes", "read, write")
    fill("TTL", "720h")
    button("Issue key").click()
    secret = text_of("New secret", "output")
    shot("issue")
    result = verify(AUTH, secret)
    check("the secret read from the page verifies over the API", result.get("is_valid") is True and result.get("actor_id") == "partner-42"
          and result.get("scopes") == ["read", "write"], result)
    check("the secret is in no storage of the page",
          driver.execute_script("return JSON.stringify(Object.assign({}, sessionStorage, localStorage))").find(secret) < 0)

    # --- Its detail; rotate (new secret once), then revoke with a reason after a confirmation.
    named("Open the key", "a").click()
    button("Rotate").click()
    button("Rotate key").click()
    rotated = text_of("New secret", "output")
    check("rotate shows a new secret that verifies; the old one is revoked as superseded",
          verify(AUTH, rotated).get("is_valid") is True and verify(AUTH, secret).get("error_code") == "VERIFICATION_ERROR_REVOKED")
    named("Open the key", "a").click()
    button("Revoke").click()
    Select(field("Reason")).select_by_visible_text("Privilege withdrawn")
    fill("Description", "partner contract ended")
    shot("revoke-dialog")
    button("Confirm revocation").click()
    wait_text(".badge", "Revoked")
    check("revoked in the page, refused over the API", verify(AUTH, rotated).get("error_code") == "VERIFICATION_ERROR_REVOKED")
    detail = WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "dl.facts").text)
    check("the detail shows the revocation reason and its note", "privilege withdrawn" in detail and "partner contract ended" in detail, detail)

    # --- Edit name, scopes and metadata.
    fill("Name", "partner-key-renamed")
    fill("Scopes", "read")
    fill("Metadata", '{"team": "partners"}')
    button("Save changes").click()
    wait_text("h1", "partner-key-renamed")
    edited_id = driver.execute_script("return location.hash.split('/').pop()")
    status, edited = call(AUTH, "GET", f"/v2alpha1/admin/issuedApiKeys/{edited_id}")
    edited = edited.get("issued_api_key", edited)
    check("name, scopes and metadata updated through the page", status == 200 and edited["name"] == "partner-key-renamed"
          and edited["scopes"] == ["read"] and edited["metadata"] == {"team": "partners"}, edited)

    # --- Page through 60 keys of one actor.
    for i in range(60):
        call(AUTH, "POST", "/v2alpha1/admin/issuedApiKeys", {"name": f"bulk-{i:02d}", "actor_id": "pager"})
    named("Keys", "a").click()
    fill("Actor", "pager")
    button("Filter").click()
    wait_text("table tbody", "bulk-")
    seen, pages = set(), 0
    while True:
        WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: "Loading" not in d.find_element(By.CSS_SELECTOR, "tbody").text)
        pages += 1
        seen.update(r.find_element(By.CSS_SELECTOR, "td").text for r in rows())
        if pages == 1:
            shot("keys")
        following = button("Next page")
        if not following.is_enabled():
            break
        before = rows()[0].text
        following.click()
        WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: rows() and rows()[0].text != before)
    check("paging through 60 keys of an actor shows each once over 3 pages", len(seen) == 60 and pages == 3, (len(seen), pages))

    # --- A usage chart with the right total.
    status, issued = call(AUTH, "POST", "/v2alpha1/admin/issuedApiKeys", {"name": "charted", "actor_id": "chart"})
    charted, charted_secret = issued["issued_api_key"]["key_id"], issued["secret"]
    for _ in range(7):
        verify(AUTH, charted_secret)
    call(AUTH, "POST", f"/v2alpha1/admin/apiKeys/{charted}:revoke", {"reason": "REVOCATION_REASON_SUPERSEDED"})
    for _ in range(2):
        verify(AUTH, charted_secret)
    time.sleep(2.5)  # usage.flush_interval is 1s here
    driver.get(f"{AUTH}/console/#/key/issued/{charted}")
    total = named("Total verifications", "span").text
    chart = named(f"Usage chart: 9 verifications over the last 48 hours, 2 failed", "svg")
    check("the key's usage chart totals 9 verifications, 2 of them failed", total == "9" and chart.is_displayed(), total)
    shot("key-detail")

    # --- The live revocation feed: a revocation over the API appears within 1 s.
    named("Revocations", "a").click()
    wait_text("[role=status]", "Live")
    status, issued = call(AUTH, "POST", "/v2alpha1/admin/issuedApiKeys", {"name": "watched", "actor_id": "feed"})
    watched = issued["issued_api_key"]["key_id"]
    started = time.monotonic()
    call(AUTH, "POST", f"/v2alpha1/admin/apiKeys/{watched}:revoke", {"reason": "REVOCATION_REASON_KEY_COMPROMISE"})
    try:
        wait_text("ol.events", watched, timeout=5)
        delay = time.monotonic() - started
    except TimeoutException:
        delay = 99
    print(f"       feed: the revocation appeared in the page {delay * 1000:.0f} ms after the API answered")
    check("a revocation made over the API appears in the live feed within 1 s", delay < 1.0, f"{delay:.3f} s")
    shot("feed")

    # --- Verify playground with the cache status; derive with decoded claims.
    status, issued = call(AUTH, "POST", "/v2alpha1/admin/issuedApiKeys", {"name": "played", "actor_id": "play", "scopes": ["read"]})
    played_id, played = issued["issued_api_key"]["key_id"], issued["secret"]
    named("Verify", "a").click()
    fill("Credential", played)
    button("Verify").click()
    wait_text("dl.facts", "Valid")
    first = WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "dl.facts").text)
    button("Verify").click()
    wait_text("dl.facts", "HIT")
    check("the verify playground shows the result and the cache status (MISS, then HIT)", "MISS" in first and "Valid" in first, first)
    shot("verify")
    named("Derive", "a").click()
    fill("Credential", played)
    fill("TTL", "5m")
    button("Derive token").click()
    claims = text_of("Decoded claims", "pre")
    token = text_of("Derived token", "output")
    check("derive shows the JWT and its decoded claims", played_id in claims and '"alg"' in claims and token.count(".") == 2, claims[:200])
    check("the derived JWT verifies over the API", verify(AUTH, token).get("is_valid") is True)
    shot("derive")

    # --- Import and delete an imported key; the raw key is never echoed.
    raw = "sk_live_console_imported_0123456789"
    named("Import", "a").click()
    fill("Raw key", raw)
    fill("Name", "legacy")
    fill("Actor", "legacy-actor")
    button("Import key").click()
    wait_text("[role=status]", "Imported")
    check("an imported key verifies; the page holds no copy of the raw key",
          verify(AUTH, raw).get("is_valid") is True and raw not in driver.page_source
          and driver.execute_script("return [...document.querySelectorAll('input')].every(i => i.value !== arguments[0])", raw))
    named("Open the key", "a").click()
    button("Delete").click()
    button("Delete key").click()
    wait_text("h1", "API keys")
    check("deleting the imported key in the page: it no longer verifies", verify(AUTH, raw).get("error_code") == "VERIFICATION_ERROR_NOT_FOUND")

    # --- Admin keys (admin_keys.manage).
    named("Admin keys", "a").click()
    fill("Name", "ci-reader")
    driver.find_element(By.CSS_SELECTOR, "input[value='keys.read']").click()
    button("Create admin key").click()
    admin_secret = text_of("New secret", "output")
    check("an admin key made in the page authenticates", call(AUTH, "GET", "/v2alpha1/admin/issuedApiKeys?page_size=1", key=admin_secret)[0] == 200)
    shot("admin-keys")

    # --- Errors come from the envelope.
    named("Issue", "a").click()
    fill("Name", "bad")
    fill("Actor", "bad")
    fill("TTL", "forever")
    button("Issue key").click()
    alert = wait.until(lambda d: d.find_element(By.ID, "error") if d.find_element(By.ID, "error").is_displayed() else False)
    check("an API error is shown with the envelope's message", "ttl" in alert.text.lower(), alert.text)

    # --- Screens in dark mode and at a phone's width.
    driver.get(f"{AUTH}/console/#/key/issued/{charted}")
    named("Total verifications", "span")
    emulate("dark")
    shot("key-detail-dark")
    driver.get(f"{AUTH}/console/#/keys/issued")
    named("Keys", "table")
    shot("keys-dark")
    emulate("light")
    driver.set_window_size(390, 844)
    driver.get(f"{AUTH}/console/#/keys/issued")
    named("Keys", "table")
    shot("keys-phone")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check("at a phone's width the page does not scroll sideways (the table scrolls in its box)", overflow <= 0, overflow)
    driver.set_window_size(1280, 800)

    # --- Keyboard: Tab reaches the navigation with a visible focus ring.
    driver.get(f"{AUTH}/console/#/keys/issued")
    named("Keys", "table")
    driver.execute_script("document.activeElement.blur()")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.TAB).perform()
    outline = driver.execute_script("const e = document.activeElement; return [e.tagName, getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]")
    check("keyboard focus is visible", outline[1] not in ("none", "") and outline[2] != "0px", outline)

    # --- Sign out.
    button("Sign out").click()
    field("Admin key")
    check("sign out forgets the admin key", driver.execute_script("return sessionStorage.length") == 0)

    # --- A key holding keys.read alone: read-only views, write actions disabled.
    fill("Admin key", READ_ONLY_KEY)
    button("Sign in").click()
    named("Keys", "table")
    check("read-only: the admin keys section is not offered", not any(a.is_displayed() for a in driver.find_elements(By.ID, "nav-admin-keys")))
    named("Issue", "a").click()
    check("read-only: Issue key is disabled", not button("Issue key").is_enabled())
    driver.get(f"{AUTH}/console/#/key/issued/{played_id}")
    check("read-only: Rotate and Revoke are disabled", not button("Rotate").is_enabled() and not button("Revoke").is_enabled())
    total = named("Total verifications", "span").text
    check("read-only: the key and its usage are shown", total.isdigit())
    shot("read-only")
    button("Sign out").click()

    # --- A server without admin authentication: no sign-in.
    driver.get(OPEN + "/console/")
    named("Keys", "table")
    check("without admin authentication the console opens without signing in", not driver.find_elements(By.XPATH, "//label[normalize-space()='Admin key']"))
    named("Issue", "a").click()
    fill("Name", "open")
    fill("Actor", "open")
    button("Issue key").click()
    check("and issues keys", verify(OPEN, text_of("New secret", "output"), key=None).get("is_valid") is True)

    collect_logs()
    check("no console errors, CSP violations or 5xx answers on any page", not console_errors, console_errors[:5])
except Exception as error:  # a missing control is a failure, not a crash without a summary
    failed += 1
    print(f"FAIL - the walk stopped: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    try:
        driver.save_screenshot(f"{SHOTS}/failure.png")
        print(f"       at {driver.current_url}; screenshot {SHOTS}/failure.png")
    except Exception:
        pass
finally:
    driver.quit()
print(f"console: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
