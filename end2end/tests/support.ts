import { expect, type ConsoleMessage, type Locator, type Page } from "@playwright/test";

/** Collects browser console errors (hydration mismatches log there) for a final check. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

/** Waits until the wasm app has taken over the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/**
 * Signs in through the demo's simulated Google consent page as `who` (a name on it).
 * A first sign-in lands on the live import (/welcome), later ones on /contacts.
 */
export async function signInAs(page: Page, who: RegExp) {
  await page.goto("/login");
  await page.getByRole("link", { name: "Sign in with Google" }).click();
  await page.getByRole("button", { name: who }).click();
  await expect(page).toHaveURL(/\/(welcome|contacts)$/);
}

/** Signs in as the demo's Alex Morgan and opens the contacts page. */
export async function signIn(page: Page) {
  await signInAs(page, /Alex Morgan/);
  if (!page.url().endsWith("/contacts")) await page.goto("/contacts");
  await expect(page).toHaveURL(/\/contacts$/);
}

/**
 * Waits until the background import has made more than five contacts, and returns the
 * rows of the contacts list sorted by email count (busiest first), which is open.
 */
export async function busiestContacts(page: Page): Promise<Locator> {
  const rows = page.locator("table.contacts tbody tr");
  await expect
    .poll(async () => {
      await page.goto("/contacts?sort=emails");
      return rows.count();
    }, { timeout: 90_000 })
    .toBeGreaterThan(5);
  return rows;
}

/** Creates a generic webhook channel in Settings -> Channels; returns its endpoint and key. */
export async function createChannel(page: Page, name: string): Promise<{ endpoint: string; key: string }> {
  await page.goto("/settings/channels");
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Provider").selectOption("generic");
  await page.getByLabel("Default type").selectOption("email");
  await page.getByRole("button", { name: "Create channel" }).click();
  const key = (await page.locator("code.ingestion-key").innerText()).trim();
  const endpoint = (await page.getByText(/^POST \/ingest\//).first().innerText()).replace("POST ", "").trim();
  return { endpoint, key };
}

/** Adds a contact through the contacts page (signed in); returns its id. */
export async function addContact(page: Page, name: string, email: string): Promise<string> {
  await page.goto("/contacts");
  await hydrated(page);
  await page.getByRole("button", { name: "Add contact" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  const saved = page.waitForResponse((r) => r.url().includes("create_contact") && r.status() === 200);
  await page.getByRole("button", { name: "Save contact" }).click();
  return (await (await saved).json()) as string;
}
