import { expect, test } from "@playwright/test";
import { hydrated, signInAs, watchConsole } from "./support";

test("the first sign-in shows the Gmail import advancing live to done, then the mail is there", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  // Sam's demo mailbox is imported by no other test: this is Sam's first sign-in.
  await signInAs(page, /Sam Rivera/);
  await expect(page).toHaveURL(/\/welcome$/);
  await expect(page.getByRole("heading", { name: "Welcome to Rapport" })).toBeVisible();
  await hydrated(page);

  const card = page.locator("article.import");
  const bar = card.getByRole("progressbar", { name: "Import progress" });
  // The page is never reloaded: every change below arrives over the live event stream.
  const seen = new Set<number>();
  await expect
    .poll(
      async () => {
        const value = Number(await bar.getAttribute("aria-valuenow"));
        seen.add(value);
        return value;
      },
      { timeout: 90_000, intervals: [100] },
    )
    .toBe(100);
  expect([...seen].some((v) => v > 0 && v < 100), `saw progress between 0 and 100: ${[...seen]}`).toBe(true);
  await expect(card).toHaveAttribute("data-state", "done");
  await expect(card.locator(".import-headline")).toHaveText(/^Done: [\d,]+ messages imported$/);
  expect(Number((await card.getByTestId("people").innerText()).replace(/,/g, ""))).toBeGreaterThan(10);
  await page.screenshot({ path: testInfo.outputPath("welcome-done.png"), fullPage: true });

  // The app was usable all along; the synced mail is on the timeline.
  await page.getByRole("link", { name: "See your mail on the timeline" }).click();
  await expect(page.getByRole("heading", { name: "Timeline", exact: true })).toBeVisible();
  await expect(page.locator(".timeline-item").first()).toBeVisible();
  // Counted once the list has rendered, not at its first item (seen failing with 0 while
  // the server was busy processing the other demo mailbox).
  await expect.poll(() => page.locator(".timeline-item .channel-email").count()).toBeGreaterThan(20);
  expect(errors).toEqual([]);
});
