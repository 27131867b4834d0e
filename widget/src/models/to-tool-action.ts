import type { ToolCall } from '@concierge/shared';
import type { Translate } from '../i18n/translate.ts';

/** A tool call in the visitor's words: what will happen, its subject (a command or path, shown as code) and other details. */
export interface ToolAction {
  title: string;
  /** The command or path, verbatim. */
  subject?: string;
  /** Anything else worth reading (file content, another tool's arguments, pretty-printed). */
  details?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function prettyArguments(args: Record<string, unknown>): string | undefined {
  if (Object.keys(args).length === 0) return undefined;
  try {
    return JSON.stringify(args, null, 2);
  } catch {
    return String(args);
  }
}

/** Describes a built-in tool call by what it does; MCP and unknown tools by name with their arguments pretty-printed. */
export function toToolAction(call: Pick<ToolCall, 'toolName' | 'args'>, t: Translate): ToolAction {
  const args = call.args ?? {};
  const path = text(args.path);
  switch (call.toolName) {
    case 'run_shell_command': {
      const subject = text(args.command);
      return { title: t('toolRunCommand'), ...(subject ? { subject } : {}) };
    }
    case 'read_file':
      return { title: t('toolReadFile'), ...(path ? { subject: path } : {}) };
    case 'list_directory':
      return { title: t('toolListFolder'), subject: path ?? '.' };
    case 'write_file': {
      const details = text(args.content);
      return { title: t('toolWriteFile'), ...(path ? { subject: path } : {}), ...(details ? { details } : {}) };
    }
    default: {
      // MCP tools are `<server>__<tool>`: show "crm: lookup customer" rather than the wire name.
      const [server, tool] = call.toolName.includes('__') ? call.toolName.split('__', 2) : ['', call.toolName];
      const name = (tool ?? '').replace(/[_-]+/g, ' ').trim() || call.toolName;
      const details = prettyArguments(args);
      return { title: t('toolOther', { tool: server ? `${server}: ${name}` : name }), ...(details ? { details } : {}) };
    }
  }
}
