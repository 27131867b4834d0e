import type { ComponentChildren } from 'preact';

/** A <pre> that keyboard users can focus to scroll (axe: scrollable-region-focusable). */
export function ScrollablePre({ children }: { children: ComponentChildren }) {
  // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
  return <pre tabIndex={0}>{children}</pre>;
}
