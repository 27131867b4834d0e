import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8');

/** One axe violation, reduced to what a failure message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** What one audit of the widget found. */
export interface AxeAudit {
  violations: AxeViolation[];
  /** Nodes inside the shadow root that passed some rule: proof the audit reached into it. */
  shadowNodesChecked: number;
}

/** Runs axe-core on the widget's shadow host (axe follows open shadow roots) with every rule it has. */
export async function auditWidget(page: Page): Promise<AxeAudit> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    type AxeNode = { target: unknown[] };
    type AxeResult = { id: string; impact?: string | null; help: string; nodes: AxeNode[] };
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeResult[]; passes: AxeResult[] }> } }).axe;
    const results = await axe.run({ include: [['concierge-chat']] }, { resultTypes: ['violations', 'passes'] });
    const shadowNodes = new Set<string>();
    for (const rule of results.passes) {
      for (const node of rule.nodes) if (Array.isArray(node.target[0])) shadowNodes.add(JSON.stringify(node.target));
    }
    return {
      violations: results.violations.map((rule) => ({
        id: rule.id,
        impact: rule.impact ?? null,
        help: rule.help,
        targets: rule.nodes.map((node) => JSON.stringify(node.target)),
      })),
      shadowNodesChecked: shadowNodes.size,
    };
  });
}

/** The serious and critical violations (what the tests forbid). */
export function seriousViolations(audit: AxeAudit): AxeViolation[] {
  return audit.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
