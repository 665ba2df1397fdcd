import { type Browser, type Page } from '@playwright/test';
import { expect, signIn, startServer, test, waitForHydration } from './support/fixtures';

/** A signed-in page in its own browser context (its own cookies: another person). */
async function personOn(browser: Browser, baseUrl: string, name: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, baseUrl, name);
  return page;
}

/** Declares an incident through the form; returns the room's URL. */
async function declare(page: Page, baseUrl: string, title: string, severity: string): Promise<string> {
  await page.goto(`${baseUrl}/incidents/new`);
  await waitForHydration(page);
  await page.getByLabel('Title').fill(title);
  await page.getByRole('radio', { name: new RegExp(severity) }).check();
  await page.getByLabel(/Summary/).fill('Customers see **errors** at checkout.');
  await page.getByRole('button', { name: 'Declare incident' }).click();
  await page.waitForURL(/\/incidents\/\d+$/);
  return page.url();
}

async function post(page: Page, text: string) {
  await page.getByLabel('Add to timeline').fill(text);
  await page.getByRole('button', { name: 'Post' }).click();
}

test('declaring an incident opens its room with status, severity, bridge and timeline', async ({ browser, warroom }) => {
  const alice = await personOn(browser, warroom.baseUrl, 'Alice Responder');
  await declare(alice, warroom.baseUrl, 'Checkout returns 500s', 'SEV1');
  await waitForHydration(alice);

  await expect(alice.getByTestId('incident-title')).toHaveText('Checkout returns 500s');
  await expect(alice.locator('.room-head [data-testid=incident-status]')).toHaveText('Investigating');
  await expect(alice.locator('.room-head [data-testid=incident-severity]')).toHaveText('SEV1');
  await expect(alice.getByRole('link', { name: 'Join bridge' })).toHaveAttribute('href', /meet\.jit\.si\/warroom-inc-\d+-checkout-returns-500s/);
  await expect(alice.locator('.summary strong')).toHaveText('errors');
  await expect(alice.getByTestId('entry').first()).toContainText('declared the incident as SEV1');

  // Claim command, move the status, post a decision.
  await alice.getByTestId('role-commander').getByRole('button', { name: 'Claim' }).click();
  await expect(alice.getByTestId('role-commander')).toContainText('Alice Responder');
  await expect(alice.getByTestId('timeline')).toContainText('took the role of Incident commander');
  await alice.getByRole('button', { name: '→ Identified' }).click();
  await expect(alice.locator('.room-head [data-testid=incident-status]')).toHaveText('Identified');
  await alice.getByLabel('Entry kind').selectOption('decision');
  await post(alice, 'Roll back to **v41**');
  await expect(alice.locator('.entry.kind-decision')).toContainText('Decision: Roll back to v41');
  await expect(alice.getByLabel('Add to timeline')).toHaveValue('');
  await expect(alice.getByTestId('role-history')).toContainText('Alice Responder');
});

test('a second person sees entries, status, severity and roles change live without reloading', async ({ browser, warroom }) => {
  const alice = await personOn(browser, warroom.baseUrl, 'Alice');
  const bob = await personOn(browser, warroom.baseUrl, 'Bob');
  const room = await declare(alice, warroom.baseUrl, 'Login outage', 'SEV2');

  await bob.goto(room);
  await waitForHydration(bob);
  await expect(bob.getByTestId('live-indicator')).toHaveText('Live');
  // A marker that a reload would erase.
  await bob.evaluate(() => ((window as unknown as { marker: string }).marker = 'no reload'));

  await expect(bob.getByTestId('presence')).toContainText('Alice');
  await expect(bob.getByTestId('presence')).toContainText('Bob');

  await post(alice, 'Auth service pods are *crash-looping*');
  await expect(bob.getByTestId('timeline')).toContainText('Auth service pods are crash-looping', { timeout: 3_000 });
  await alice.getByRole('button', { name: '→ Monitoring' }).click();
  await expect(bob.locator('.room-head [data-testid=incident-status]')).toHaveText('Monitoring', { timeout: 3_000 });
  await alice.getByTestId('severity-select').selectOption('SEV1');
  await expect(bob.locator('.room-head [data-testid=incident-severity]')).toHaveText('SEV1', { timeout: 3_000 });
  await alice.getByTestId('role-scribe').getByRole('button', { name: 'Claim' }).click();
  await expect(bob.getByTestId('role-scribe')).toContainText('Alice', { timeout: 3_000 });
  // Bob takes the note taker role over from Alice: a handoff both see.
  await bob.getByTestId('role-scribe').getByRole('button', { name: 'Take over' }).click();
  await expect(alice.getByTestId('role-scribe')).toContainText('Bob', { timeout: 3_000 });
  await expect(alice.getByTestId('timeline')).toContainText('took over as Note taker from Alice');
  await expect(alice.getByTestId('role-history')).toContainText('Bob');

  expect(await bob.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('no reload');
  // Bob leaves; Alice sees the room empty of him.
  await bob.context().close();
  await expect(alice.getByTestId('presence')).not.toContainText('Bob', { timeout: 5_000 });
});

test('an update made through one server process reaches a viewer of another', async ({ browser, warroom }) => {
  const second = await startServer({ databaseUrl: warroom.databaseUrl });
  try {
    const alice = await personOn(browser, warroom.baseUrl, 'Alice');
    const room = await declare(alice, warroom.baseUrl, 'Replica drill', 'SEV3');
    const bob = await personOn(browser, second.baseUrl, 'Bob');
    await bob.goto(room.replace(warroom.baseUrl, second.baseUrl));
    await waitForHydration(bob);
    await expect(bob.getByTestId('live-indicator')).toHaveText('Live');

    await post(alice, 'Posted on server one');
    await expect(bob.getByTestId('timeline')).toContainText('Posted on server one', { timeout: 3_000 });
    await expect(bob.getByTestId('presence')).toContainText('Alice');
  } finally {
    await second.stop();
  }
});

test('markup in a note is shown as sanitised text and never runs', async ({ browser, warroom }) => {
  const alice = await personOn(browser, warroom.baseUrl, 'Alice');
  const room = await declare(alice, warroom.baseUrl, 'Sanitiser check', 'SEV3');
  await post(alice, '<script>window.pwned = 1</script>\n\n**safe** <img src=x onerror="window.pwned = 2">');
  await expect(alice.getByTestId('timeline').locator('strong', { hasText: 'safe' })).toBeVisible();
  // Fresh load of the server-rendered page, too.
  await alice.goto(room);
  await waitForHydration(alice);
  await expect(alice.getByTestId('timeline').locator('strong', { hasText: 'safe' })).toBeVisible();
  expect(await alice.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
});

test('editing a note keeps its history, and notes can be pinned', async ({ browser, warroom }) => {
  const alice = await personOn(browser, warroom.baseUrl, 'Alice');
  await declare(alice, warroom.baseUrl, 'Edit check', 'SEV3');
  await waitForHydration(alice);
  await post(alice, 'Disk full on db-1');
  const note = alice.locator('.entry.kind-note', { hasText: 'Disk full on db-1' });
  await note.getByRole('button', { name: 'Edit' }).click();
  await note.getByLabel('Edit note').fill('Disk full on db-2');
  await note.getByRole('button', { name: 'Save' }).click();
  const edited = alice.locator('.entry.kind-note', { hasText: 'Disk full on db-2' });
  await expect(edited).toContainText('edited');
  await edited.getByRole('button', { name: 'History' }).click();
  await expect(edited.getByTestId('note-history')).toContainText('Version 1');
  await expect(edited.getByTestId('note-history')).toContainText('Disk full on db-1');
  await edited.getByRole('button', { name: 'Pin' }).click();
  await expect(alice.locator('.pinned')).toContainText('Disk full on db-2');
});

test('the incident list shows open incidents and filters by search', async ({ browser, warroom }) => {
  const alice = await personOn(browser, warroom.baseUrl, 'Alice');
  await declare(alice, warroom.baseUrl, 'Zebra crossing outage', 'SEV2');
  await alice.goto(`${warroom.baseUrl}/incidents`);
  await waitForHydration(alice);
  await expect(alice.getByTestId('incident-list')).toContainText('Zebra crossing outage');
  await alice.getByLabel('Search titles').fill('no-such-incident');
  await alice.getByRole('button', { name: 'Filter' }).click();
  await expect(alice.locator('.empty')).toBeVisible();
  await alice.getByLabel('Search titles').fill('zebra');
  await alice.getByRole('button', { name: 'Filter' }).click();
  await expect(alice.getByTestId('incident-list')).toContainText('Zebra crossing outage');
});
