// Administration on the development sign-in server: API tokens (secret shown once, used,
// revoked), the audit log, and changing someone's role.
import crypto from 'node:crypto';
import { type Browser, type Page } from '@playwright/test';
import { expect, signIn, test, waitForHydration, type Role } from './support/fixtures';

/** A name no other test (of this worker's shared server) uses. */
function unique(name: string): string {
  return `${name} ${crypto.randomBytes(3).toString('hex')}`;
}

/** A signed-in page in its own browser context (its own cookies: another person). */
async function personOn(browser: Browser, baseUrl: string, name: string, role: Role): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, baseUrl, name, role);
  return page;
}

/** Opens an admin page and waits until it is interactive. */
async function openAdmin(page: Page, url: string): Promise<void> {
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  await waitForHydration(page);
}

test('an API token: created with its secret shown once, used, revoked, and audited', async ({ browser, request, warroom }) => {
  const admin = await personOn(browser, warroom.baseUrl, unique('Root Admin'), 'admin');
  const tokenName = unique('Alertmanager');
  const api = `${warroom.baseUrl}/api/v1/incidents`;

  await openAdmin(admin, `${warroom.baseUrl}/admin/tokens`);
  await admin.locator('#token-name').fill(tokenName);
  await admin.getByLabel(/incidents:read/).check();
  await admin.locator('#token-expiry').selectOption('30');
  await admin.getByRole('button', { name: 'Create token' }).click();
  const secretBox = admin.getByTestId('new-token-secret');
  await expect(secretBox).toHaveValue(/^wr_/);
  const secret = await secretBox.inputValue();
  const row = admin.getByTestId('tokens').locator('tbody tr', { hasText: tokenName });
  await expect(row).toContainText('incidents:read');
  await expect(row).not.toContainText('incidents:write');
  await expect(row).toContainText('never'); // not used yet
  // Only a prefix of it is listed.
  await expect(admin.getByTestId('tokens')).not.toContainText(secret);

  // The secret is not shown again.
  await admin.reload();
  await waitForHydration(admin);
  await expect(row).toBeVisible();
  await expect(admin.getByTestId('new-token-secret')).toHaveCount(0);
  expect(await admin.content()).not.toContain(secret);

  const auth = { Authorization: `Bearer ${secret}` };
  const ok = await request.get(api, { headers: auth });
  expect(ok.status()).toBe(200);
  expect(Array.isArray((await ok.json()).incidents)).toBe(true);
  // Scoped: incidents:read does not allow declaring.
  const write = await request.post(api, { headers: auth, data: { title: 'From a script', severity: 'SEV3' } });
  expect(write.status()).toBe(403);

  await admin.reload();
  await waitForHydration(admin);
  await expect(row).not.toContainText('never'); // last used: now
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toContainText('revoked');
  await expect(row.getByRole('button', { name: 'Revoke' })).toHaveCount(0);

  const refused = await request.get(api, { headers: auth });
  expect(refused.status()).toBe(401);
  expect(refused.headers()['www-authenticate']).toContain('Bearer');

  await openAdmin(admin, `${warroom.baseUrl}/admin/audit`);
  const audit = admin.getByTestId('audit').locator('tbody tr');
  // Created and revoked name the token in their details; a use names it as the actor.
  await expect(audit.filter({ hasText: 'Token created' }).filter({ hasText: tokenName })).toHaveCount(1);
  await expect(audit.filter({ hasText: 'Token used' }).filter({ hasText: tokenName })).toHaveCount(1);
  await expect(audit.filter({ hasText: 'Token revoked' }).filter({ hasText: tokenName })).toHaveCount(1);

  // The action filter narrows the log to one kind of entry.
  await admin.getByTestId('audit-action').selectOption('token_revoked');
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.waitForURL(/[?&]action=token_revoked/);
  await expect(audit.filter({ hasText: tokenName })).toHaveCount(1);
  await expect(audit.filter({ hasText: 'Token created' })).toHaveCount(0);
  await expect(audit.filter({ hasText: 'Token used' })).toHaveCount(0);
  const labels = await audit.locator('td:nth-child(2)').allInnerTexts();
  expect(labels.length).toBeGreaterThan(0);
  for (const label of labels) expect(label).toContain('Token revoked');
});

test('an admin makes a responder a viewer, whose open room then loses its controls', async ({ browser, warroom }) => {
  const admin = await personOn(browser, warroom.baseUrl, unique('Root Admin'), 'admin');
  const responderName = unique('Rita Responder');
  const responder = await personOn(browser, warroom.baseUrl, responderName, 'responder');

  // The responder declares an incident and works in its room.
  await responder.goto(`${warroom.baseUrl}/incidents/new`);
  await waitForHydration(responder);
  await responder.getByLabel('Title').fill(unique('Role change drill'));
  await responder.getByRole('radio', { name: /SEV3/ }).check();
  await responder.getByRole('button', { name: 'Declare incident' }).click();
  await responder.waitForURL(/\/incidents\/\d+$/);
  await waitForHydration(responder);
  await expect(responder.getByLabel('Add to timeline')).toBeVisible();
  await expect(responder.getByRole('button', { name: '→ Identified' })).toBeVisible();
  await expect(responder.getByTestId('read-only')).toHaveCount(0);

  await openAdmin(admin, `${warroom.baseUrl}/admin/people`);
  const role = admin.getByLabel(`Role of ${responderName}`);
  await expect(role).toHaveValue('responder');
  await role.selectOption('viewer');
  // Saved: a fresh page shows the new role.
  await expect(async () => {
    await admin.reload();
    await expect(admin.getByLabel(`Role of ${responderName}`)).toHaveValue('viewer', { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });

  await responder.reload();
  await waitForHydration(responder);
  await expect(responder.getByTestId('read-only')).toBeVisible();
  await expect(responder.getByLabel('Add to timeline')).toHaveCount(0);
  await expect(responder.getByRole('button', { name: '→ Identified' })).toHaveCount(0);
  await expect(responder.getByRole('link', { name: 'Declare' })).toHaveCount(0);
  // Not only hidden: the server refuses the viewer's writes.
  const incidentId = new URL(responder.url()).pathname.split('/').pop()!;
  const write = await responder.request.post(`${warroom.baseUrl}/api/set_status`, {
    form: { incident_id: incidentId, status: 'identified' },
    headers: { Origin: warroom.baseUrl },
  });
  expect(write.status()).toBe(403);
});
