import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const TIME = '/usr/bin/time';

export interface Finished {
  code: number | null;
  wallMs: number;
  /** Peak resident set (ru_maxrss) of the measured process, in MB of 10^6 bytes. */
  peakRssMb: number;
  /** User + system CPU seconds of the measured process. */
  cpuSeconds: number;
  stderrTail: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly stdout: Readable | null;
  readonly finished: Promise<Finished>;
  /** SIGTERM to the measured process itself, not to `time`, which would die without reporting. */
  terminate(): void;
}

const live = new Set<Running>();
let launched = 0;

/** Starts `command` under GNU time, whose ru_maxrss is taken at exit and so cannot miss a late peak. */
export function launch(command: string, args: string[], stdout: 'pipe' | 'ignore', env: NodeJS.ProcessEnv = {}): Running {
  if (!existsSync(TIME)) throw new Error(`${TIME} is missing; scripts/bench.sh installs it (apt-get install time)`);
  const statsFile = join(tmpdir(), `orders-bench-${process.pid}-${++launched}.time`);
  const started = performance.now();
  const child = spawn(TIME, ['-f', '%M %U %S', '-o', statsFile, command, ...args], {
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderrTail = (stderrTail + text).slice(-2000); });
  let exitedAt = Number.NaN;
  child.on('exit', () => { exitedAt = performance.now(); });
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      live.delete(running);
      resolve({ code, wallMs: exitedAt - started, ...readStats(statsFile), stderrTail });
    });
  });
  const running: Running = { child, stdout: child.stdout, finished, terminate: () => signalMeasured(child, 'SIGTERM') };
  live.add(running);
  return running;
}

/** Waits for the end and fails with the command's stderr when it exits non-zero or outlives `limitMs`. */
export async function succeeded(run: Running, what: string, limitMs = 15 * 60_000): Promise<Finished> {
  const timer = setTimeout(() => signalMeasured(run.child, 'SIGKILL'), limitMs);
  const result = await run.finished.finally(() => clearTimeout(timer));
  if (result.code !== 0) {
    const why = result.wallMs >= limitMs ? `was killed after ${limitMs / 1000} s` : `exited with ${String(result.code)}`;
    throw new Error(`${what} ${why}: ${result.stderrTail.trim()}`);
  }
  return result;
}

/** Kills whatever is still running, so a failed bench leaves no process behind. */
export function killAll(): void {
  for (const run of live) {
    signalMeasured(run.child, 'SIGKILL');
    run.child.kill('SIGKILL');
  }
}

function signalMeasured(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  const childrenFile = `/proc/${child.pid}/task/${child.pid}/children`;
  if (!existsSync(childrenFile)) return;
  for (const pid of readFileSync(childrenFile, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), signal);
    } catch {
      // Already gone: nothing to stop.
    }
  }
}

// time writes "Command exited with non-zero status N" before the figures, so read the last line.
function readStats(file: string): { peakRssMb: number; cpuSeconds: number } {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const [maxRssKb, user, system] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    return { peakRssMb: ((maxRssKb ?? Number.NaN) * 1024) / 1e6, cpuSeconds: (user ?? Number.NaN) + (system ?? Number.NaN) };
  } catch {
    return { peakRssMb: Number.NaN, cpuSeconds: Number.NaN };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Rejects when `promise` has not settled within `ms`, naming what was awaited. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU seconds a process has used so far (utime + stime from /proc), or NaN when it cannot be read. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name; utime and stime are fields 14 and 15 of the whole line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

// USER_HZ is 100 on every Linux build that matters here.
const CLOCK_TICKS = 100;
