import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AxeAudit, auditWidget, seriousViolations } from './axe-audit.ts';
import { shadowStyles } from './widget-page-probes.ts';
import { startWidgetHarness, type WidgetHarness, type WidgetPage } from './widget-harness.ts';

let harness: WidgetHarness;

beforeAll(async () => {
  harness = await startWidgetHarness();
});

afterAll(async () => {
  await harness?.close();
});

function expectClean(audit: AxeAudit, state: string, minShadowNodes: number): void {
  expect(seriousViolations(audit), `${state}: ${JSON.stringify(seriousViolations(audit), null, 2)}`).toEqual([]);
  // The audit really looked inside the shadow root (buttons, textbox, log...).
  expect(audit.shadowNodesChecked, state).toBeGreaterThanOrEqual(minShadowNodes);
}

/** Audits the launcher, the approval card and the finished conversation with its download link. */
async function auditMainStates(widget: WidgetPage, scheme: string): Promise<void> {
  expectClean(await auditWidget(widget.page), `${scheme} launcher`, 1);
  await widget.open();
  await widget.send('write a report about teapots');
  const allow = widget.page.locator('concierge-chat').getByRole('button', { name: 'Allow once' });
  await allow.waitFor();
  expectClean(await auditWidget(widget.page), `${scheme} approval card`, 15);
  await allow.click();
  await widget.waitForIdle();
  await widget.page.locator('concierge-chat').getByRole('button', { name: 'Download report.md' }).waitFor();
  // Open the thoughts and the tool card so their contents are audited too.
  for (const summary of await widget.page.locator('concierge-chat summary').all()) await summary.click();
  expectClean(await auditWidget(widget.page), `${scheme} finished conversation`, 15);
}

describe('widget accessibility (axe-core in Chromium)', () => {
  it('has no serious or critical violations in the light scheme', async () => {
    const widget = await harness.openPage({ app: 'ask' }, { context: { reducedMotion: 'reduce' } });
    await auditMainStates(widget, 'light');
  });

  it('has no serious or critical violations in the dark scheme', async () => {
    const widget = await harness.openPage({ app: 'ask', widget: { theme: { colorScheme: 'dark' } } }, { context: { reducedMotion: 'reduce' } });
    await auditMainStates(widget, 'dark');
    const panel = await shadowStyles(widget.page, ['.cc-panel'], ['background-color']);
    expect(panel['.cc-panel']!['background-color']).toBe('rgb(22, 23, 27)');
  });

  it('follows the visitor preference with colorScheme "auto" and honours reduced motion', async () => {
    const widget = await harness.openPage(
      { widget: { theme: { colorScheme: 'auto' } } },
      { context: { colorScheme: 'dark', reducedMotion: 'reduce' } },
    );
    await widget.open();
    const styles = await shadowStyles(widget.page, ['.cc-panel', '.cc-launcher'], ['background-color', 'animation-name', 'transition-duration']);
    expect(styles['.cc-panel']).toMatchObject({ 'background-color': 'rgb(22, 23, 27)', 'animation-name': 'none' });
    expect(styles['.cc-launcher']!['transition-duration']).toBe('0s');
  });

  it('announces finished messages once in a polite live region, not every token', async () => {
    const widget = await harness.openPage({});
    await widget.open();
    await widget.page.evaluate(() => {
      const status = document.querySelector('concierge-chat')!.shadowRoot!.querySelector('[role="status"]')!;
      const seen: string[] = [];
      (window as unknown as { __announcements: string[] }).__announcements = seen;
      new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { subtree: true, childList: true, characterData: true });
    });
    await widget.send('show me markdown');
    await widget.waitForIdle();
    expect(await widget.log.getAttribute('aria-live')).toBe('polite');
    const announcements = (await widget.page.evaluate(() => (window as unknown as { __announcements: string[] }).__announcements)).filter(Boolean);
    expect(announcements).toHaveLength(1);
    // Plain text: a screen reader must not read "hash", "asterisk" or backticks aloud.
    expect(announcements[0]).toMatch(/^Assistant: Markdown demo /);
    expect(announcements[0]).not.toMatch(/[#*`]|\]\(/);
  });

  it('speaks German when the visitor browser does (de-DE) and the embed sets no locale', async () => {
    const widget = await harness.openPage({ app: 'ask', lang: 'de' }, { context: { locale: 'de-DE' } });
    expect(await widget.launcher.getAttribute('aria-label')).toBe('Chat öffnen');
    await widget.open();
    expect(await widget.launcher.getAttribute('aria-label')).toBe('Chat schließen');
    expect(await widget.panel.getAttribute('lang')).toBe('de');
    expect(await widget.composer.getAttribute('placeholder')).toBe('Nachricht eingeben…');
    expect(await widget.panel.getByText('Hallo! Wie kann ich Ihnen heute helfen?').count()).toBe(1);
    expect(await widget.panel.getByRole('button', { name: 'Dateien anhängen' }).count()).toBe(1);

    await widget.send('write a report');
    const card = widget.page.locator('concierge-chat .cc-tool').first();
    await card.getByRole('button', { name: 'Einmal erlauben' }).waitFor();
    expect(await card.getByRole('button', { name: 'Immer erlauben' }).count()).toBe(1);
    expect(await card.locator('.cc-tool-title').textContent()).toBe('Eine Datei schreiben');
    expect(await card.locator('legend').textContent()).toBe('Der Assistent möchte das tun. Erlauben?');
    await card.getByRole('button', { name: 'Ablehnen' }).click();
    await card.getByText('Sie haben dies abgelehnt.').waitFor();
    await widget.waitForIdle();
    expect(await card.locator('.cc-badge').textContent()).toBe('Abgelehnt');
  });
});
