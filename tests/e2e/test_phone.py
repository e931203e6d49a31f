"""Every reporting page on a 360 px phone: nothing wider than the screen, tap targets of 44 px, inputs the full
width of their column with 16 px text (so the phone does not zoom in), axe-clean, a screenshot of each."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import check_page, fill_threat, sign_in

SMALL_PHONE = {"width": 360, "height": 740}

# What a page breaks on a phone, read in the browser. Checkboxes and radios count by their row (.option, label
# beside them); a link inside a sentence is exempt (WCAG 2.5.8), a link standing alone in its block is not.
PHONE_PROBLEMS = """() => {
  const problems = [];
  const width = document.scrollingElement.scrollWidth;
  if (width > window.innerWidth) problems.push(`page is ${width}px wide`);
  const shown = el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden'
    && !el.closest('.visually-hidden, [aria-hidden="true"], .skip');
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : el.name ? `[name="${el.name}"]` : '')
    + (el.textContent.trim() ? ` "${el.textContent.trim().slice(0, 30)}"` : '');
  const targets = [...document.querySelectorAll('button, select, textarea, input:not([type=hidden]), a')];
  for (const el of targets.filter(shown)) {
    const inSentence = el.tagName === 'A' && el.parentElement.textContent.trim() !== el.textContent.trim();
    if (inSentence && !el.closest('header, nav, footer')) continue;
    const box = (el.type === 'checkbox' || el.type === 'radio') ? el.closest('.option') : el;
    if (!box) { problems.push(`${name(el)} is not in an .option row`); continue; }
    const rect = box.getBoundingClientRect();
    if (rect.height < 44) problems.push(`${name(el)} is ${rect.height.toFixed(0)}px high`);
    if (rect.right > window.innerWidth + 0.5) problems.push(`${name(el)} ends at ${rect.right.toFixed(0)}px`);
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) {
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < 16) problems.push(`${name(el)} has ${size}px text`);
      if (!['checkbox', 'radio'].includes(el.type)) {
        const parent = getComputedStyle(el.parentElement);
        const room = el.parentElement.clientWidth - parseFloat(parent.paddingLeft) - parseFloat(parent.paddingRight);
        if (rect.width < room - 1) problems.push(`${name(el)} is ${rect.width.toFixed(0)} of ${room.toFixed(0)}px wide`);
      }
    }
  }
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  if (body < 16) problems.push(`body text is ${body}px`);
  return problems;
}"""


def check_phone_page(page, name: str) -> None:
    page.wait_for_load_state()
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= SMALL_PHONE["width"], name
    problems = page.evaluate(PHONE_PROBLEMS)
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)
    check_page(page, f"phone-360-{name}")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_signed_in_reporting_pages_fit_a_360px_phone(new_page, world, language):
    page = new_page(viewport=SMALL_PHONE, language=language)
    check = lambda name: check_phone_page(page, f"{name}-{language}")  # noqa: E731
    page.goto("/login")
    check("login")
    sign_in(page, world.user(("reporter", "S1"), name="Margareta Andersson-Lindqvist", language=language))
    check("start-signed-in")

    page.goto("/report")
    check("report-choose")
    page.check("input[name=type][value=threat_violence]")
    page.select_option("#org_unit", "S1")
    page.click("button.primary")
    page.click("button[value=add_person]")   # the person rows, two of them
    check("report-form-persons")

    page.click("button.primary[value=file]")   # nothing typed: the errors at their fields
    assert page.locator(".error-summary").count() == 1
    check("report-form-errors")

    page.click("button[value=remove_person-1]")
    fill_threat(page)
    page.click("button.primary[value=file]")
    assert page.get_by_text("UTBF-").count() >= 1
    check("report-receipt")

    page.click("a.action-link[href*='my-reports']")
    check("my-report")
    page.goto("/my-reports")
    check("my-reports")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_anonymous_pages_fit_a_360px_phone(new_page, world, language):
    page = new_page(viewport=SMALL_PHONE, language=language)
    check = lambda name: check_phone_page(page, f"{name}-{language}")  # noqa: E731
    page.goto("/")
    check("start")
    page.goto("/anonymous")
    check("anonymous-choose")
    page.check("input[name=type][value=risk_observation]")
    page.select_option("#org_unit", "S1")
    page.click("button.primary")
    check("anonymous-form")

    page.fill("#occurred_at", "2026-03-10")
    page.fill("#description", "Trasig brandvarnare i korridoren.")
    page.fill("#fields-risk", "Brandvarnaren piper inte.")
    page.select_option("select[name='persons[0].role']", "witness")
    page.select_option("select[name='persons[0].category']", "staff")
    page.select_option("select[name='persons[0].gender']", "unknown")
    page.click("button.primary[value=file]")
    code = page.locator("#followup-code").inner_text()
    check("anonymous-receipt")

    page.goto("/followup")
    check("followup")
    page.fill("#code", code)
    page.click("button.primary")
    assert page.locator("textarea#body").count() == 1
    check("followup-found")


@pytest.mark.parametrize("path", ["/login", "/anonymous"])
def test_the_phone_check_finds_what_it_should(new_page, path):
    """The check itself: a wide element and a small button are reported, so a clean page means something."""
    page = new_page(viewport=SMALL_PHONE)
    page.goto(path)
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend',"
                  " '<div class=wide>x</div><p><button class=tiny>x</button></p>')")
    page.add_style_tag(content=".wide { width: 500px } .tiny { height: 20px; min-height: 0; font-size: 10px }")
    problems = page.evaluate(PHONE_PROBLEMS)
    assert any("page is" in p for p in problems)
    assert any("button" in p and "20px high" in p for p in problems)


def test_chromium_reads_the_manifest_without_errors(new_page):
    """The browser's own reading of the manifest (what "add to home screen" uses): no errors, its icons load."""
    page = new_page(viewport=SMALL_PHONE)
    page.goto("/anonymous")
    cdp = page.context.new_cdp_session(page)
    read = cdp.send("Page.getAppManifest")
    assert read["url"].endswith("/manifest.webmanifest")
    assert read["errors"] == [], read["errors"]
    icons = page.evaluate("""async () => {
      const manifest = await (await fetch(document.querySelector('link[rel=manifest]').href)).json();
      return Promise.all(manifest.icons.map(icon => new Promise(resolve => {
        const image = new Image();
        image.onload = () => resolve([icon.src, image.naturalWidth]);
        image.onerror = () => resolve([icon.src, 0]);
        image.src = icon.src;
      })));
    }""")
    assert len(icons) == 3 and all(width > 0 for _, width in icons), icons
