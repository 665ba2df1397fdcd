import { type Browser, type Page } from '@playwright/test';
import { expect, signIn, test, waitForHydration } from './support/fixtures';

/** A signed-in page in its own browser context. */
async function personOn(browser: Browser, baseUrl: string, name: string, role?: 'admin' | 'responder'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, baseUrl, name, role);
  return page;
}

/** Calls a server function as the signed-in person of `page` (its cookies, its Origin). */
async function call(page: Page, baseUrl: string, endpoint: string, form: Record<string, string>) {
  const response = await page.request.post(`${baseUrl}/api/${endpoint}`, {
    form,
    headers: { Origin: baseUrl },
  });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

test('an anonymous visitor sees a component go to major outage and the public update text', async ({ browser, warroom }) => {
  const base = warroom.baseUrl;
  const component = `Checkout ${Date.now()}`;
  const admin = await personOn(browser, base, 'Grace Admin', 'admin');
  await call(admin, base, 'create_status_component', { name: component, description: 'Paying for things' });

  // The public: no session, no JavaScript needed.
  const visitorContext = await browser.newContext({ javaScriptEnabled: false });
  const visitor = await visitorContext.newPage();
  await visitor.goto(`${base}/status`);
  const row = visitor.locator('li, tr, div').filter({ hasText: component }).last();
  await expect(visitor.getByText(component).first()).toBeVisible();
  await expect(row).toContainText('Operational');

  // In the room: declare, take command, mark the component, post the public update.
  const alice = await personOn(browser, base, 'Alice Internal');
  await alice.goto(`${base}/incidents/new`);
  await waitForHydration(alice);
  await alice.getByLabel('Title').fill('payments-db-7 OOM after deploy 4411');
  await alice.getByRole('radio', { name: /SEV1/ }).check();
  await alice.getByRole('button', { name: 'Declare incident' }).click();
  await alice.waitForURL(/\/incidents\/\d+$/);
  await waitForHydration(alice);
  await alice.getByTestId('role-commander').getByRole('button', { name: 'Claim' }).click();
  const panel = alice.getByTestId('public-panel');
  // Commanding is not enough: publishing is a grant, and the panel says so.
  await expect(panel.getByTestId('why-not-public')).toContainText('an admin allows that on Admin → People');
  await expect(panel.getByRole('button', { name: 'Publish update' })).toHaveCount(0);
  const aliceId = (await call(alice, base, 'me', {})).person.id;
  await call(admin, base, 'set_member_publishing', { user_id: String(aliceId), allowed: 'true' });
  await alice.reload();
  await waitForHydration(alice);
  await expect(panel).toContainText('Post a public update');
  await panel.getByLabel(`Impact on ${component}`).selectOption('major_outage');
  await panel.locator('.impact-form').filter({ has: alice.getByLabel(`Impact on ${component}`) }).getByRole('button', { name: 'Set' }).click();
  await expect(alice.getByTestId('timeline')).toContainText(`marked ${component}: Major outage`);
  await panel.getByLabel('Public title').fill('Payments are failing for some customers');
  await panel.getByLabel('Message').fill('We are investigating failed payments at checkout. Next update in 30 minutes.');
  await panel.getByRole('button', { name: 'Publish update' }).click();
  await expect(alice.getByTestId('timeline')).toContainText('posted a public update — Investigating');
  await expect(panel.getByTestId('public-summary')).toContainText('Public as “Payments are failing for some customers”');

  // The visitor reloads the page as people do during an outage.
  await expect(async () => {
    await visitor.reload();
    await expect(visitor.getByText('We are investigating failed payments at checkout.')).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(visitor.getByText('Payments are failing for some customers').first()).toBeVisible();
  await expect(row).toContainText('Major outage');
  await expect(visitor.getByText('Major System Outage').first()).toBeVisible();
  // Nothing internal.
  const html = await visitor.content();
  expect(html).not.toContain('payments-db-7');
  expect(html).not.toContain('Alice Internal');
  await visitor.screenshot({ path: test.info().outputPath('status-page-major-outage.png'), fullPage: true });
  await visitorContext.close();
});
