/** One tool result the scripted logic can see: those after the last user message, oldest first. */
export type ScriptedToolResult = {
  toolName: string;
  input: unknown;
  /** The result as text (JSON results stringified). */
  output: string;
  isError: boolean;
  /** The call was declined by the user or denied by a policy. */
  isDenied: boolean;
};

/** What the scripted logic reads from a conversation, whatever its wire format. */
export type ScriptedConversation = {
  lastUserText: string;
  toolResults: ScriptedToolResult[];
  /** Names of the tools offered to the model; undefined means "not told". */
  availableTools?: string[];
};

/** The next assistant step decided by the scripted logic. */
export type ScriptedTurn =
  | { type: 'fail'; message: string }
  | { type: 'text'; reasoning: string; text: string; slow: boolean }
  | { type: 'tool-call'; reasoning: string; text: string; toolName: string; input: Record<string, unknown> };

/** Appended to every final reply of the scripted model so nobody mistakes it for a real one. */
export const DEMO_MODEL_LABEL = '_(Concierge demo model — set CONCIERGE_MODEL for a real one)_';

/** Message of the error the scripted model throws when asked to fail. */
export const SCRIPTED_FAILURE_MESSAGE =
  'The scripted model was asked to fail (the message contains "fail" or "error"); this retryable error demonstrates retries and task failure.';

const DEFAULT_SHELL_COMMAND = 'ls -la /workspace';
const REPORT_PATH = 'downloads/report.md';
const SLOW_SENTENCE_COUNT = 40;

/** What each tool does, in words a visitor reads (the demo model never names its tools). */
const ACTION_WORDS: Record<string, string> = {
  run_shell_command: 'run that command',
  read_file: 'read that file',
  write_file: 'write that file',
  list_directory: 'list your files',
};

type Intent =
  | { type: 'tool'; toolName: string; input: Record<string, unknown>; reasoning: string; text: string; echo?: string }
  | { type: 'fail' }
  | { type: 'slow' }
  | { type: 'markdown' }
  | { type: 'help' };

/**
 * Decides the scripted model's next step from plain-language triggers in the last user message and the tool
 * results that follow it. Shared by the `scripted` model and the fake OpenAI server so both behave alike.
 */
export function decideScriptedTurn(conversation: ScriptedConversation): ScriptedTurn {
  const intent = parseIntent(conversation.lastUserText);
  const lastResult = conversation.toolResults.at(-1);
  if (lastResult !== undefined) {
    return {
      type: 'text',
      reasoning: 'I have the result, so I will report what came back.',
      text: describeToolResult(lastResult, intent),
      slow: false,
    };
  }
  switch (intent.type) {
    case 'fail':
      return { type: 'fail', message: SCRIPTED_FAILURE_MESSAGE };
    case 'slow':
      return {
        type: 'text',
        reasoning: 'The user asked for a slow reply, so I will stream a long answer one sentence at a time.',
        text: slowReply(),
        slow: true,
      };
    case 'markdown':
      return {
        type: 'text',
        reasoning: 'The user wants to see Markdown rendering, so I will use every common element.',
        text: MARKDOWN_REPLY,
        slow: false,
      };
    case 'help':
      return {
        type: 'text',
        reasoning: 'The message matches none of my scripted prompts, so I will explain what I can demonstrate.',
        text: HELP_REPLY,
        slow: false,
      };
    case 'tool': {
      const available = conversation.availableTools;
      if (available !== undefined && !available.includes(intent.toolName)) {
        return {
          type: 'text',
          reasoning: `I would use ${intent.toolName}, but it is not among the tools I was given.`,
          text: `I would use the \`${intent.toolName}\` tool for this, but it is not available in this conversation.`,
          slow: false,
        };
      }
      return {
        type: 'tool-call',
        reasoning: intent.reasoning,
        text: intent.text,
        toolName: intent.toolName,
        input: intent.input,
      };
    }
  }
}

function parseIntent(message: string): Intent {
  const runMatch = /\b(?:run|shell|execute)\b[^`]*`([^`]+)`/i.exec(message);
  if (runMatch?.[1] !== undefined) {
    const command = runMatch[1].trim();
    return shellIntent(command, /^echo\s+\$\w+$/.test(command) ? command : undefined);
  }
  const echoMatch =
    /\becho\s+\$([A-Za-z_]\w*)/.exec(message) ?? /\bprint\s+env(?:ironment)?\s+(?:variable\s+)?\$?([A-Za-z_]\w*)/i.exec(message);
  if (echoMatch?.[1] !== undefined) {
    const command = `echo $${echoMatch[1]}`;
    return shellIntent(command, command);
  }
  if (/\brun\s+(?:a\s+|some\s+)?(?:shell\s+)?commands?\b/i.test(message)) {
    return shellIntent(DEFAULT_SHELL_COMMAND);
  }
  if (/\blist\b.*\b(?:files?|director(?:y|ies)|folders?|workspace)\b|\bwhat\s+files\b/i.test(message)) {
    return {
      type: 'tool',
      toolName: 'list_directory',
      input: { path: '.' },
      reasoning: 'The user wants to see the files in the workspace, so I will list its root directory.',
      text: 'Let me look at the files in your workspace.',
    };
  }
  const readMatch =
    /\bread\s+(?:the\s+)?(?:file\s+)?`([^`]+)`/i.exec(message) ??
    /\bread\s+(?:the\s+)?(?:file\s+)?["']?([\w.\-/]*[./][\w.\-/]*?)["']?(?=[.,;:!?]?(?:\s|$))/i.exec(message);
  if (readMatch?.[1] !== undefined) {
    const path = readMatch[1].trim().replace(/[.,;:!?]+$/, '');
    return {
      type: 'tool',
      toolName: 'read_file',
      input: { path },
      reasoning: `The user wants to see ${path}, so I will read it.`,
      text: `Let me read \`${path}\`.`,
    };
  }
  if (/\bwrite\s+(?:me\s+)?(?:a\s+|the\s+)?report\b|\b(?:create|make)\s+(?:me\s+)?(?:a\s+|the\s+)?file\b|\bdownload/i.test(message)) {
    return {
      type: 'tool',
      toolName: 'write_file',
      input: { path: REPORT_PATH, content: reportContent(message) },
      reasoning: `The user wants a file they can download, so I will write a short report to ${REPORT_PATH}.`,
      text: `I will write a short report to \`${REPORT_PATH}\`.`,
    };
  }
  if (/\b(?:fail|failure|error)\b/i.test(message)) return { type: 'fail' };
  if (/\bslow(?:ly)?\b/i.test(message)) return { type: 'slow' };
  if (/\bmarkdown\b/i.test(message)) return { type: 'markdown' };
  return { type: 'help' };
}

function shellIntent(command: string, echo?: string): Intent {
  return {
    type: 'tool',
    toolName: 'run_shell_command',
    input: { command },
    reasoning: `The user asked me to run a shell command, so I will run \`${command}\` in the sandbox.`,
    text: `I will run \`${command}\`.`,
    ...(echo !== undefined ? { echo } : {}),
  };
}

function describeToolResult(result: ScriptedToolResult, intent: Intent): string {
  if (result.isDenied) {
    const byPolicy = /\bpolic(?:y|ies)\b/i.test(result.output);
    const who = byPolicy ? "the project's tool policy does not allow it" : 'you declined it';
    return `Understood: I did not ${ACTION_WORDS[result.toolName] ?? 'do that'}, because ${who}. Let me know if you would like to try something else.`;
  }
  if (result.isError) {
    return `That did not work:\n\n${fence(result.output)}`;
  }
  switch (result.toolName) {
    case 'list_directory':
      return describeListing(result.output);
    case 'run_shell_command':
      return describeShellResult(result, intent.type === 'tool' ? intent.echo : undefined);
    case 'write_file':
      return `Done: I wrote a short report to \`${REPORT_PATH}\`. You can download it below.`;
    case 'read_file': {
      const path = readPath(result.input) ?? 'the file';
      return `Here is \`${path}\`:\n\n${fence(result.output)}`;
    }
    default:
      return `Here is what came back:\n\n${fence(result.output)}`;
  }
}

function describeListing(output: string): string {
  const entries = parseEntries(output);
  if (entries === undefined) return `Here is what is in your workspace:\n\n${fence(output)}`;
  if (entries.length === 0) return 'Your workspace is empty.';
  const lines = entries.map((entry) => {
    const isDirectory = /^dir/i.test(entry.type ?? '');
    const size = !isDirectory && typeof entry.size === 'number' ? `, ${entry.size} bytes` : '';
    return `- \`${entry.name}${isDirectory ? '/' : ''}\` (${entry.type ?? 'entry'}${size})`;
  });
  const noun = entries.length === 1 ? 'entry' : 'entries';
  return `Your workspace has ${entries.length} ${noun}:\n\n${lines.join('\n')}`;
}

type Entry = { name: string; type?: string; size?: number };

function parseEntries(output: string): Entry[] | undefined {
  const parsed = parseJson(output);
  const list = Array.isArray(parsed) ? parsed : isRecord(parsed) && Array.isArray(parsed.entries) ? parsed.entries : undefined;
  if (list === undefined) return undefined;
  const entries: Entry[] = [];
  for (const item of list) {
    if (!isRecord(item) || typeof item.name !== 'string') return undefined;
    entries.push({
      name: item.name,
      ...(typeof item.type === 'string' ? { type: item.type } : {}),
      ...(typeof item.size === 'number' ? { size: item.size } : {}),
    });
  }
  return entries;
}

function describeShellResult(result: ScriptedToolResult, echo: string | undefined): string {
  const command = isRecord(result.input) && typeof result.input.command === 'string' ? result.input.command : 'the command';
  const parsed = parseJson(result.output);
  if (isRecord(parsed) && ('stdout' in parsed || 'exitCode' in parsed)) {
    const stdout = typeof parsed.stdout === 'string' ? parsed.stdout : '';
    const stderr = typeof parsed.stderr === 'string' ? parsed.stderr : '';
    if (echo !== undefined) return `\`${echo}\` printed:\n\n${fence(stdout)}`;
    const exit = parsed.exitCode ?? parsed.exit_code ?? 'unknown';
    const parts = [`\`${command}\` exited with code ${String(exit)}.`];
    if (typeof parsed.reason === 'string' && parsed.reason !== '') parts.push(`It was stopped: ${parsed.reason}.`);
    parts.push(stdout === '' ? 'It printed nothing on stdout.' : `Output:\n\n${fence(stdout)}`);
    if (stderr !== '') parts.push(`Errors:\n\n${fence(stderr)}`);
    return parts.join('\n\n');
  }
  // The shell tool's own format: the streams are shown apart, not as one block of tool text.
  const sections = /^Exit code: ([^\n]+)\n(?:Stopped by a limit \([^)]*\): ([^\n]*)\n)?--- stdout ---\n([\s\S]*?)--- stderr ---\n([\s\S]*)$/.exec(result.output);
  if (sections) {
    const [, code, stopped, stdout = '', stderr = ''] = sections;
    if (echo !== undefined) return `\`${echo}\` printed:\n\n${fence(stdout)}`;
    const parts = [`\`${command}\` exited with code ${code}.`];
    if (stopped) parts.push(`It was stopped: ${stopped}.`);
    parts.push(stdout.trim() === '' ? 'It printed nothing.' : `Output:\n\n${fence(stdout)}`);
    if (stderr.trim() !== '') parts.push(`Errors:\n\n${fence(stderr)}`);
    return parts.join('\n\n');
  }
  if (echo !== undefined) return `\`${echo}\` printed:\n\n${fence(result.output)}`;
  const exit = /exit\s*code\D{0,5}(-?\d+)/i.exec(result.output)?.[1];
  const headline = exit !== undefined ? `\`${command}\` exited with code ${exit}.` : `Here is the result of \`${command}\`:`;
  return `${headline}\n\n${fence(result.output)}`;
}

function readPath(input: unknown): string | undefined {
  return isRecord(input) && typeof input.path === 'string' ? input.path : undefined;
}

function reportContent(request: string): string {
  const topic = request.trim().replace(/\s+/g, ' ').slice(0, 120);
  return [
    '# Concierge demo report',
    '',
    'Written by the Concierge demo model to show how an agent produces a downloadable file.',
    '',
    '## Request',
    '',
    `> ${topic}`,
    '',
    '## Findings',
    '',
    '- The agent can write files to `downloads/`.',
    '- Files in `downloads/` are listed as task artifacts.',
    '- A real model would put its actual findings here.',
    '',
  ].join('\n');
}

function slowReply(): string {
  const sentences: string[] = [];
  for (let index = 1; index <= SLOW_SENTENCE_COUNT; index += 1) {
    sentences.push(`Sentence ${index} of ${SLOW_SENTENCE_COUNT}: this reply streams slowly so that you can press Stop.`);
  }
  return sentences.join(' ');
}

/** Splits the slow reply into the sentence chunks it is streamed in. */
export function splitSentences(text: string): string[] {
  return text.match(/[^.!?]+[.!?]+\s*|[^.!?]+$/g) ?? [text];
}

const HELP_REPLY = [
  "Hello! I am Concierge's built-in demo model: I run offline and follow a script. Try one of these:",
  '',
  '- **list files**: I call `list_directory` on your workspace.',
  '- **run `ls -la`** (any command in backticks) or **run a command**: I run a shell command in the sandbox.',
  '- **write a report**: I write `downloads/report.md` for you to download.',
  '- **read uploads/notes.txt**: I read a file from the workspace.',
  '- **echo $NAME**: I print an environment variable.',
  '- **markdown**: a reply with headings, lists, links and code.',
  '- **slow**: a long reply streamed slowly, so you can try Stop.',
  '- **fail**: a model error, to show retries and a failed task.',
].join('\n');

const MARKDOWN_REPLY = [
  '# Markdown demo',
  '',
  '## Lists',
  '',
  '- A bullet with **bold** and _italic_ text',
  '- Another bullet with `inline code`',
  '',
  '1. First step',
  '2. Second step',
  '',
  '## A link',
  '',
  'Read the [Concierge README](https://github.com/concierge/concierge#readme).',
  '',
  '## Code',
  '',
  '```ts',
  'function greet(name: string): string {',
  "  return 'Hello, ' + name + '!';",
  '}',
  '```',
  '',
  'This must show as text, not run: <script>alert(1)</script>',
].join('\n');

function fence(text: string): string {
  const longestRun = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const marker = '`'.repeat(longestRun + 1);
  return `${marker}\n${text.replace(/\n$/, '')}\n${marker}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a tool result text says the call was declined by the user or denied by a policy. */
export function isDeniedResultText(text: string): boolean {
  return /\b(?:user|polic(?:y|ies))\b.{0,60}\b(?:declin|denie|deny|reject)|\b(?:declin|denie|reject)\w*\b.{0,60}\b(?:user|polic(?:y|ies))\b|execution denied/i.test(
    text,
  );
}
