// The status page's admin catalog (/admin/status): an admin adds a group and a component
// in it, sees them listed and sets a status by hand; a viewer is refused.
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

test('an admin adds a group and a component in it, and sees them listed', async ({ browser, warroom }) => {
  const admin = await personOn(browser, warroom.baseUrl, unique('Root Admin'), 'admin');
  const groupName = unique('Europe');
  const componentName = unique('Checkout');

  const response = await admin.goto(`${warroom.baseUrl}/admin/status`);
  expect(response?.status()).toBe(200);
  await waitForHydration(admin);
  await expect(admin.getByRole('link', { name: /Public status page/ })).toHaveAttribute('href', '/status');

  const addGroup = admin.getByTestId('add-group');
  await addGroup.getByLabel('Name', { exact: true }).fill(groupName);
  await addGroup.getByRole('button', { name: 'Add group' }).click();
  const group = admin.getByTestId('catalog-group').filter({ hasText: groupName });
  await expect(group).toContainText('No components in this group yet.');
  await expect(addGroup.getByLabel('Name', { exact: true })).toHaveValue('');

  const addComponent = admin.getByTestId('add-component');
  await addComponent.getByLabel('Name', { exact: true }).fill(componentName);
  await addComponent.getByLabel('Description (optional)').fill('Paying for orders');
  await addComponent.getByLabel('Group').selectOption({ label: groupName });
  await addComponent.getByRole('button', { name: 'Add component' }).click();
  const row = group.getByTestId('catalog-component').filter({ hasText: componentName });
  await expect(row).toContainText('Paying for orders');
  await expect(row.getByLabel(`Status of ${componentName}`)).toHaveValue(''); // follows incidents
  await expect(addComponent.getByLabel('Name', { exact: true })).toHaveValue('');

  // The same name again: refused, with the reason next to the form.
  await addComponent.getByLabel('Name', { exact: true }).fill(componentName.toUpperCase());
  await addComponent.getByRole('button', { name: 'Add component' }).click();
  await expect(addComponent.getByRole('alert')).toHaveText(
    `A component named "${componentName}" already exists: choose another name.`,
  );
  await expect(admin.getByTestId('catalog-component').filter({ hasText: componentName })).toHaveCount(1);

  // A status set by hand stays set.
  await row.getByLabel(`Status of ${componentName}`).selectOption('major_outage');
  await expect(async () => {
    await admin.reload();
    await expect(admin.getByLabel(`Status of ${componentName}`)).toHaveValue('major_outage', { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
});

test('a viewer is refused the status admin page and its changes', async ({ browser, warroom }) => {
  const viewer = await personOn(browser, warroom.baseUrl, unique('Vic Viewer'), 'viewer');
  const response = await viewer.goto(`${warroom.baseUrl}/admin/status`);
  expect(response?.status()).toBe(403);
  await expect(viewer.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  await expect(viewer.getByTestId('add-component')).toHaveCount(0);
  const write = await viewer.request.post(`${warroom.baseUrl}/api/create_status_component`, {
    form: { name: unique('Sneaky'), group_id: '0' },
    headers: { Origin: warroom.baseUrl },
  });
  expect(write.status()).toBe(403);
});
