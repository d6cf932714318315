import { expect, test } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

test("contacts page hydrates and adds a contact through a server function", async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page);
  await expect(page.getByRole("heading", { name: "Contacts", exact: true })).toBeVisible();
  await hydrated(page);

  // The form only opens through a click handler: this needs a hydrated page.
  await page.getByRole("button", { name: "Add contact" }).click();
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill("Ada@Analytical.Engines.org");
  const saved = page.waitForResponse((r) => r.url().includes("create_contact") && r.status() === 200);
  await page.getByRole("button", { name: "Save contact" }).click();
  await saved;

  // Server-rendered and found by search: the contact is in the database, not only in the page.
  await page.goto("/contacts?q=Lovelace");
  const row = page.locator("table.contacts tbody tr", { hasText: "Ada Lovelace" });
  await expect(row).toBeVisible();
  await expect(row).toContainText("ada@analytical.engines.org");
  await expect(page.getByText("1 contact", { exact: true })).toBeVisible();

  await page.screenshot({ path: testInfo.outputPath("contacts.png"), fullPage: true });
  expect(errors).toEqual([]);
});

test("a bad email is refused with a clear message", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await hydrated(page);
  await page.getByRole("button", { name: "Add contact" }).click();
  await page.getByLabel("Name").fill("Nobody");
  await page.getByLabel("Email").evaluate((el: HTMLInputElement) => (el.type = "text"));
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByRole("button", { name: "Save contact" }).click();
  await expect(page.getByRole("alert")).toContainText("Invalid email: has no @");
  // The failed server call is answered 422, which the browser logs; nothing else may error.
  expect(errors.filter((e) => !e.includes("422"))).toEqual([]);
});

test("navigation moves between pages without reloading", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await hydrated(page);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Timeline" }).click();
  await expect(page.getByRole("heading", { name: "Timeline", exact: true })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Timeline" })).toHaveAttribute("aria-current", "page");
  await nav.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings", exact: true })).toBeVisible();
  await nav.getByRole("link", { name: "Ask" }).click();
  await expect(page.getByRole("heading", { name: "Ask Rapport" })).toBeVisible();
  // Client-side routing keeps the same document: the hydration marker survives.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  expect(errors).toEqual([]);
});

test("unknown pages answer 404 with a request id", async ({ page }) => {
  await signIn(page);
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator(".request-id code")).toHaveText(/^[0-9a-f-]{36}$/);
});

test("every page works under its Content-Security-Policy", async ({ page }) => {
  const errors = watchConsole(page);
  // Violations are reported to the page as events (and to the console, watched above).
  await page.addInitScript(() => {
    (window as unknown as { violations: string[] }).violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { violations: string[] }).violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await signIn(page);
  for (const path of ["/contacts", "/timeline", "/ask", "/settings"]) {
    const response = await page.goto(path);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp, path).toContain("frame-ancestors 'none'");
    expect(csp, path).toContain("base-uri 'none'");
    expect(csp, path).toMatch(/script-src [^;]*'nonce-/);
    expect(response?.headers()["referrer-policy"], path).toBe("same-origin");
    expect(response?.headers()["x-content-type-options"], path).toBe("nosniff");
    // The wasm app ran: it marks the page, and the page responds to clicks.
    await hydrated(page);
    const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations);
    expect(violations, path).toEqual([]);
  }
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByRole("button", { name: "Add contact" }).click();
  await expect(page.getByLabel("Name")).toBeVisible();
  expect(errors).toEqual([]);
});
