import { randomBytes } from 'node:crypto';
import { existsSync, rmdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './sandbox-limits.ts';

/** One command's control group(s): join by writing a pid to each of `procsFiles`. */
export interface CommandCgroup {
  procsFiles: string[];
  /** Whether the kernel killed a process for memory, or refused a fork for the process limit. */
  readEvents(): Promise<{ oomKilled: boolean; processLimitHit: boolean }>;
  /** SIGKILLs every process still in the group (repeats until it is empty or gives up). */
  killAll(): Promise<void>;
  /** Kills what is left and removes the group directories. Idempotent. */
  remove(): Promise<void>;
}

/** What all sandboxes of one server may use together (the parent group's limits). */
export interface CgroupTotals {
  memoryMb: number;
  processes: number;
  /** Percent of one core, e.g. 150 for one and a half cores. */
  cpuPercent: number;
}

/** What the host's cgroups can enforce, and a factory for per-command groups. */
export interface CgroupSupport {
  version: 'v2' | 'v1' | 'none';
  memory: boolean;
  processes: boolean;
  cpu: boolean;
  warnings: string[];
  /** The parent group(s) every command group is created under, holding the totals; absent when none could be made. */
  parent?: { dirs: string[]; totals: CgroupTotals };
  /** A fresh group holding the given limits, or undefined when no controller is usable. */
  create(limits: SandboxLimits): Promise<CommandCgroup | undefined>;
}

type Controller = 'memory' | 'pids' | 'cpu';

const CPU_PERIOD_US = 100_000;
// The server's pid in the name tells whose group it is (several servers or test workers on one host).
const GROUP_PREFIX = `concierge-${process.pid}-`;
const PARENT_PREFIX = 'concierge-sandboxes-';
const PARENT_NAME = `${PARENT_PREFIX}${process.pid}`;

interface GroupSpec {
  controller: Controller;
  /** Directory under which per-command groups are made. */
  parent: string;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

function eventCount(text: string, key: string): number {
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key) return Number(value) || 0;
  }
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function killProcsIn(dir: string): Promise<boolean> {
  const text = await readText(path.join(dir, 'cgroup.procs'));
  const pids = text.split('\n').map(Number).filter((pid) => pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length > 0;
}

async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      await killProcsIn(dir);
      await sleep(20);
    }
  }
}

type GroupLimits = Pick<SandboxLimits, 'memoryMb' | 'maxProcesses' | 'cpuPercent'>;

function writeLimits(dir: string, controller: Controller, limits: GroupLimits, version: 'v1' | 'v2'): Promise<void>[] {
  const memoryBytes = String(limits.memoryMb * 1024 * 1024);
  const quotaUs = Math.max(1000, Math.round((limits.cpuPercent / 100) * CPU_PERIOD_US));
  if (version === 'v2') {
    // Only controllers enabled in the parent have files here; the others are reported as not enforced.
    const files: Array<[string, string]> = [
      ['memory.max', memoryBytes],
      ['memory.swap.max', '0'],
      ['pids.max', String(limits.maxProcesses)],
      ['cpu.max', `${quotaUs} ${CPU_PERIOD_US}`],
    ];
    return files
      .filter(([file]) => existsSync(path.join(dir, file)))
      .map(([file, value]) => writeFile(path.join(dir, file), value));
  }
  if (controller === 'memory') {
    return [
      writeFile(path.join(dir, 'memory.limit_in_bytes'), memoryBytes).then(async () => {
        // Without this, swap would let the command use more than its limit on hosts that have swap.
        const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
        if (existsSync(memsw)) await writeFile(memsw, memoryBytes).catch(() => undefined);
      }),
    ];
  }
  if (controller === 'pids') return [writeFile(path.join(dir, 'pids.max'), String(limits.maxProcesses))];
  return [
    writeFile(path.join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US)).then(() =>
      writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quotaUs)),
    ),
  ];
}

function createV1Group(specs: GroupSpec[]) {
  return async (limits: SandboxLimits): Promise<CommandCgroup | undefined> => {
    if (specs.length === 0) return undefined;
    const name = GROUP_PREFIX + randomBytes(6).toString('hex');
    const dirs: Array<{ controller: Controller; dir: string }> = [];
    try {
      for (const spec of specs) {
        const dir = path.join(spec.parent, name);
        await mkdir(dir);
        dirs.push({ controller: spec.controller, dir });
        await Promise.all(writeLimits(dir, spec.controller, limits, 'v1'));
      }
    } catch (error) {
      await Promise.all(dirs.map(({ dir }) => removeDir(dir)));
      throw error;
    }
    let removed = false;
    const killAll = async () => {
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all(dirs.map(({ dir }) => killProcsIn(dir)));
        if (!results.some(Boolean)) return;
        await sleep(10);
      }
    };
    return {
      procsFiles: dirs.map(({ dir }) => path.join(dir, 'cgroup.procs')),
      async readEvents() {
        const memory = dirs.find((entry) => entry.controller === 'memory');
        const pids = dirs.find((entry) => entry.controller === 'pids');
        const oomText = memory ? await readText(path.join(memory.dir, 'memory.oom_control')) : '';
        const pidsText = pids ? await readText(path.join(pids.dir, 'pids.events')) : '';
        return { oomKilled: eventCount(oomText, 'oom_kill') > 0, processLimitHit: eventCount(pidsText, 'max') > 0 };
      },
      killAll,
      async remove() {
        if (removed) return;
        removed = true;
        await killAll();
        await Promise.all(dirs.map(({ dir }) => removeDir(dir)));
      },
    };
  };
}

function createV2Group(parent: string) {
  return async (limits: SandboxLimits): Promise<CommandCgroup> => {
    const dir = path.join(parent, GROUP_PREFIX + randomBytes(6).toString('hex'));
    await mkdir(dir);
    try {
      await Promise.all(writeLimits(dir, 'memory', limits, 'v2'));
    } catch (error) {
      await removeDir(dir);
      throw error;
    }
    let removed = false;
    const killAll = async () => {
      if (existsSync(path.join(dir, 'cgroup.kill'))) await writeFile(path.join(dir, 'cgroup.kill'), '1').catch(() => undefined);
      for (let round = 0; round < 20; round++) {
        if (!(await killProcsIn(dir))) return;
        await sleep(10);
      }
    };
    return {
      procsFiles: [path.join(dir, 'cgroup.procs')],
      async readEvents() {
        const memoryEvents = await readText(path.join(dir, 'memory.events'));
        const pidsEvents = await readText(path.join(dir, 'pids.events'));
        return { oomKilled: eventCount(memoryEvents, 'oom_kill') > 0, processLimitHit: eventCount(pidsEvents, 'max') > 0 };
      },
      killAll,
      async remove() {
        if (removed) return;
        removed = true;
        await killAll();
        await removeDir(dir);
      },
    };
  };
}

/** Parses /proc/self/cgroup into controller → path (v2's unified entry is under ''). */
function parseOwnCgroups(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    for (const controller of (match[1] ?? '').split(',')) result.set(controller, match[2] ?? '/');
  }
  return result;
}

/** Tries a throwaway group with real limits, so detection reports only what actually works. */
async function probe(create: (limits: SandboxLimits) => Promise<CommandCgroup | undefined>): Promise<boolean> {
  try {
    const group = await create({ ...DEFAULT_SANDBOX_LIMITS, commandTimeoutMs: 1000, memoryMb: 64, maxProcesses: 8, cpuPercent: 50 });
    await group?.remove();
    return group !== undefined;
  } catch {
    return false;
  }
}

async function detectV2(root: string, own: Map<string, string>): Promise<{ support: CgroupSupport; parent: string } | undefined> {
  const available = (await readText(path.join(root, 'cgroup.controllers'))).trim().split(/\s+/).filter(Boolean);
  if (available.length === 0) return undefined;
  const ownPath = own.get('') ?? '/';
  // The no-internal-processes rule forbids enabling controllers where this process lives, so groups go
  // beside it under its parent unless a dedicated delegated group is configured.
  const candidates = [path.join(root, ownPath), path.join(root, path.dirname(ownPath)), root];
  for (const parent of candidates) {
    await writeFile(path.join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => undefined);
    const enabled = (await readText(path.join(parent, 'cgroup.subtree_control'))).trim().split(/\s+/);
    const create = createV2Group(parent);
    if (!(await probe(create))) continue;
    const memory = enabled.includes('memory');
    const processes = enabled.includes('pids');
    const cpu = enabled.includes('cpu');
    const warnings = [
      ...(memory ? [] : ['cgroup v2 memory controller is not delegated: memory is not limited']),
      ...(processes ? [] : ['cgroup v2 pids controller is not delegated: process count is not limited']),
      ...(cpu ? [] : ['cgroup v2 cpu controller is not delegated: CPU is not limited']),
    ];
    if (!memory && !processes && !cpu) continue;
    return { support: { version: 'v2', memory, processes, cpu, warnings, create }, parent };
  }
  return undefined;
}

async function detectV1(root: string, own: Map<string, string>): Promise<{ support: CgroupSupport; specs: GroupSpec[] }> {
  const specs: GroupSpec[] = [];
  const warnings: string[] = [];
  for (const controller of ['memory', 'pids', 'cpu'] as const) {
    const mount = path.join(root, controller);
    const ownPath = own.get(controller) ?? '/';
    // Inside a container the mount may show only this container's subtree, so the own path may not exist.
    const parent = [path.join(mount, ownPath), mount].find((dir) => existsSync(path.join(dir, 'cgroup.procs')));
    if (parent && (await probe(createV1Group([{ controller, parent }])))) specs.push({ controller, parent });
    else warnings.push(`cgroup v1 ${controller} controller is not writable here: ${controller === 'pids' ? 'process count' : controller} is not limited`);
  }
  const has = (controller: Controller) => specs.some((spec) => spec.controller === controller);
  const support: CgroupSupport = {
    version: specs.length > 0 ? 'v1' : 'none',
    memory: has('memory'),
    processes: has('pids'),
    cpu: has('cpu'),
    warnings,
    create: createV1Group(specs),
  };
  return { support, specs };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes parent groups (and their empty command groups) left by servers that died without cleaning up. */
async function removeStaleParents(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    // Command groups of a server that was killed mid-command (or that predates parent groups) are empty now.
    const orphan = /^concierge-(\d+)-[0-9a-f]+$/.exec(name);
    if (orphan && Number(orphan[1]) !== process.pid && !pidAlive(Number(orphan[1]))) {
      await rmdir(path.join(dir, name)).catch(() => undefined);
      continue;
    }
    const pid = Number(name.slice(PARENT_PREFIX.length));
    if (!name.startsWith(PARENT_PREFIX) || !Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
    const parent = path.join(dir, name);
    for (const child of await readdir(parent).catch(() => [] as string[])) {
      if (child.startsWith('concierge-')) await rmdir(path.join(parent, child)).catch(() => undefined);
    }
    await rmdir(parent).catch(() => undefined);
  }
}

/**
 * Makes this server's parent group under `dir` with the totals, so every command group created inside it
 * shares them. v2 also delegates the controllers to the parent's children.
 */
async function createParent(dir: string, controller: Controller, totals: CgroupTotals, version: 'v1' | 'v2'): Promise<string> {
  await removeStaleParents(dir);
  const parent = path.join(dir, PARENT_NAME);
  await mkdir(parent).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const limits = { memoryMb: totals.memoryMb, maxProcesses: totals.processes, cpuPercent: totals.cpuPercent };
  await Promise.all(writeLimits(parent, controller, limits, version));
  if (version === 'v2') await writeFile(path.join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => undefined);
  return parent;
}

// The parents are removed when the server exits (they are empty by then: every command group is gone).
const parentsToRemove = new Set<string>();
process.once('exit', () => {
  for (const dir of parentsToRemove) {
    try {
      rmdirSync(dir);
    } catch {
      // still busy or already gone; the next server start removes it
    }
  }
});

/** Moves the per-command groups of `support` under one parent per controller that holds the totals. */
async function withParent(support: CgroupSupport, specs: GroupSpec[], totals: CgroupTotals, version: 'v1' | 'v2'): Promise<CgroupSupport> {
  try {
    const parented: GroupSpec[] = [];
    for (const spec of specs) {
      const parent = await createParent(spec.parent, spec.controller, totals, version);
      parentsToRemove.add(parent);
      parented.push({ controller: spec.controller, parent });
    }
    const create = version === 'v2' ? createV2Group((parented[0] as GroupSpec).parent) : createV1Group(parented);
    if (!(await probe(create))) throw new Error('command groups cannot be created under the parent group');
    return { ...support, create, parent: { dirs: parented.map((spec) => spec.parent), totals } };
  } catch (error) {
    return {
      ...support,
      warnings: [...support.warnings, `cannot create the parent cgroup for all sandboxes (${(error as Error).message}): only per-command limits apply`],
    };
  }
}

/**
 * Finds which cgroup controllers this process can delegate to per-command groups (v2 first, then v1).
 * With `totals`, every command group is created under one parent group per server that caps them together.
 */
export async function detectCgroups(root = '/sys/fs/cgroup', totals?: CgroupTotals): Promise<CgroupSupport> {
  const own = parseOwnCgroups(await readText('/proc/self/cgroup'));
  const v2 = await detectV2(root, own);
  if (v2) return totals ? withParent(v2.support, [{ controller: 'memory', parent: v2.parent }], totals, 'v2') : v2.support;
  const v1 = await detectV1(root, own);
  if (v1.support.version === 'v1') return totals ? withParent(v1.support, v1.specs, totals, 'v1') : v1.support;
  return {
    version: 'none',
    memory: false,
    processes: false,
    cpu: false,
    warnings: ['no usable cgroups: memory, process count and CPU are not limited'],
    create: async () => undefined,
  };
}
