import type { Page } from 'playwright-core';

/**
 * Starts recording, inside the page, every distinct length the text of the last assistant bubble goes
 * through (a MutationObserver on the shadow root), and whether the Stop button was ever shown.
 */
export async function recordStreaming(page: Page): Promise<void> {
  await page.evaluate(() => {
    const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
    const record = { lengths: [] as number[], sawStop: false };
    (window as unknown as { __streaming: typeof record }).__streaming = record;
    new MutationObserver(() => {
      const bubbles = shadow.querySelectorAll('.cc-assistant .cc-markdown');
      const length = bubbles[bubbles.length - 1]?.textContent?.length ?? 0;
      if (length !== record.lengths[record.lengths.length - 1]) record.lengths.push(length);
      if (shadow.querySelector('.cc-stop')) record.sawStop = true;
    }).observe(shadow, { subtree: true, childList: true, characterData: true });
  });
}

/** What recordStreaming saw so far. */
export function readStreaming(page: Page): Promise<{ lengths: number[]; sawStop: boolean }> {
  return page.evaluate(() => (window as unknown as { __streaming: { lengths: number[]; sawStop: boolean } }).__streaming);
}

/** Computed styles of elements inside the widget's shadow root (first match of each selector). */
export function shadowStyles(page: Page, selectors: string[], properties: string[]): Promise<Record<string, Record<string, string> | null>> {
  return page.evaluate(
    ({ selectors, properties }) => {
      const shadow = document.querySelector('concierge-chat')!.shadowRoot!;
      const out: Record<string, Record<string, string> | null> = {};
      for (const selector of selectors) {
        const element = shadow.querySelector(selector);
        if (!element) {
          out[selector] = null;
          continue;
        }
        const style = getComputedStyle(element);
        out[selector] = Object.fromEntries(properties.map((property) => [property, style.getPropertyValue(property)]));
      }
      return out;
    },
    { selectors, properties },
  );
}

/** The element focused inside the widget, or null when focus is outside it. */
export interface FocusedElement {
  tag: string;
  className: string;
  /** aria-label, else the text. */
  name: string;
}

/** Which element inside the widget's shadow root has the focus (null when the focus is on the host page). */
export function focusedInWidget(page: Page): Promise<FocusedElement | null> {
  return page.evaluate(() => {
    const host = document.querySelector('concierge-chat');
    if (!host || document.activeElement !== host) return null;
    const active = host.shadowRoot!.activeElement;
    if (!active) return null;
    return {
      tag: active.tagName.toLowerCase(),
      className: typeof active.className === 'string' ? active.className : '',
      name: active.getAttribute('aria-label') ?? active.textContent?.trim() ?? '',
    };
  });
}

/** Presses `key` until the focused widget element matches, at most `maxPresses` times; returns it. */
export async function pressUntilFocused(page: Page, key: string, matches: (focused: FocusedElement) => boolean, maxPresses = 12): Promise<FocusedElement> {
  const seen: string[] = [];
  for (let press = 0; press < maxPresses; press += 1) {
    await page.keyboard.press(key);
    const focused = await focusedInWidget(page);
    if (focused && matches(focused)) return focused;
    seen.push(focused ? `${focused.tag}.${focused.className} "${focused.name}"` : '(host page)');
  }
  throw new Error(`${key} did not reach the wanted element; focus went through: ${seen.join(' → ')}`);
}
