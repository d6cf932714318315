import { expect, test } from "@playwright/test";
import { addContact, createChannel, hydrated, signIn, watchConsole } from "./support";

// Keep-in-touch against the demo: a contact whose last mail was 45 days ago, set to
// "every month", is overdue on /reminders; a mail sent to them (through the demo's
// webhook channel, as a mail provider would deliver it) takes them off.

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

test("reminders: every month after 45 days of silence is overdue; a mail sent takes them off", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  const errors = watchConsole(page);
  await signIn(page);
  const stamp = Date.now();
  const email = `rita.${stamp}@reminders.example`;
  const name = `Rita Remind ${stamp}`;
  const id = await addContact(page, name, email);
  const { endpoint, key } = await createChannel(page, `Reminders hook ${stamp}`);

  // Her last mail, 45 days ago.
  const subject = `Catching up ${stamp}`;
  const posted = await request.post(endpoint, {
    headers: { authorization: `Bearer ${key}` },
    data: {
      external_id: `rem-in-${stamp}`,
      channel: "email",
      direction: "inbound",
      occurred_at: daysAgo(45),
      from: { email, name },
      to: [{ email: "alex@brightwater-labs.com" }],
      subject,
      text: "How have you been?",
    },
  });
  expect(posted.status()).toBeLessThan(300);
  await page.goto(`/contacts/${id}`);
  await hydrated(page);
  await expect(page.locator(".activity-list li.activity", { hasText: subject })).toHaveAttribute(
    "data-state",
    "completed",
    { timeout: 30_000 },
  );

  // Every month, set on the contact page.
  const panel = page.getByTestId("keep-in-touch");
  await panel.getByLabel("Frequency").selectOption("month");
  await panel.getByRole("button", { name: "Save frequency" }).click();
  await expect(panel.getByTestId("keep-in-touch-status")).toContainText(/Every month: 1[45] days overdue/);

  // Overdue on /reminders, with the last interaction and a draft; the nav link goes there.
  await page.getByRole("link", { name: "Reminders", exact: true }).click();
  await expect(page).toHaveURL(/\/reminders$/);
  await hydrated(page);
  const row = page.getByTestId("reminder").filter({ hasText: name });
  await expect(row).toContainText(/1[45] days overdue/);
  await expect(row).toContainText(`Last: Email from them`);
  await expect(row).toContainText(subject);
  await expect(row.getByRole("link", { name: "Draft" })).toHaveAttribute("href", /mail\.google\.com.*to=rita/);

  // The contacts page's card lists her too.
  await page.goto("/contacts");
  await expect(page.getByTestId("reminders-card")).toContainText("overdue");
  await expect(page.getByTestId("reminders-card").getByRole("link", { name: "Keep in touch" })).toHaveAttribute("href", "/reminders");

  // A mail sent to her today.
  const sent = await request.post(endpoint, {
    headers: { authorization: `Bearer ${key}` },
    data: {
      external_id: `rem-out-${stamp}`,
      channel: "email",
      direction: "outbound",
      from: { email: "alex@brightwater-labs.com", name: "Alex Morgan" },
      to: [{ email, name }],
      subject: `Re: ${subject}`,
      text: "Lunch next week?",
    },
  });
  expect(sent.status()).toBeLessThan(300);
  await expect
    .poll(
      async () => {
        await page.goto("/reminders");
        return page.getByTestId("reminder").filter({ hasText: name }).count();
      },
      { timeout: 60_000 },
    )
    .toBe(0);
  await page.goto(`/contacts/${id}`);
  await expect(page.getByTestId("keep-in-touch-status")).toContainText(/Every month: due in (29|30|31) days/);

  expect(errors).toEqual([]);
});
