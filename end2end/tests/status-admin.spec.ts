// The status page's admin catalog (/admin/status): an admin adds a group and a component
// in it, sees them listed and sets a status by hand; a viewer is refused. Maintenance
// (/admin/maintenance): announced, moved (a bad window refused), and the public told.
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

/** `at` as a `datetime-local` value in UTC (the maintenance page's times are UTC). */
function utcInput(at: Date): string {
  return at.toISOString().slice(0, 16);
}

/** `at` as Warroom writes it in text, to the minute: "2026-11-24 07:33". */
function utcText(at: Date): string {
  return utcInput(at).replace('T', ' ');
}

test('an admin announces maintenance, moves it, and the public reads the new window', async ({ browser, warroom }) => {
  const base = warroom.baseUrl;
  const admin = await personOn(browser, base, unique('Root Admin'), 'admin');
  const component = unique('Search');
  const created = await admin.request.post(`${base}/api/create_status_component`, {
    form: { name: component, description: '', group_id: '0' },
    headers: { Origin: base },
  });
  expect(created.ok(), await created.text()).toBeTruthy();

  const title = unique('Index rebuild');
  const day = 24 * 60 * 60 * 1000;
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const starts = new Date(minute + 2 * day);
  const ends = new Date(minute + 2 * day + 60 * 60 * 1000);
  await admin.goto(`${base}/admin/maintenance`);
  await waitForHydration(admin);
  const announce = admin.locator('section').filter({ has: admin.getByRole('heading', { name: 'Scheduled maintenance' }) });
  await announce.getByLabel('Title').fill(title);
  await announce.getByLabel('Message to the public').fill('Search results may be incomplete for an hour.');
  await announce.getByLabel('Starts (UTC)').fill(utcInput(starts));
  await announce.getByLabel('Ends (UTC)').fill(utcInput(ends));
  await announce.getByLabel(component).check();
  await announce.getByRole('button', { name: 'Announce maintenance' }).click();
  const row = admin.getByTestId('maintenance-window').filter({ hasText: title });
  await expect(row).toContainText('Upcoming');
  await expect(row).toContainText(component);

  // A window that ends before it starts: refused next to the form, which stays open.
  const changeForm = admin.getByRole('form', { name: `Change the window of ${title}` });
  await row.getByRole('button', { name: 'Change window' }).click();
  await expect(changeForm.getByLabel('Starts (UTC)')).toHaveValue(utcInput(starts));
  await changeForm.getByLabel('Ends (UTC)').fill(utcInput(new Date(starts.getTime() - 60 * 60 * 1000)));
  await changeForm.getByRole('button', { name: 'Save window' }).click();
  await expect(changeForm.getByRole('alert')).toHaveText('The window must end after it starts.');
  await expect(row).toContainText(`${utcText(ends)}:00 UTC`);

  // Moved a day later: the list shows it, the form closes, the public is told.
  const newStarts = new Date(starts.getTime() + day);
  const newEnds = new Date(ends.getTime() + day);
  await changeForm.getByLabel('Starts (UTC)').fill(utcInput(newStarts));
  await changeForm.getByLabel('Ends (UTC)').fill(utcInput(newEnds));
  await changeForm.getByRole('button', { name: 'Save window' }).click();
  await expect(changeForm).toHaveCount(0);
  await expect(row).toContainText(`${utcText(newStarts)}:00 UTC`);
  await expect(row).toContainText(`${utcText(newEnds)}:00 UTC`);

  const href = await row.getByRole('link', { name: title }).getAttribute('href');
  const visitorContext = await browser.newContext({ javaScriptEnabled: false });
  const visitor = await visitorContext.newPage();
  const said = `The maintenance has been rescheduled: it now runs from ${utcText(newStarts)} UTC to ${utcText(newEnds)} UTC.`;
  await expect(async () => {
    await visitor.goto(`${base}${href}`);
    await expect(visitor.getByText(said)).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(visitor.getByText('Search results may be incomplete for an hour.')).toBeVisible();
  await visitorContext.close();
});
