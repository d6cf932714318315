import { expect, test, type Page } from "@playwright/test";
import { addContact, createChannel, hydrated, signIn, watchConsole } from "./support";

const EMAIL = "webhook.person@example.com";

/** Creates a contact through the contacts page; returns its id. */
const activity = (page: Page, text: string) =>
  page.locator(".activity-list li.activity", { hasText: text });

// FIXME(stop 29): after this stop's merges a webhook mail posted here never shows on the
// contact's timeline, and loading /timeline afterwards never finishes (net::ERR_ABORTED on
// page.goto); the server logs nothing at warn. Cause not found before the stop: suspected
// the call-recording rows added to the timelines. Kept as a fixme so the failure stays visible.
test("the activity timeline updates live in two tabs and takes dropped files", async ({ page, context, request }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  const id = await addContact(page, "Webhook Person", EMAIL);
  const { endpoint, key } = await createChannel(page, "Timeline test hook");

  // The same contact open in two tabs.
  const other = await context.newPage();
  const otherErrors = watchConsole(other);
  for (const tab of [page, other]) {
    await tab.goto(`/contacts/${id}`);
    await hydrated(tab);
    await expect(tab.getByTestId("activity-timeline")).toBeVisible();
  }

  // A webhook arrives (as curl would post it): it appears and completes in both tabs.
  const subject = `Proposal follow-up ${Date.now()}`;
  const posted = await request.post(endpoint, {
    headers: { authorization: `Bearer ${key}` },
    data: {
      external_id: `e2e-${Date.now()}`,
      channel: "email",
      direction: "inbound",
      from: { email: EMAIL, name: "Webhook Person" },
      subject,
      text: "Shall we meet on Thursday?",
    },
  });
  expect(posted.status()).toBeLessThan(300);
  for (const tab of [page, other]) {
    const row = activity(tab, subject);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row).toHaveAttribute("data-state", "completed", { timeout: 30_000 });
    await expect(row.getByTestId("state-badge")).toHaveText(/completed/);
    // Notes and Ask answers link to `#activity-{id}`: the row is that anchor.
    const activityId = await row.getAttribute("data-activity-id");
    await expect(row).toHaveAttribute("id", `activity-${activityId}`);
  }

  // Three files at once: each gets a progress row, then shows in the timeline with a link.
  await page.getByTestId("file-input").setInputFiles([
    { name: "offer.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.7 offer") },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("call back Monday") },
    { name: "photo.png", mimeType: "image/png", buffer: Buffer.from("\x89PNG fake") },
  ]);
  await expect(page.locator(".uploads li.upload.done")).toHaveCount(3, { timeout: 30_000 });
  for (const name of ["offer.pdf", "notes.txt", "photo.png"]) {
    for (const tab of [page, other]) {
      await expect(activity(tab, name)).toBeVisible({ timeout: 30_000 });
    }
    const href = await activity(page, name).locator("a.download").getAttribute("href");
    expect(href).toMatch(/^\/files\//);
    const download = await page.request.get(href!);
    expect(download.status()).toBe(200);
    expect(download.headers()["content-disposition"]).toContain(name);
  }
  await expect(activity(page, "notes.txt")).toHaveAttribute("data-state", "completed", { timeout: 30_000 });

  // The channel filter narrows the list to files.
  await page.getByTestId("channel-filter").selectOption("file");
  await expect(page.locator(".activity-list li.activity")).toHaveCount(3);

  // The server takes two uploads at a time per user; the third file is refused with 429
  // and sent again after Retry-After (the browser logs the refused request).
  const unexpected = (list: string[]) => list.filter((e) => !e.includes("status of 429 (Too Many Requests)"));
  expect(unexpected(errors)).toEqual([]);
  expect(otherErrors).toEqual([]);
});
