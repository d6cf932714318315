import { expect, test, type Page } from "@playwright/test";
import { busiestContacts, hydrated, signIn, watchConsole } from "./support";

const rows = (page: Page) => page.locator("table.contacts tbody tr");

async function addContact(page: Page, name: string, email: string) {
  await page.goto("/contacts");
  await hydrated(page);
  await page.getByRole("button", { name: "Add contact" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  const saved = page.waitForResponse((r) => r.url().includes("create_contact") && r.status() === 200);
  await page.getByRole("button", { name: "Save contact" }).click();
  await saved;
}

test("contacts from mail: sort, search, filter, open one, see its stats, edit it", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  // The demo mailbox becomes contacts in the background.
  await busiestContacts(page);

  // The busiest correspondent: their name and email count come from the synced mail.
  const top = rows(page).first();
  const name = (await top.locator("td").nth(1).locator("a").innerText()).trim();
  expect(Number(await top.locator("td").nth(6).innerText())).toBeGreaterThan(0);

  // Sort by name, kept in the URL.
  await page.getByRole("navigation", { name: "Sort contacts" }).getByRole("link", { name: "Name" }).click();
  await expect(page).toHaveURL(/sort=name/);
  const names = (await rows(page).locator("td:nth-child(2) a").allInnerTexts()).map((n) => n.toLowerCase());
  // Code point order, as the database sorts (C collation). Contacts known only by an
  // address (shown instead of a name) have no name to sort by and come last.
  const named = names.filter((n) => !n.includes("@"));
  expect(named).toEqual([...named].sort());
  expect(names.slice(0, named.length)).toEqual(named);

  // Search by name, then filter to people waiting for a reply: both in the URL.
  await page.getByRole("searchbox").fill(name);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/q=/);
  await expect(rows(page).first()).toContainText(name);
  await page.getByLabel("Waiting for my reply").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/q=.*&.*|unanswered|waiting/);

  // Open the contact: stats, the monthly chart and the strength explanation.
  await page.goto(`/contacts?q=${encodeURIComponent(name)}`);
  await rows(page).first().locator("td:nth-child(2) a").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  await expect(page.locator("figure.volume-chart svg")).toBeVisible();
  await expect(page.locator(".strength-explanation")).toContainText(/email/);
  await hydrated(page);

  // Edit a field; it is marked as the user's, so sync will not overwrite it.
  await page.getByLabel("Title").fill("Chief Rapport Tester");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Title")).toHaveValue("Chief Rapport Tester");
  await expect(page.getByText(/Edited by you/)).toContainText("title");
  expect(errors).toEqual([]);
});

test("a suggested duplicate is merged, logged, and can be un-merged", async ({ page }) => {
  const errors = watchConsole(page);
  await signIn(page);
  await addContact(page, "Grace Hopper", "grace@navy.example");
  await addContact(page, "Grace Hopper", "g.hopper@yale.example");

  await page.goto("/contacts?q=Grace+Hopper");
  await expect(rows(page)).toHaveCount(2);
  await rows(page).first().locator("td:nth-child(2) a").click();
  await hydrated(page);
  const merge = page.getByRole("button", { name: "Merge Grace Hopper into this contact" });
  await expect(merge).toBeVisible();
  await merge.click();
  const log = page.locator("section", { has: page.getByRole("heading", { name: "Merge log" }) });
  await expect(log.getByRole("button", { name: "Un-merge" })).toBeVisible();

  // One contact now, with both addresses.
  await page.goto("/contacts?q=Grace+Hopper");
  await expect(rows(page)).toHaveCount(1);
  await rows(page).first().locator("td:nth-child(2) a").click();
  await expect(page.locator("body")).toContainText("grace@navy.example");
  await expect(page.locator("body")).toContainText("g.hopper@yale.example");
  await hydrated(page);
  // Navigating away before the server answered would cancel the un-merge (seen while the
  // demo import is still being processed).
  const unmerged = page.waitForResponse((r) => r.url().includes("unmerge_contacts") && r.status() === 200);
  await page.locator("section", { has: page.getByRole("heading", { name: "Merge log" }) }).getByRole("button", { name: "Un-merge" }).click();
  await unmerged;
  await page.goto("/contacts?q=Grace+Hopper");
  await expect(rows(page)).toHaveCount(2);
  expect(errors).toEqual([]);
});
