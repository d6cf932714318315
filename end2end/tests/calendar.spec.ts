import { expect, test } from "@playwright/test";
import { addContact, hydrated, signIn, watchConsole } from "./support";

// The browser says Tokyo (UTC+9, no daylight saving): the app adopts it, so the form's
// 10:30 is Tokyo's and the feed's UTC start is 01:30 the same day.
test.use({ timezoneId: "Asia/Tokyo" });

/** Next Tuesday (never today) in Tokyo, as YYYY-MM-DD. */
function nextTuesday(): string {
  const day = new Date(Date.now() + 9 * 3600_000);
  do {
    day.setUTCDate(day.getUTCDate() + 1);
  } while (day.getUTCDay() !== 2);
  return day.toISOString().slice(0, 10);
}

test("calendar: a meeting logged for next Tuesday is on /calendar and in the ICS feed; archived, it is cancelled", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  // Settings shows the zone adopted from the browser (told once a page has hydrated).
  await expect
    .poll(async () => {
      await page.goto("/settings");
      await hydrated(page);
      return page.getByTestId("time-zone-state").textContent();
    })
    .toContain("Asia/Tokyo (from your browser)");
  const contactId = await addContact(page, "Cal Endar", `cal.${Date.now()}@calendar.example`);
  const tuesday = nextTuesday();

  // Log the meeting on the contact.
  await page.goto(`/contacts/${contactId}`);
  await hydrated(page);
  const panel = page.getByTestId("interactions");
  await panel.getByText("Log an interaction").click();
  const form = panel.getByTestId("log-interaction-form");
  await form.getByLabel("Type").selectOption("meeting");
  await form.getByLabel("Subject").fill("Quarterly planning");
  await form.getByLabel("Date").fill(tuesday);
  await form.getByLabel("Time", { exact: true }).fill("10:30");
  await form.getByLabel(/^Duration/).fill("45");
  await form.getByLabel("Location").fill("Head office");
  await form.getByRole("button", { name: "Log it" }).click();
  const row = panel.locator("li.interaction", { hasText: "Quarterly planning" });
  await expect(row.getByTestId("calendar-note")).toHaveText("On the calendar (scheduled)");
  await expect(row.locator("time")).toContainText("10:30 JST");
  await expect(page.getByTestId("activity-timeline")).toContainText("Quarterly planning");

  // On /calendar: the week of that Tuesday, and the agenda behind the nav link.
  await page.goto(`/calendar?view=week&date=${tuesday}`);
  await hydrated(page);
  const item = page.getByTestId("calendar-item").filter({ hasText: "Quarterly planning" });
  await expect(item).toHaveAttribute("data-status", "scheduled");
  await expect(item).toContainText("10:30–11:15 JST");
  await expect(item.getByRole("link", { name: "Cal Endar" })).toHaveAttribute("href", `/contacts/${contactId}`);
  await page.getByRole("link", { name: "Calendar", exact: true }).click();
  await expect(page).toHaveURL(/\/calendar$/);
  await expect(page.getByTestId("agenda")).toContainText("Quarterly planning");

  // The ICS feed, from Settings; fetched without the session, as a calendar app would.
  await page.goto("/settings");
  await hydrated(page);
  await page.getByRole("button", { name: "Create subscription URL" }).click();
  const feedUrl = await page.getByTestId("calendar-feed-url").inputValue();
  expect(feedUrl).toMatch(/\/calendar\/feed\/rcf_[A-Za-z0-9_-]+\.ics$/);
  const feed = await request.get(feedUrl);
  expect(feed.status()).toBe(200);
  expect(feed.headers()["content-type"]).toContain("text/calendar");
  const ics = await feed.text();
  expect(ics).toContain("SUMMARY:Quarterly planning");
  expect(ics).toContain(`DTSTART:${tuesday.replaceAll("-", "")}T013000Z`);
  expect(ics).toContain("X-WR-TIMEZONE:Asia/Tokyo");
  expect(ics).toContain("STATUS:CONFIRMED");

  // Archived: cancelled on the calendar and in the feed (kept, with a new SEQUENCE).
  await page.goto(`/contacts/${contactId}`);
  await hydrated(page);
  await row.getByRole("button", { name: "Archive" }).click();
  await expect(row.getByTestId("calendar-note")).toHaveText("Cancelled on the calendar");
  await page.goto(`/calendar?view=week&date=${tuesday}`);
  await expect(item).toHaveAttribute("data-status", "cancelled");
  const cancelled = await (await request.get(feedUrl)).text();
  expect(cancelled).toContain("STATUS:CANCELLED");
  expect(cancelled).toContain("SEQUENCE:1");
  expect(cancelled).toContain("SUMMARY:Quarterly planning");

  expect(errors).toEqual([]);
});
