import { type Browser, type Page } from '@playwright/test';
import { expect, signIn, test, waitForHydration } from './support/fixtures';

// Markup in every text people (or API tokens) write: it must read as the text typed —
// in the page, in the document title and on the public status page — and make no
// element, run nothing and navigate nowhere.
const LONG = '</title><meta http-equiv=refresh content=0;url=about:blank><img src=x onerror=window.pwned=1>';
// Names are at most 80 characters.
const SHORT = '<b>Mal</b></title><img src=x onerror=window.pwned=2>&amp;';

async function personOn(browser: Browser, baseUrl: string, name: string, role?: 'admin' | 'responder'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, baseUrl, name, role);
  return page;
}

async function call(page: Page, baseUrl: string, endpoint: string, form: Record<string, string>) {
  const response = await page.request.post(`${baseUrl}/api/${endpoint}`, { form, headers: { Origin: baseUrl } });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Nothing the payloads could have made is in the page, and nothing ran. */
async function expectNoInjection(page: Page) {
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.locator('meta[http-equiv]').count()).toBe(0);
  expect(await page.locator('b', { hasText: 'Mal' }).count()).toBe(0);
  const pwned = await page.evaluate(() => (window as unknown as { pwned?: number }).pwned).catch(() => undefined);
  expect(pwned).toBeUndefined();
}

test('markup in titles, summaries, notes, names, public updates, components and maintenance shows literally everywhere', async ({ browser, warroom }) => {
  const base = warroom.baseUrl;
  const admin = await personOn(browser, base, `Ada ${SHORT}`, 'admin');
  const mallory = await personOn(browser, base, SHORT, 'responder');

  const group = await call(admin, base, 'create_status_group', { name: `${LONG} G` });
  const component = await call(admin, base, 'create_status_component', { name: `${LONG} C`, group_id: String(group.id) });

  // Mallory declares through the form, with the payload in title and summary, and posts a note.
  await mallory.goto(`${base}/incidents/new`);
  await waitForHydration(mallory);
  await mallory.getByLabel('Title').fill(LONG);
  await mallory.getByRole('radio', { name: /SEV2/ }).check();
  await mallory.getByLabel(/Summary/).fill(`**summary** ${LONG}`);
  await mallory.getByRole('button', { name: 'Declare incident' }).click();
  await mallory.waitForURL(/\/incidents\/\d+$/);
  const room = mallory.url();
  const id = room.split('/').pop()!;
  await waitForHydration(mallory);
  await mallory.getByLabel('Add to timeline').fill(`${LONG} note`);
  await mallory.getByRole('button', { name: 'Post' }).click();
  await expect(mallory.getByTestId('timeline')).toContainText(`${LONG} note`);

  // The admin speaks publicly for it and announces maintenance.
  await call(admin, base, 'assign_role', { incident_id: id, role: 'commander', user_id: '0' });
  await call(admin, base, 'set_component_impact', { incident_id: id, component_id: String(component.id), impact: 'major_outage' });
  await call(admin, base, 'post_public_update', { incident_id: id, public_title: `${LONG} public`, status: 'investigating', message: `${LONG} message` });
  const starts = new Date(Date.now() + 2 * 86_400_000);
  const ends = new Date(starts.getTime() + 3_600_000);
  const utc = (d: Date) => d.toISOString().slice(0, 16);
  await call(admin, base, 'schedule_maintenance', {
    title: `${LONG} window`, message: `${LONG} maintenance`, starts_at: utc(starts), ends_at: utc(ends), 'component_ids[0]': String(component.id),
  });

  // The room, opened fresh by its link (server-rendered head, then hydrated).
  await admin.goto(room);
  await waitForHydration(admin);
  await expect(admin).toHaveTitle(`INC-${id} ${LONG} · Warroom`);
  await expect(admin.getByTestId('incident-title')).toHaveText(LONG);
  await expect(admin.locator('.summary')).toContainText(`summary ${LONG}`);
  await expect(admin.locator('.summary strong')).toHaveText('summary');
  await expect(admin.getByTestId('timeline')).toContainText(`${LONG} note`);
  await expect(admin.getByTestId('timeline')).toContainText(SHORT);
  await expect(admin.getByTestId('timeline')).toContainText(`posted a public update — Investigating: ${LONG} public`);
  await expect(admin.getByTestId('header-commander')).toHaveText(`IC: Ada ${SHORT}`);
  await expect(admin.getByTestId('me')).toHaveText(`Ada ${SHORT}`);
  await admin.waitForTimeout(1_500); // a refresh would have navigated by now
  expect(admin.url()).toBe(room);
  await expectNoInjection(admin);
  await admin.screenshot({ path: test.info().outputPath('room-with-markup-in-every-text.png'), fullPage: true });

  // The list.
  await admin.goto(`${base}/incidents`);
  await waitForHydration(admin);
  await expect(admin.getByTestId('incident-list')).toContainText(LONG);
  await expectNoInjection(admin);

  // People.
  await admin.goto(`${base}/admin/people`);
  await waitForHydration(admin);
  await expect(admin.locator('main')).toContainText(SHORT);
  await expectNoInjection(admin);

  // The public status page, without JavaScript, as the crowd reads it.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const visitor = await context.newPage();
  await expect(async () => {
    await visitor.goto(`${base}/status`);
    await expect(visitor.locator('body')).toContainText(`${LONG} public`, { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(visitor.locator('body')).toContainText(`${LONG} message`);
  await expect(visitor.locator('body')).toContainText(`${LONG} C`);
  await expect(visitor.locator('body')).toContainText(`${LONG} G`);
  await expect(visitor.locator('body')).toContainText(`${LONG} window`);
  await expectNoInjection(visitor);
  await visitor.getByRole('link', { name: `${LONG} public` }).first().click();
  await expect(visitor).toHaveTitle(new RegExp(`^${escapeRegExp(`${LONG} public`)} · `));
  await expectNoInjection(visitor);
  await visitor.goto(`${base}/status`);
  await visitor.getByRole('link', { name: `${LONG} window` }).first().click();
  await expect(visitor).toHaveTitle(new RegExp(`^${escapeRegExp(`${LONG} window`)} · `));
  await expect(visitor.locator('body')).toContainText(`${LONG} maintenance`);
  await expectNoInjection(visitor);
  await visitor.goto(`${base}/status`);
  await visitor.screenshot({ path: test.info().outputPath('status-with-markup-in-every-text.png'), fullPage: true });
  await context.close();
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
