import { expect, test } from "@playwright/test";
import { addContact, hydrated, signIn, watchConsole } from "./support";

test("notes: one by hand, one through the API with a token from Settings; the agent's is marked", async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  const errors = watchConsole(page);
  await signIn(page);
  const email = `nora.${Date.now()}@notes.example`;
  await addContact(page, "Nora Notes", email);

  // A personal API token, made in Settings and shown once.
  await page.goto("/settings");
  await page.getByRole("link", { name: "Personal tokens for the Notes API" }).click();
  await expect(page).toHaveURL(/\/settings\/tokens$/);
  await hydrated(page);
  await page.getByLabel("Name").fill("E2E agent");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.locator("code.api-token").innerText()).trim();
  expect(token).toMatch(/^rpt_/);
  await expect(page.locator("tr.api-token-row")).toContainText("E2E agent");
  const auth = { Authorization: `Bearer ${token}` };

  // The API names the contact by email; its answer gives the id for the page.
  const activities = await request.get(`/api/v1/contacts/${email}/activities?state=completed`, { headers: auth });
  expect(activities.status()).toBe(200);
  const contactId = (await activities.json()).contact_id as string;

  await page.goto(`/contacts/${contactId}`);
  await hydrated(page);
  const panel = page.locator(".dual-timeline .notes-panel");
  await expect(panel.getByRole("heading", { name: "Notes" })).toBeVisible();
  await expect(panel).toContainText("No notes yet.");

  // By hand.
  await panel.getByLabel("New note").fill("Met Nora at the spring fair");
  await panel.getByRole("button", { name: "Add note" }).click();
  const handNote = panel.locator("li.note-user");
  await expect(handNote).toContainText("Met Nora at the spring fair");
  await expect(panel.getByLabel("New note")).toHaveValue("");

  // Through the API: the open page shows it by itself (notes.changed event).
  const posted = await request.post(`/api/v1/contacts/${email}/notes`, {
    headers: auth,
    data: { body: "Nora asked for the pricing sheet" },
  });
  expect(posted.status()).toBe(201);
  const agentNote = panel.locator("li.note-agent");
  await expect(agentNote).toContainText("Nora asked for the pricing sheet");
  await expect(agentNote.locator(".agent-badge")).toHaveText("Agent · E2E agent");
  await expect(handNote.locator(".agent-badge")).toHaveCount(0);
  await expect(panel.locator("li.note").first()).toHaveClass(/note-agent/); // newest first
  await expect(agentNote.getByRole("button", { name: "Edit" })).toHaveCount(0);

  // Both are still there after a reload (stored, not just shown).
  await page.reload();
  await hydrated(page);
  await expect(panel.locator("li.note")).toHaveCount(2);

  // Edit the hand-written note in place.
  await handNote.getByRole("button", { name: "Edit" }).click();
  await handNote.getByLabel("Note text").fill("Met Nora at the autumn fair");
  await handNote.getByRole("button", { name: "Save" }).click();
  await expect(handNote.locator(".note-body")).toHaveText("Met Nora at the autumn fair");
  await expect(handNote).toContainText("(edited)");

  // Delete the agent's note after confirming; a cancelled confirm keeps it.
  page.once("dialog", (dialog) => dialog.dismiss());
  await agentNote.getByRole("button", { name: "Delete" }).click();
  await page.waitForTimeout(500);
  await expect(agentNote).toBeVisible();
  page.once("dialog", (dialog) => dialog.accept());
  await agentNote.getByRole("button", { name: "Delete" }).click();
  await expect(agentNote).toHaveCount(0);
  await expect(panel.locator("li.note")).toHaveCount(1);

  // A wrong token is refused with the JSON error shape.
  const refused = await request.get(`/api/v1/contacts/${email}/notes`, { headers: { Authorization: "Bearer rpt_wrong" } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe("unauthorized");

  expect(errors).toEqual([]);
});
