import { expect, test } from "@playwright/test";
import { createChannel, hydrated, signIn, watchConsole } from "./support";

// Mail search against the demo: a message posted to a webhook channel is searchable at
// once; the inbox's filter box leads to /search, the result marks the word, opens.

test("search from the inbox finds a message, marks the word and opens it", async ({ page, request }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  const { endpoint, key } = await createChannel(page, "Search test hook");

  const word = `zeppelin${Date.now()}`;
  const posted = await request.post(endpoint, {
    headers: { authorization: `Bearer ${key}` },
    data: {
      external_id: `search-e2e-${Date.now()}`,
      channel: "whatsapp",
      direction: "inbound",
      from: { phone: "+14155552672", name: "Dana Search" },
      text: `The ${word} tickets are booked for Friday.`,
    },
  });
  expect(posted.status()).toBe(202);

  await page.goto("/inbox");
  await hydrated(page);
  await page.getByTestId("inbox-search").fill(word);
  const all = page.getByTestId("search-all-mail");
  await expect(all).toContainText(word);
  await all.click();

  await expect(page).toHaveURL(new RegExp(`/search\\?q=${word}`));
  const hit = page.locator("li.search-hit").first();
  await expect(hit).toHaveAttribute("data-channel", "whatsapp");
  await expect(hit.locator("mark").first()).toHaveText(word);
  await expect(page.getByTestId("mail-search")).toHaveValue(word);

  // An operator the search does not know: the reason, not a crash.
  await page.goto(`/search?q=${encodeURIComponent("subject:x")}`);
  await expect(page.getByTestId("search-error")).toContainText("Unknown operator subject:");

  // Back to the hit, and open it: the sender's timeline, on that entry.
  await page.goto(`/search?q=${word}`);
  await hydrated(page);
  await page.locator("li.search-hit a.open-hit").first().click();
  await expect(page).toHaveURL(/\/(contacts\/[0-9a-f-]+#activity-[0-9a-f-]+|timeline)$/);
  expect(errors.filter((e) => !e.includes("400"))).toEqual([]);
});
