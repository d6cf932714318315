import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

// Demo mode's simulated Fastmail (JMAP) and calendar (CalDAV), connected through Settings
// the way a user connects real ones: their mail and meetings reach the inbox and the
// contacts' timelines.

const rows = (page: Page) => page.locator("ol.inbox-list > li.inbox-row");
// The subjects of the demo Fastmail's personal mail.
const FASTMAIL_SUBJECT =
  /Dinner on Friday\?|Photos from the weekend|Book recommendation|Coffee next week|Running club|Moving house|Concert tickets|Birthday plans|Holiday recommendations|Quick question about the flat/;

async function inboxWith(page: Page, chip: string) {
  await page.goto("/inbox");
  await hydrated(page);
  await page.getByRole("button", { name: chip, exact: true }).click();
  await expect(page.getByRole("button", { name: chip, exact: true })).toHaveAttribute("aria-pressed", "true");
}

test("connect the demo Fastmail and calendar, then triage their mail and meetings", async ({ page }) => {
  test.setTimeout(240_000);
  const errors = watchConsole(page);
  await signIn(page);

  // Fastmail: the demo session URL and token are filled in; one click connects.
  await page.goto("/settings");
  await hydrated(page);
  const fastmail = page.locator("#connect-fastmail");
  await fastmail.getByRole("button", { name: "Connect" }).click();
  await expect(fastmail.getByRole("status")).toContainText("Connected");

  // Calendar: find the demo server's calendars, pick Work, sync it.
  const calendars = page.locator("#calendars");
  await calendars.getByRole("button", { name: "Find calendars" }).click();
  await calendars.getByRole("checkbox", { name: "Work" }).check();
  await calendars.getByRole("button", { name: "Sync selected" }).click();
  await expect(calendars).toContainText("Syncing 1 calendars");

  // Fastmail mail arrives in the inbox.
  await expect
    .poll(async () => {
      await inboxWith(page, "Email");
      return (await rows(page).filter({ hasText: FASTMAIL_SUBJECT }).count()) > 0;
    }, { timeout: 120_000 })
    .toBe(true);
  // The spam rules kept the demo's newsletter out.
  await expect(rows(page).filter({ hasText: "Mega Deals" })).toHaveCount(0);

  // e marks the selected Fastmail message done.
  const personal = rows(page).filter({ hasText: FASTMAIL_SUBJECT }).first();
  const doneId = (await personal.getAttribute("data-inbox-row"))!;
  await personal.focus();
  await page.keyboard.press("e");
  await expect(page.locator(`li.inbox-row[data-inbox-row="${doneId}"]`)).toHaveCount(0);

  // Meetings arrive too; dismissing one takes it out of the inbox for good.
  await expect
    .poll(async () => {
      await inboxWith(page, "Meeting");
      return rows(page).count();
    }, { timeout: 120_000 })
    .toBeGreaterThan(0);
  const meeting = rows(page).first();
  const meetingId = (await meeting.getAttribute("data-inbox-row"))!;
  await meeting.getByRole("button", { name: "Dismiss" }).click();
  await expect(page.locator(`li.inbox-row[data-inbox-row="${meetingId}"]`)).toHaveCount(0);
  await inboxWith(page, "Meeting");
  await expect(page.locator(`li.inbox-row[data-inbox-row="${meetingId}"]`)).toHaveCount(0);

  // A Fastmail correspondent's page shows that mail on the timeline.
  await inboxWith(page, "Email");
  const another = rows(page).filter({ hasText: FASTMAIL_SUBJECT }).first();
  const subject = (await another.locator(".headline").innerText()).trim();
  await another.locator(".inbox-from a").first().click();
  await expect(page).toHaveURL(/\/contacts\//);
  await expect(page.getByTestId("activity-timeline")).toContainText(subject, { timeout: 30_000 });

  expect(errors).toEqual([]);
});
