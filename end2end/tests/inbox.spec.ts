import { expect, test, type Page } from "@playwright/test";
import { createChannel, hydrated, signIn, watchConsole } from "./support";

// The unified inbox against the demo: Gmail demo mail plus a WhatsApp message posted to
// a webhook channel while the page is open (it arrives over the live event stream).

const rows = (page: Page) => page.locator("ol.inbox-list > li.inbox-row");
const row = (page: Page, id: string) => page.locator(`li.inbox-row[data-inbox-row="${id}"]`);

test("the inbox lists arrivals live, filters by channel and answers j/k, e and Enter", async ({ page, request }) => {
  test.setTimeout(180_000);
  const errors = watchConsole(page);
  await signIn(page);
  const { endpoint, key } = await createChannel(page, "Inbox test hook");

  // The demo import fills the inbox with mail.
  await expect
    .poll(async () => {
      await page.goto("/inbox");
      return rows(page).count();
    }, { timeout: 90_000 })
    .toBeGreaterThan(5);
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Inbox" })).toHaveAttribute("aria-current", "page");
  // Mail and the demo shop's Messenger / Instagram customers, newest first.
  const before = await rows(page).evaluateAll((items) => items.map((i) => i.getAttribute("data-channel")));
  expect(before).toContain("email");

  // A WhatsApp message arrives: it shows at the top without a reload.
  const text = `Are you free on Thursday? ${Date.now()}`;
  const posted = await request.post(endpoint, {
    headers: { authorization: `Bearer ${key}` },
    data: {
      external_id: `inbox-e2e-${Date.now()}`,
      channel: "whatsapp",
      direction: "inbound",
      from: { phone: "+14155552671", name: "Dana Live" },
      text,
    },
  });
  expect(posted.status()).toBe(202);
  await expect(rows(page).first()).toContainText(text);
  await expect(rows(page).first()).toHaveAttribute("data-channel", "whatsapp");
  await expect(rows(page).first()).toHaveClass(/unread/);

  // Channel chips: WhatsApp alone, then Email alone.
  const whatsapp = page.getByRole("button", { name: "WhatsApp", exact: true });
  await whatsapp.click();
  await expect(whatsapp).toHaveAttribute("aria-pressed", "true");
  await expect(rows(page).first()).toContainText("Dana Live");
  // The demo's own WhatsApp chats are there too; nothing else is.
  const only = await rows(page).evaluateAll((items) => items.map((i) => i.getAttribute("data-channel")));
  expect(new Set(only)).toEqual(new Set(["whatsapp"]));
  await whatsapp.click();
  const email = page.getByRole("button", { name: "Email", exact: true });
  await email.click();
  await expect(rows(page).first()).toHaveAttribute("data-channel", "email");
  const channels = await rows(page).evaluateAll((items) => items.map((i) => i.getAttribute("data-channel")));
  expect(new Set(channels)).toEqual(new Set(["email"]));

  // j/k move a visible selection; e marks the selected row done and it leaves.
  await page.keyboard.press("j");
  await expect(rows(page).nth(0)).toBeFocused();
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  const second = rows(page).nth(1);
  await expect(second).toBeFocused();
  await expect(second).toHaveAttribute("aria-current", "true");
  const doneId = (await second.getAttribute("data-inbox-row"))!;
  await page.keyboard.press("e");
  await expect(row(page, doneId)).toHaveCount(0);
  await expect(page.locator(".inbox-status")).toContainText("Marked done");
  // The selection moved on to the next row.
  await expect(rows(page).nth(1)).toBeFocused();
  // Undo brings it back; e again takes it out for good.
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(row(page, doneId)).toHaveCount(1);
  await row(page, doneId).getByRole("button", { name: "Done" }).click();
  await expect(row(page, doneId)).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(rows(page).first()).toBeVisible();
  await expect(row(page, doneId)).toHaveCount(0);

  // Enter opens the selected email's conversation.
  await email.click();
  await expect(email).toHaveAttribute("aria-pressed", "true");
  await expect(rows(page).first()).toHaveAttribute("data-channel", "email");
  await page.keyboard.press("j");
  // No hydration or other errors on the inbox (the mail's sandboxed frame, opened next,
  // logs its blocked scripts by design).
  expect(errors).toEqual([]);
  const opened = (await rows(page).first().getAttribute("data-inbox-row"))!;
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/mail/${opened}$`));
  await expect(page.getByTestId("thread")).toBeVisible();
});
