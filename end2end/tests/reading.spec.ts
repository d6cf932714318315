import { expect, test, type Page } from "@playwright/test";
import { busiestContacts, hydrated, signIn, watchConsole } from "./support";

const threadLinks = (page: Page) => page.locator("a.open-thread");
// The demo's newsletters (fakes/src/mailbox/senders.rs) carry a header image and a tracking pixel.
const NEWSLETTER =
  /This week: the quiet return of on-prem|5 charts that explain Q3|Your Friday reading list|rethinking onboarding|pricing pages that convert/;

/**
 * Console errors other than the mail frame's sandbox refusing scripts: Playwright tries
 * to run its helpers in every frame, and Chromium logs the refusal. That is the frame's
 * policy holding, not a fault of the page.
 */
function pageErrors(errors: string[]): string[] {
  const sandboxed =
    /^Blocked script execution in '[^']*\/mail\/[0-9a-f-]+\/html(\?images=allowed)?' because the document's frame is sandboxed/;
  return errors.filter((e) => !sandboxed.test(e));
}

/** Follows an email link and checks the thread page shows that message with its headers. */
async function opensItsThread(page: Page, link: ReturnType<Page["locator"]>) {
  const href = await link.getAttribute("href");
  const id = href?.match(/^\/mail\/([0-9a-f-]{36})$/)?.[1];
  expect(id, `an email link: ${href}`).toBeTruthy();
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/mail/${id}$`));
  const opened = page.locator(`[data-testid=thread-message][data-activity-id="${id}"]`);
  await expect(opened).toHaveAttribute("aria-current", "true");
  await expect(opened.getByTestId("message-from")).toContainText("@");
  await expect(opened.locator("time")).toHaveAttribute("datetime", /^\d{4}-/);
  await expect(opened.locator("[data-testid=mail-frame], [data-testid=message-text]")).toHaveCount(1);
  // Oldest first.
  const times = await page.locator("[data-testid=thread-message] .message-meta time").evaluateAll((ts) =>
    ts.map((t) => t.getAttribute("datetime") ?? ""),
  );
  expect(times.map((t) => Date.parse(t))).toEqual(times.map((t) => Date.parse(t)).sort((a, b) => a - b));
}

test("an email opens its thread from a contact's timeline and from the Timeline page", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  const contacts = await busiestContacts(page);

  await contacts.first().locator("td:nth-child(2) a").click();
  await expect(page.getByTestId("activity-timeline")).toBeVisible();
  await hydrated(page);
  const fromContact = page.getByTestId("activity-timeline").locator("a.open-thread").first();
  await opensItsThread(page, fromContact);
  await hydrated(page);

  await page.goto("/timeline");
  await hydrated(page);
  await opensItsThread(page, threadLinks(page).first());
  await hydrated(page);
  expect(pageErrors(errors)).toEqual([]);
});

test("remote images stay blocked until allowed, and no tracking pixel is fetched before", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  // Every request that leaves this server is recorded (and answered with a tiny image):
  // by the route, and by a request listener in case anything bypassed routing.
  const remote: string[] = [];
  const pixel = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "base64",
  );
  await page.context().route(
    (url) => url.hostname !== "127.0.0.1",
    (route) => {
      remote.push(route.request().url());
      return route.fulfill({ status: 200, contentType: "image/png", body: pixel });
    },
  );
  page.on("request", (r) => {
    if (new URL(r.url()).hostname !== "127.0.0.1") remote.push(r.url());
  });

  await signIn(page);
  const newsletter = threadLinks(page).filter({ hasText: NEWSLETTER }).first();
  await expect
    .poll(async () => {
      await page.goto("/timeline");
      return newsletter.count();
    }, { timeout: 90_000 })
    .toBeGreaterThan(0);
  await hydrated(page);
  await newsletter.click();
  await expect(page).toHaveURL(/\/mail\//);
  await hydrated(page);

  // The placeholder: a notice on the page, and images without a source in the frame.
  const frameElement = page.locator("[data-testid=mail-frame][data-remote-images=blocked]").first();
  await expect(frameElement).toHaveAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
  const notice = page.getByTestId("remote-images-blocked").first();
  await expect(notice).toBeVisible();
  const frame = frameElement.contentFrame();
  await expect(frame.locator("h2")).toBeVisible();
  const blocked = frame.locator("img[data-remote-src]");
  await expect(blocked).toHaveCount(2);
  await expect(frame.locator("img[src]")).toHaveCount(0);
  const urls = await blocked.evaluateAll((imgs) => imgs.map((i) => i.getAttribute("data-remote-src") ?? ""));
  expect(urls.some((u) => /\/o\/[0-9a-f]+\.gif$/.test(u)), `a tracking pixel: ${urls}`).toBe(true);
  // Give a would-be fetch time to happen: nothing left this server.
  await page.waitForTimeout(1_000);
  expect(remote).toEqual([]);

  // Allowed for this message: the frame reloads with the images, pixel included.
  await notice.getByRole("button", { name: "Show images" }).click();
  const allowedFrame = page.locator("[data-testid=mail-frame][data-remote-images=allowed]").first();
  await expect(allowedFrame).toBeVisible();
  await expect(page.getByTestId("remote-images-blocked")).toHaveCount(0);
  await expect(allowedFrame.contentFrame().locator("img[src^='https://']")).toHaveCount(2);
  await expect.poll(() => [...new Set(remote)].filter((u) => urls.includes(u)).sort()).toEqual([...urls].sort());

  // The choice is kept for this message.
  await page.reload();
  await expect(page.locator("[data-testid=mail-frame][data-remote-images=allowed]").first()).toBeVisible();
  expect(pageErrors(errors)).toEqual([]);
});
