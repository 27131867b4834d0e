import { z } from 'zod';

const toolPolicy = z.enum(['allow', 'ask', 'deny']);

const mcpServer = z
  .object({
    type: z.enum(['http', 'sse', 'stdio']).optional(),
    url: z.string().optional(),
    command: z.string().optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    enabled: z.boolean().default(true),
    timeout: z.number().int().positive().optional(),
    tools: z.object({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() }).optional(),
  })
  .refine((server) => Boolean(server.url) !== Boolean(server.command), 'an MCP server needs either "url" or "command"');

const sandbox = z
  .object({
    network: z.literal('none'),
    commandTimeoutMs: z.number().int().min(100).max(3_600_000),
    memoryMb: z.number().int().min(16).max(65_536),
    maxProcesses: z.number().int().min(4).max(4096),
    cpuPercent: z.number().int().min(5).max(800),
    maxOutputBytes: z.number().int().min(1024).max(64 * 1024 * 1024),
    workspaceQuotaMb: z.number().int().min(1).max(1_048_576),
    maxFileSizeMb: z.number().int().min(1).max(65_536),
    maxOpenFiles: z.number().int().min(16).max(65_536),
    maxWorkspaceEntries: z.number().int().min(16).max(10_000_000),
  })
  .partial();

const rateLimits = z
  .object({
    /** Token exchanges per app per minute. */
    tokenPerMinute: z.number().int().min(1),
    /** Task creations per end user per minute. */
    tasksPerMinute: z.number().int().min(1),
    /** Follow-up messages per end user per minute. */
    followUpsPerMinute: z.number().int().min(1),
    /** Approval decisions per end user per minute. */
    approvalsPerMinute: z.number().int().min(1),
    /** Pending or running tasks of one widget app at once. */
    maxActiveTasksPerApp: z.number().int().min(1),
    /** Pending or running tasks of one end user at once. */
    maxActiveTasksPerEndUser: z.number().int().min(1),
  })
  .partial();

/** One project's configuration, as in the project file (`concierge projects apply`). */
export const projectConfigSchema = z
  .object({
    systemPrompt: z.string().optional(),
    model: z.string().optional(),
    autoExecute: z.boolean().optional(),
    toolPolicies: z.record(z.string(), toolPolicy).default({}),
    mcpServers: z.record(z.string(), mcpServer).default({}),
    sandbox: sandbox.default({}),
    rateLimits: rateLimits.default({}),
  })
  .strict();

export type ProjectConfig = z.infer<typeof projectConfigSchema>;
export type ToolPolicy = z.infer<typeof toolPolicy>;

/** The project file: `{ "projects": { name: config } }`. */
export const projectFileSchema = z.object({ projects: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), projectConfigSchema) }).strict();

export const DEFAULT_PROJECT_CONFIG: ProjectConfig = projectConfigSchema.parse({});

