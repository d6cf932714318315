import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

const DAY_MS = 86_400_000;
const rows = (page: Page) => page.locator("table.contacts tbody tr");

/** Waits until the demo mailbox is imported and its contacts are scored. */
async function mailScored(page: Page) {
  await page.goto("/welcome");
  await expect(page.locator("article.import").first()).toHaveAttribute("data-state", "done", { timeout: 120_000 });
  await expect
    .poll(
      async () => {
        await page.goto("/contacts?sort=strength");
        return rows(page).count();
      },
      { timeout: 60_000, intervals: [1000] },
    )
    .toBeGreaterThan(10);
}

/** The number in a contact page's stat card, e.g. "Sent". */
async function stat(page: Page, label: string): Promise<number> {
  const card = page.locator(".stat-card", { has: page.locator("dt", { hasText: label }) });
  return Number((await card.locator("dd.value").innerText()).trim());
}

test("the demo is alive: strong contacts are long two-way ones with recent mail, charts show this year, this week has unanswered mail", async ({
  page,
}) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  await signIn(page);
  await mailScored(page);
  const now = Date.now();

  // 1. The ten strongest: each wrote back and forth many times, over months, and in the
  // last six months; most of them in the last month.
  await page.goto("/contacts?sort=strength");
  const top = await rows(page)
    .locator("td:nth-child(2) a")
    .evaluateAll((links) => links.slice(0, 10).map((a) => a.getAttribute("href")!));
  expect(top).toHaveLength(10);
  let lastMonth = 0;
  for (const href of top) {
    await page.goto(href);
    const name = (await page.getByRole("heading", { level: 1 }).innerText()).trim();
    const sent = await stat(page, "Sent");
    const received = await stat(page, "Received");
    expect(Math.min(sent, received), `${name}: ${sent} sent, ${received} received`).toBeGreaterThanOrEqual(5);
    const months = await page
      .locator("figure.volume-chart g.month")
      .evaluateAll((groups) =>
        groups.filter((g) => [...g.querySelectorAll("title")].some((t) => !/: 0 (sent|received)$/.test(t.textContent ?? ""))).length,
      );
    expect(months, `${name}: mail in ${months} of the last 12 months`).toBeGreaterThanOrEqual(3);
    const last = await page
      .locator(".stat-card dd.note")
      .filter({ hasText: /^last / })
      .allInnerTexts();
    const newest = Math.max(...last.map((t) => Date.parse(t.replace(/^last\s+/, "") + " UTC")).filter((t) => !Number.isNaN(t)));
    expect(now - newest, `${name}: last contact ${last.join(", ")}`).toBeLessThan(180 * DAY_MS);
    if (now - newest < 30 * DAY_MS) lastMonth += 1;
    await expect(page.locator(".strength-explanation")).toContainText(/^Mostly /);
  }

  // Half of them or more had mail in the last month.
  expect(lastMonth).toBeGreaterThanOrEqual(5);

  // 2. The chart shows the last 12 months, ending this month, and it has mail.
  await page.goto(top[0]);
  const chart = page.locator("figure.volume-chart");
  const bars = chart.locator("g.month");
  await expect(bars).toHaveCount(12);
  const thisMonth = new Date(now).toISOString().slice(0, 7);
  await expect(bars.last()).toHaveAttribute("data-month", thisMonth);
  const summary = (await chart.locator("svg").getAttribute("aria-label"))!;
  const [, sentYear, receivedYear] = summary.match(/(\d+) sent, (\d+) received/)!;
  expect(Number(sentYear) + Number(receivedYear), summary).toBeGreaterThan(0);

  // 3. The suggested question finds threads waiting for a reply this week.
  await page.goto("/ask");
  await hydrated(page);
  const suggestion = page.locator(".ask-suggestions button.suggestion", { hasText: "Who haven't I replied to this week?" });
  await expect(suggestion).toHaveCount(1);
  await suggestion.click();
  const answer = page.locator(".ask-history li.exchange:not(.live)").last();
  await expect(answer.locator(".question")).toContainText("Who haven't I replied to this week?", { timeout: 30_000 });
  await expect(answer).toContainText(/\d+ thread\(s\) waiting for your reply/);
  const threads = answer.locator('a.citation[href*="#activity-"]');
  expect(await threads.count()).toBeGreaterThan(0);
  // Every listed thread's date is in this calendar week (Monday to today).
  const dates = [...(await answer.innerText()).matchAll(/\((\d{4}-\d{2}-\d{2})\)/g)].map((m) => Date.parse(m[1]));
  expect(dates.length).toBeGreaterThan(0);
  for (const date of dates) expect(now - date).toBeLessThan(8 * DAY_MS);
  expect(errors).toEqual([]);
});
