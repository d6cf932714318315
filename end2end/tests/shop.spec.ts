import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, watchConsole } from "./support";

// The shop in demo mode: the demo Page is served by the fake Graph API the server starts,
// and each demo user gets the Page connected, a small catalog and one order taken by hand
// (server/src/demo_meta.rs).

const DEMO_PAGE = "104000000000042";
const DEMO_TOKEN = "demo-page-token";

/** A catalog row by its exact name: the demo catalog has a "Scented candle" and a "Linen tote bag". */
function product(page: Page, name: string) {
  return page.locator("tr.product").filter({ has: page.locator("td.product-name").getByText(name, { exact: true }) });
}

async function noAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

test("a Facebook Page is connected in Settings, with Graph's refusal shown first", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await page.goto("/settings/channels");
  await hydrated(page);
  const section = page.locator("#connect-meta");
  await expect(section.getByText("Demo mode: the simulated Page is filled in.")).toBeVisible();
  await expect(section.getByLabel("Page id")).toHaveValue(DEMO_PAGE);

  await section.getByLabel("Page access token").fill("EAAB-not-a-token");
  await section.getByRole("button", { name: "Connect Page" }).click();
  await expect(section.getByRole("alert")).toHaveText(
    "Invalid page access token: Invalid OAuth access token - Cannot parse access token",
  );

  await section.getByLabel("Page access token").fill(DEMO_TOKEN);
  await section.getByRole("button", { name: "Connect Page" }).click();
  await expect(section.getByRole("status")).toHaveText(`Page ${DEMO_PAGE} connected. Its conversations are being read.`);
  const card = section.locator(`article[data-page-id="${DEMO_PAGE}"]`);
  await expect(card.locator(".badge")).toHaveText("active");
  await expect(card).toContainText("Account 17841400000000042");

  await card.getByRole("button", { name: "Turn on by default" }).click();
  await expect(card.locator(".ai-default")).toHaveText("AI agent on for new conversations");
  // The refused token is answered 422, which the browser logs; nothing else may error.
  expect(errors.filter((e) => !e.includes("422"))).toEqual([]);
});

test("products are added, checked per field, edited, deactivated and imported from CSV", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await page.goto("/catalog");
  await hydrated(page);
  // The demo's catalog.
  await expect(product(page, "Ceramic mug")).toBeVisible();

  const form = page.locator("#new-product");
  await form.getByLabel("Name").fill("Candle");
  await form.getByLabel("Description").fill("Beeswax, 40 hours");
  await form.getByLabel("Price").fill("9,50");
  await form.getByLabel("Stock").fill("12");
  await form.getByRole("button", { name: "Add product" }).click();
  await expect(form.locator('.field-error[data-field="price"]')).toHaveText("Invalid price: a price like 12.50");
  await expect(form.getByLabel("Price")).toHaveAttribute("aria-invalid", "true");

  await form.getByLabel("Price").fill("9.50");
  await form.getByRole("button", { name: "Add product" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Product added." })).toBeVisible();
  const candle = product(page, "Candle");
  await expect(candle).toContainText("9.50 EUR");

  await candle.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("form", { name: "Edit Candle" });
  await edit.getByLabel("Price").fill("11");
  await edit.getByLabel("Stock").fill("many");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit.locator('.field-error[data-field="stock"]')).toHaveText("Invalid stock: a whole number, 0 or more");
  await edit.getByLabel("Stock").fill("8");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toHaveCount(0);
  await expect(candle).toContainText("11.00 EUR");
  await expect(candle.locator(".product-stock")).toHaveText("8");

  await candle.getByRole("button", { name: "Deactivate" }).click();
  await expect(candle.locator(".badge")).toHaveText("inactive");
  await candle.getByRole("button", { name: "Reactivate" }).click();
  await expect(candle.locator(".badge")).toHaveText("active");

  // A wrong line stops the whole file.
  const file = page.getByLabel("CSV file");
  await file.setInputFiles({
    name: "bad.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("name,description,price,currency,stock\nTote bag,Canvas,18.00,EUR,30\nApron,Linen,24.00,EURO,10\n"),
  });
  await expect(page.getByLabel("Or paste the lines")).toHaveValue(/Tote bag/);
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Nothing was imported." })).toHaveText(
    "Invalid CSV: line 3: invalid currency: a three-letter code like EUR Nothing was imported.",
  );
  await expect(product(page, "Tote bag")).toHaveCount(0);

  await file.setInputFiles({
    name: "good.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("name,description,price,currency,stock\nTote bag,Canvas,18.00,EUR,30\n\"Apron, linen\",Adjustable,24,eur,10\n"),
  });
  await expect(page.getByLabel("Or paste the lines")).toHaveValue(/Apron, linen/);
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Imported" })).toHaveText("Imported 2 products.");
  await expect(product(page, "Tote bag")).toContainText("18.00 EUR");
  await expect(product(page, "Apron, linen")).toContainText("24.00 EUR");
  await noAxeViolations(page);
  // The three refusals above (price, stock, CSV) are answered 422, which the browser logs.
  expect(errors.filter((e) => !e.includes("422"))).toEqual([]);
});

test("an order's status changes and the status filter follows", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await page.goto("/orders");
  await hydrated(page);
  // The demo's order: two mugs at 14.50 EUR.
  const order = page.locator("tr.order", { hasText: "Inês Carvalho" });
  await expect(order).toContainText("Ceramic mug × 2");
  await expect(order.locator(".order-total")).toHaveText("29.00 EUR");
  await expect(order).toContainText("Rua das Flores 12");
  await expect(page.locator(".orders-total")).toContainText("EUR");
  const id = await order.getAttribute("data-order-id");

  await order.getByLabel("Status").selectOption("shipped");
  await order.getByRole("button", { name: "Update" }).click();
  await expect(page.locator(`tr[data-order-id="${id}"]`)).toHaveClass(/status-shipped/);

  await page.getByRole("navigation", { name: "Filter by status" }).getByRole("link", { name: "Shipped" }).click();
  await expect(page).toHaveURL(/\/orders\?status=shipped$/);
  await expect(page.locator(`tr[data-order-id="${id}"]`)).toBeVisible();
  await page.getByRole("navigation", { name: "Filter by status" }).getByRole("link", { name: "New" }).click();
  await expect(page).toHaveURL(/\/orders\?status=new$/);
  await expect(page.locator(`tr[data-order-id="${id}"]`)).toHaveCount(0);
  await page.goto("/orders");
  await hydrated(page);
  await noAxeViolations(page);
  expect(errors).toEqual([]);
});
