import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

/** Waits until Alex's demo mailbox is imported (the import runs in the background). */
async function mailImported(page: Page) {
  await page.goto("/welcome");
  await expect(page.locator("article.import").first()).toHaveAttribute("data-state", "done", { timeout: 90_000 });
  // Processing into contacts follows the import closely; give the stats a moment to settle.
  await expect
    .poll(
      async () => {
        await page.goto("/contacts");
        return page.locator("table.contacts tbody tr").count();
      },
      { timeout: 60_000, intervals: [1000] },
    )
    .toBeGreaterThan(5);
}

/** The answer of the last exchange on the Ask page, once it has been stored. */
function lastAnswer(page: Page) {
  return page.locator(".ask-history li.exchange:not(.live)").last();
}

/** Asks through the Ask page's form and waits for the streamed answer to be stored. */
async function ask(page: Page, question: string) {
  const before = await page.locator(".ask-history li.exchange:not(.live)").count();
  const streamed = page.waitForResponse((r) => r.url().endsWith("/api/ask") && r.status() === 200);
  await page.getByRole("textbox", { name: "Your question" }).fill(question);
  await page.getByRole("button", { name: "Ask", exact: true }).click();
  const response = await streamed;
  expect(response.headers()["content-type"]).toContain("text/event-stream");
  await expect(page.locator(".ask-history li.exchange:not(.live)")).toHaveCount(before + 1);
  const answer = lastAnswer(page);
  await expect(answer.locator(".question")).toContainText(question);
  return answer;
}

test("three questions stream cited answers; a citation opens the contact, whose panel drafts an email", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const errors = watchConsole(page);
  await signIn(page);
  await mailImported(page);

  await page.goto("/ask");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Ask Rapport" })).toBeVisible();
  await expect(page.locator(".engine-label")).toHaveText("Questions are answered by the offline engine.");

  // 1: a ranking, with one link per person.
  const top = await ask(page, "My 5 strongest relationships");
  await expect(top.locator(".engine")).toHaveText("Answered by the offline engine");
  await expect(top).toContainText("tools: top_contacts");
  const people = top.locator("a.citation");
  await expect(people).toHaveCount(5);
  const name = (await people.first().innerText()).trim();
  const href = await people.first().getAttribute("href");
  expect(href).toMatch(/^\/contacts\/[0-9a-f-]{36}$/);

  // 2: threads waiting for a reply, asked from the header's box through the "/" shortcut.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("/");
  const box = page.getByRole("textbox", { name: "Ask Rapport" });
  await expect(box).toBeFocused();
  await box.fill("Who haven't I replied to?");
  await box.press("Enter");
  // The header's box only fills the Ask page's form (a link must never ask by itself):
  // the question waits in the focused box until the user presses Ask.
  await expect(page).toHaveURL(/\/ask\?q=/);
  await hydrated(page);
  const form = page.getByRole("textbox", { name: "Your question" });
  await expect(form).toHaveValue("Who haven't I replied to?");
  await expect(form).toBeFocused();
  const before = await page.locator(".ask-history li.exchange:not(.live)").count();
  await page.getByRole("button", { name: "Ask", exact: true }).click();
  await expect(page.locator(".ask-history li.exchange:not(.live)")).toHaveCount(before + 1);
  const waiting = lastAnswer(page);
  await expect(waiting.locator(".question")).toContainText("Who haven't I replied to?");
  await expect(waiting.locator(".engine")).toHaveText("Answered by the offline engine");
  await expect(waiting).toContainText("tools: unanswered_threads");

  // 3: the last interaction with the top person, citing the message itself.
  const last = await ask(page, `When did I last talk to ${name}?`);
  await expect(last).toHaveAttribute("data-refused", "false");
  const message = last.locator('a.citation[href*="#activity-"]').first();
  await expect(message).toBeVisible();

  // Ctrl+K focuses the header's box from anywhere, even from inside a field.
  await page.getByRole("textbox", { name: "Your question" }).focus();
  await page.keyboard.press("Control+k");
  await expect(page.getByRole("textbox", { name: "Ask Rapport" })).toBeFocused();

  // The history persists across a reload.
  const asked = await page.locator(".ask-history li.exchange").count();
  expect(asked).toBeGreaterThanOrEqual(3);
  await page.reload();
  await hydrated(page);
  await expect(page.locator(".ask-history li.exchange")).toHaveCount(asked);
  await expect(page.locator(".ask-history")).toContainText(`When did I last talk to ${name}?`);

  // The message citation lands on the contact page at that activity.
  const messageHref = (await lastAnswer(page).locator('a.citation[href*="#activity-"]').first().getAttribute("href"))!;
  await lastAnswer(page).locator('a.citation[href*="#activity-"]').first().click();
  await expect(page).toHaveURL(messageHref);
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();

  // The relationship panel: a summary, next actions and a draft to copy or open in Gmail.
  await page.goto(href!);
  await hydrated(page);
  const panel = page.locator(".relationship-panel");
  await expect(panel.getByRole("heading", { name: "Relationship" })).toBeVisible();
  await expect(panel.locator(".relationship-summary")).toContainText(`You and ${name}`);
  await expect(panel.locator(".relationship-summary a.citation").first()).toHaveAttribute("href", href!);
  await expect(panel.locator(".next-actions li").first()).toBeVisible();
  await expect(panel.getByLabel("Subject")).not.toHaveValue("");
  const body = panel.getByLabel("Message");
  // A contact known only by an address is greeted without a name.
  const greeting = name.includes("@") ? "there" : name.split(" ")[0];
  await expect(body).toHaveValue(new RegExp(`^Hi ${greeting},`));
  const address = (await page.locator(".identities li", { hasText: "email" }).first().innerText()).split(/\s+/)[1];
  const gmail = panel.getByRole("link", { name: "Open in Gmail" });
  await expect(gmail).toHaveAttribute("target", "_blank");
  await expect(gmail).toHaveAttribute("href", new RegExp(`^https://mail\\.google\\.com/mail/\\?view=cm&fs=1&to=${encodeURIComponent(address).replace(/[.]/g, "\\.")}&`));
  // Edits carry over to the Gmail link.
  await body.fill("Hi there,\n\nShort note.");
  await expect(gmail).toHaveAttribute("href", /body=Hi%20there%2C%0A%0AShort%20note\.$/);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await panel.getByRole("button", { name: "Copy" }).click();
  await expect(panel.getByRole("status")).toHaveText("Copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("Short note.");

  expect(errors).toEqual([]);
});
