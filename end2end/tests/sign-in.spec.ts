import { expect, test } from "@playwright/test";

test("sign in with the demo Google, see the connected Gmail, sign out", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));

  await page.goto("/contacts");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText("Demo mode.")).toBeVisible();
  await page.getByRole("link", { name: "Sign in with Google" }).click();

  // The simulated Google's consent page lists the demo accounts.
  await expect(page.getByText("choose an account", { exact: false })).toBeVisible();
  await page.getByRole("button", { name: /Alex Morgan/ }).click();

  // The first sign-in shows the mail import live; later ones go straight to the contacts.
  await expect(page).toHaveURL(/\/(welcome|contacts)$/);
  await page.goto("/contacts");
  await expect(page.getByRole("heading", { name: "Contacts", exact: true })).toBeVisible();
  await expect(page.locator(".user-menu")).toContainText("Alex Morgan");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const gmail = page.locator("article.account", { hasText: "Gmail ·" });
  await expect(gmail).toContainText("alex.morgan@brightwater-labs.com");
  await expect(gmail).toContainText("Read Gmail");
  await expect(gmail.locator(".badge")).toHaveText(/^(active|syncing)$/);
  await expect(page.locator(".jobs").getByText("gmail.sync").first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("settings.png"), fullPage: true });

  await page.locator(".user-menu").getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByText("You are signed out.")).toBeVisible();
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login$/);
  expect(errors).toEqual([]);
});
