import { expect, test } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

// Demo mode's Messenger customer kept for this test: the background customers never
// write in this thread (server/src/demo_meta.rs).
const CUSTOMER = "Jordan Whitlock";

test("the AI agent answers a demo customer live and takes their order", async ({ page }) => {
  test.setTimeout(240_000);
  const errors = watchConsole(page);
  await signIn(page);

  // The demo Page's first poll imports the customers' history (in several languages).
  const row = page.getByTestId("conversation-row").filter({ hasText: CUSTOMER });
  await expect
    .poll(async () => {
      await page.goto("/conversations");
      return row.count();
    }, { timeout: 120_000 })
    .toBe(1);
  await expect(page.getByTestId("conversation-row").filter({ hasText: "Camille Dubois-Laurent" })).toHaveCount(1);
  await expect(row).toContainText("AI off");

  // Filters: Instagram holds the Spanish and Arabic customers, not this one.
  await page.goto("/conversations?platform=instagram");
  await expect(page.getByTestId("conversation-row").filter({ hasText: CUSTOMER })).toHaveCount(0);
  await expect(page.getByTestId("conversation-row").first()).toHaveAttribute("data-platform", "instagram");

  await page.goto("/conversations");
  await row.getByRole("link", { name: CUSTOMER }).click();
  await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]+$/);
  const conversationUrl = page.url();
  await hydrated(page);
  const thread = page.getByRole("list", { name: "Messages" });
  await expect(thread.getByTestId("message").first()).toContainText("found your shop on Facebook");
  await expect(thread.locator(".chat-text").first()).toHaveAttribute("dir", "auto");

  // Switch the agent on; demo mode says its model is simulated.
  await expect(page.getByTestId("agent-model")).toContainText("simulated model");
  const toggle = page.getByTestId("ai-toggle");
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");

  // The customer asks; the agent's answer arrives without a reload.
  const ask = async (text: string) => {
    const box = page.getByLabel("Customer's message");
    await box.fill(text);
    await page.getByRole("button", { name: "Send as customer" }).click();
    // The form posts and comes back to a fresh page (its box empty).
    await expect(box).toHaveValue("");
    await expect(page).toHaveURL(conversationUrl);
    await hydrated(page);
    await expect(thread.locator('[data-sender="customer"]').last()).toContainText(text, { timeout: 60_000 });
  };
  await ask("Hi! Do you have the linen tote bag?");
  const agent = thread.locator('[data-sender="agent"]');
  await expect(agent.last()).toContainText("costs 24.00 EUR", { timeout: 60_000 });

  // The customer confirms with their details: the agent creates the order and says so.
  await ask(`Great, I'll take 2. Name: ${CUSTOMER}, Phone: +1 555 0100 200, Address: 1 Test Street, Springfield`);
  await expect(agent.last()).toContainText("2 × Linen tote bag (48.00 EUR) is confirmed", { timeout: 60_000 });
  const log = page.locator("section.agent-log");
  const newest = log.getByTestId("agent-turn").first();
  await expect(newest).toHaveAttribute("data-outcome", "replied");
  await expect(newest.getByTestId("created-order")).toContainText("Order created: 2 × Linen tote bag · 48.00 EUR");
  await expect(newest).toContainText("demo-sales-agent");
  await expect(log.getByTestId("agent-turn")).toHaveCount(2);

  // The list shows the agent on and the newest message.
  await page.goto("/conversations");
  await expect(row).toContainText("AI on");
  await expect(row).toContainText("is confirmed");

  // The agent's order is on /orders, badged as the AI's and linked to this conversation.
  await page.goto("/orders");
  await hydrated(page);
  const order = page.locator("tr.order", { hasText: CUSTOMER });
  await expect(order).toHaveCount(1);
  await expect(order).toContainText("Linen tote bag × 2");
  await expect(order.locator(".order-total")).toHaveText("48.00 EUR");
  await expect(order).toContainText("1 Test Street, Springfield");
  await expect(order.locator(".ai-badge")).toHaveText("AI");
  await expect(order.locator("a.order-conversation")).toHaveAttribute("href", new URL(conversationUrl).pathname);

  expect(errors).toEqual([]);

  // A conversation that is not the user's is a 404 page, not an error.
  const missing = await page.goto("/conversations/00000000-0000-0000-0000-000000000000");
  expect(missing?.status()).toBe(404);
});
