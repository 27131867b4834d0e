import type { Page } from 'playwright-core';

/** A control that a visitor could not click: what covers its centre instead. */
export interface BlockedControl {
  control: string;
  coveredBy: string;
}

/**
 * Every visible control of the widget (and the host page's launcher) scrolled into view, then hit-tested
 * at its centre with `elementFromPoint` through the shadow root; lists those whose centre is covered or off screen.
 */
export function findBlockedControls(page: Page): Promise<BlockedControl[]> {
  return page.evaluate(() => {
    const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
    // No named helpers in here: tsx's keepNames would call a __name the page does not have.
    const controls = Array.from(shadow.querySelectorAll<HTMLElement>('button, textarea, a[href], summary, [tabindex="0"]'));
    const blocked: { control: string; coveredBy: string }[] = [];
    for (const control of controls) {
      if (control.getClientRects().length === 0 || getComputedStyle(control).visibility === 'hidden') continue;
      // Inside a closed <details> (other than its own summary) a control is not shown.
      let folded = false;
      for (let details = control.closest('details'); details; details = details.parentElement?.closest('details') ?? null) {
        const summary = details.querySelector(':scope > summary');
        if (!details.open && !(summary && (summary === control || summary.contains(control)))) folded = true;
      }
      if (folded) continue;
      control.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const rect = control.getBoundingClientRect();
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      const offScreen = x < 0 || y < 0 || x > innerWidth || y > innerHeight;
      const hit = offScreen ? null : shadow.elementFromPoint(x, y);
      if (hit && (hit === control || control.contains(hit))) continue;
      const [name, cover] = [control, hit].map((element) =>
        element ? `${element.tagName.toLowerCase()}.${element.className}[${element.getAttribute('aria-label') ?? element.textContent?.trim().slice(0, 30) ?? ''}]` : 'nothing',
      );
      blocked.push({ control: name!, coveredBy: offScreen ? 'off screen' : cover! });
    }
    return blocked;
  });
}

/** Visible controls named `name` (aria-label or text) in the widget. */
export function countVisibleControls(page: Page, name: string): Promise<number> {
  return page.evaluate((name) => {
    const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
    return Array.from(shadow.querySelectorAll<HTMLElement>('button')).filter(
      (button) => button.getClientRects().length > 0 && (button.getAttribute('aria-label') ?? button.textContent?.trim()) === name,
    ).length;
  }, name);
}

/** How far the page, or the widget's panel, reaches past the right edge of the viewport (0 when nothing does). */
export function horizontalOverflow(page: Page): Promise<{ page: number; panel: number }> {
  return page.evaluate(() => {
    const panel = document.querySelector('concierge-chat')?.shadowRoot?.querySelector('.cc-panel');
    const width = document.documentElement.clientWidth;
    return {
      page: Math.max(0, document.documentElement.scrollWidth - width),
      panel: panel?.getClientRects().length ? Math.max(0, Math.ceil(panel.getBoundingClientRect().right) - width, panel.scrollWidth - panel.clientWidth) : 0,
    };
  });
}
