import { expect, test } from "@playwright/test";
import { busiestContacts, hydrated, signIn, watchConsole } from "./support";

// Demo mode serves fakes of People Data Labs, the Clearbit-format API and X that know the
// demo mailbox's people, so a busy demo contact has enriched fields with their sources.
test("a contact's About section shows enriched fields with sources and refreshes live", async ({ page }) => {
  test.setTimeout(150_000);
  const errors = watchConsole(page);
  await signIn(page);
  const rows = await busiestContacts(page);
  await rows.first().locator("a").first().click();
  await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]{36}$/);
  await hydrated(page);

  const about = page.getByTestId("about");
  await expect(about.getByRole("heading", { name: "About" })).toBeVisible();

  // Refresh asks every provider again: the status shows the job's progress, then the
  // lookups list carries new fetch times and the fields name the providers they came from.
  const lookupTimes = () =>
    about.locator(".about-lookups time").evaluateAll((ts) => ts.map((t) => t.getAttribute("datetime")));
  const before = await lookupTimes();
  await about.getByTestId("about-refresh").click();
  // The status reads "Looking up…" while the job runs (often too briefly to see), then clears.
  await expect(about.getByTestId("about-status")).toHaveText("", { timeout: 90_000 });
  await expect
    .poll(async () => {
      const after = await lookupTimes();
      return after.length > 0 && after.some((t) => !before.includes(t));
    }, { timeout: 30_000 })
    .toBe(true);

  const providers = about.locator(
    'li[data-source="people_data_labs"], li[data-source="clearbit"], li[data-source="x"], li[data-source="colleagues"]',
  );
  await expect(providers.first()).toBeVisible();
  // Each value says where it came from and when.
  await expect(providers.first().locator(".source")).toHaveText(/\(.+, +\d{1,2} \w{3} \d{4}\)/);

  // The lookups list names each provider with its outcome.
  await about.locator(".about-lookups summary").click();
  await expect(about.locator(".about-lookups li", { hasText: "People Data Labs" }).first()).toBeVisible();

  expect(errors).toEqual([]);
});
