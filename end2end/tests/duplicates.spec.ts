import { expect, test } from "@playwright/test";
import { addContact, createChannel, hydrated, signIn, watchConsole } from "./support";

test("an automatic merge is explained on the contact page and undone in one click", async ({ page, request }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signIn(page);
  const stamp = Date.now();
  const name = "Quinn Harlowe";
  const oldAddress = `quinn.${stamp}@harlowe-works.example`;
  const newAddress = `quinn.harlowe.${stamp}@gmail.com`;
  const kept = await addContact(page, name, oldAddress);
  const merged = await addContact(page, name, newAddress);
  const { endpoint, key } = await createChannel(page, `Duplicates hook ${stamp}`);

  // Quinn writes from the old address that the other one is theirs now.
  const posted = await request.post(endpoint, {
    headers: { authorization: `Bearer ${key}` },
    data: {
      external_id: `e2e-new-address-${stamp}`,
      channel: "email",
      direction: "inbound",
      from: { email: oldAddress, name },
      subject: "New address",
      text: `Hi,\n\nI'm leaving Harlowe Works on Friday. My new email is ${newAddress}.\n\nQuinn`,
    },
  });
  expect(posted.status()).toBeLessThan(300);

  // Processing merges them on its own; the log says why. The page reads its sections
  // side by side, so a load while the merge commits can show the log but not yet the
  // moved address: wait for a load that shows both.
  const log = page.locator("section.merge-log");
  await expect
    .poll(async () => {
      await page.goto(`/contacts/${kept}`);
      return [await log.count(), await page.locator(".identities", { hasText: newAddress }).count()];
    }, { timeout: 60_000 })
    .toEqual([1, 1]);
  await hydrated(page);
  const entry = log.locator("li[data-automatic=true]");
  await expect(entry).toContainText("Merged automatically (they announced a new address)");
  await expect(entry).toContainText(newAddress);
  await expect(page.locator(".identities")).toContainText(newAddress);

  // One click undoes it: the other contact is back on its own.
  const undone = page.waitForResponse((r) => r.url().includes("unmerge_contacts") && r.status() === 200);
  await entry.getByRole("button", { name: "Undo merge" }).click();
  await undone;
  await expect(entry).toContainText("un-merged");
  await expect(page.locator(".identities")).not.toContainText(newAddress);
  await page.goto(`/contacts/${merged}`);
  await hydrated(page);
  await expect(page.getByText("This contact was merged into")).toHaveCount(0);
  await expect(page.locator(".identities")).toContainText(newAddress);
  // Undoing an automatic merge remembers them as two people: no suggestion either.
  await expect(page.locator("section.duplicates")).toHaveCount(0);

  expect(errors).toEqual([]);
});
