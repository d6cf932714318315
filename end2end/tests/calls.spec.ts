import { expect, test } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

test("a demo call's recording plays and seeks from its transcript", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  await page.goto("/timeline");
  await hydrated(page);
  const call = page.getByTestId("call-details").first();
  await expect(call).toBeVisible({ timeout: 30_000 });
  const audio = call.getByTestId("call-audio");
  const time = () => audio.evaluate((a: HTMLAudioElement) => a.currentTime);

  // Muted playback needs no user gesture; it plays from the start.
  const playing = await audio.evaluate(async (a: HTMLAudioElement) => {
    a.muted = true;
    await a.play();
    return !a.paused;
  });
  expect(playing).toBe(true);
  await expect.poll(time, { timeout: 10_000 }).toBeGreaterThan(0.2);
  await audio.evaluate((a: HTMLAudioElement) => a.pause());

  // A transcript line seeks the player to where it was said.
  const line = call.locator(".transcript-line").last();
  const start = Number(await line.getAttribute("data-start"));
  expect(start).toBeGreaterThan(1);
  await line.click();
  await expect.poll(time, { timeout: 10_000 }).toBeGreaterThanOrEqual(start);
  expect(errors).toEqual([]);
});

test("a WhatsApp message opens its chat", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await page.goto("/timeline");
  await hydrated(page);
  const message = page.locator("li.timeline-item", { has: page.locator(".channel-whatsapp") }).first();
  await expect(message).toBeVisible({ timeout: 30_000 });
  const headline = (await message.locator("a.open-chat").innerText()).trim();
  await message.locator("a.open-chat").click();
  await expect(page).toHaveURL(/\/chats\/[0-9a-f-]+$/);
  const chat = page.getByTestId("chat");
  await expect(chat).toBeVisible();
  // The demo chats are a question and its answer, both directions, oldest first.
  const bubbles = chat.getByTestId("chat-message");
  await expect(bubbles).toHaveCount(2);
  await expect(chat.locator(".chat-message.sent")).toHaveCount(1);
  await expect(chat.locator(".chat-message.opened")).toContainText(headline.slice(0, 20));
  expect(errors).toEqual([]);
});
