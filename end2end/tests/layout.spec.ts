import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { busiestContacts, hydrated, signIn } from "./support";

// Every page at a laptop and a phone width (a mail thread too): nothing scrolls sideways, and axe-core finds
// no accessibility violations. Pages are visited with real data (a contact with a long
// unbroken note and activity, a company), since overflow comes from content.

const WIDTHS = [
  { name: "laptop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
];

/** How far the page is wider than the window (0 when nothing scrolls sideways). */
async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The elements that stick out past the window's right edge, for a readable failure. */
async function widestElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const limit = document.documentElement.clientWidth;
    return Array.from(document.querySelectorAll("body *"))
      // The outermost offenders: past the edge while their parent is not.
      .filter((e) => e.getBoundingClientRect().right > limit + 1)
      .filter((e) => (e.parentElement?.getBoundingClientRect().right ?? 0) <= limit + 1)
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${(e as HTMLElement).className} ${e.getAttribute("action") ?? ""} right=${Math.round(e.getBoundingClientRect().right)}`);
  });
}

async function axeViolations(page: Page): Promise<string[]> {
  // A mail's HTML frame holds the sender's markup, not ours, and runs no scripts
  // (sandboxed), so axe can neither judge nor enter it; the frame element itself is checked.
  const results = await new AxeBuilder({ page }).exclude('[data-testid="mail-frame"]').analyze();
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`,
  );
}

async function checkPage(page: Page, path: string) {
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    const response = await page.goto(path);
    expect(response?.status(), `${path} answered`).toBeLessThan(500);
    await hydrated(page);
    const overflow = await sidewaysOverflow(page);
    expect.soft(overflow, `${path} at ${size.width}px is ${overflow}px too wide: ${(await widestElements(page)).join("; ")}`).toBeLessThanOrEqual(0);
    expect.soft(await axeViolations(page), `${path} at ${size.width}px`).toEqual([]);
  }
}

test("the login page fits every width and has no accessibility violations", async ({ page }) => {
  await checkPage(page, "/login");
  await checkPage(page, "/no-such-page");
});

test("every signed-in page fits 1280 and 390 px and has no accessibility violations", async ({ page }) => {
  test.setTimeout(300_000);
  await signIn(page);
  // Wait for the import to find people, then take the busiest contact and its company.
  const rows = await busiestContacts(page);
  const contact = await rows.first().locator("td:nth-child(2) a").getAttribute("href");
  expect(contact).toMatch(/^\/contacts\/[0-9a-f-]{36}$/);
  const company = await page.locator('table.contacts a[href^="/companies/"]').first().getAttribute("href");
  expect(company).toMatch(/^\/companies\/[0-9a-f-]{36}$/);

  // A note with a long unbroken word and a long line, as pasted links and logs are.
  await page.goto(contact!);
  await hydrated(page);
  const longWord = "https://example.com/" + "a".repeat(300);
  await page.getByLabel("New note").fill(`${longWord}\n${"word ".repeat(200)}`);
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.locator("ol.notes li.note").first()).toContainText("example.com");

  // An email's thread, opened from the contact's timeline.
  await page.goto(contact!);
  const thread = await page.getByTestId("activity-timeline").locator("a.open-thread").first().getAttribute("href");
  expect(thread).toMatch(/^\/mail\/[0-9a-f-]{36}$/);

  const pages = ["/welcome", "/inbox", "/contacts", contact!, company!, thread!, "/timeline", "/calendar", "/calendar?view=week", "/ask", "/settings", "/settings/channels", "/settings/tokens"];
  for (const path of pages) await checkPage(page, path);
});
