import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface StartOptions {
  /** Use this database instead of an embedded one (e.g. another server's `databaseUrl`). */
  databaseUrl?: string;
  /**
   * Data directory to use instead of a fresh temporary one. It is never deleted
   * by `stop()`, so a later server can be started on the same directory.
   */
  dataDir?: string;
  /**
   * Listen on this port instead of a free one found at start. Use when something must
   * know the server's address before it starts (e.g. an identity provider's redirect
   * URI): take one from `findFreePort()`.
   */
  port?: number;
  /**
   * Extra environment variables for the server, applied last (over the defaults such as
   * WARROOM_DEV_LOGIN=1). `undefined` removes a variable.
   */
  env?: Record<string, string | undefined>;
}

export interface Server {
  baseUrl: string;
  port: number;
  /** The server's WARROOM_DATA_DIR ('' when it runs against an external database without one). */
  dataDir: string;
  /** A URL other processes (e.g. a second server) can use to reach the same database. */
  databaseUrl: string;
  stop(): Promise<void>;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
}

// Stay below the Linux ephemeral range (32768+) so the port we probe cannot be
// handed out to some outgoing connection before the server binds it.
const PORT_MIN = 21000;
const PORT_MAX = 29999;
const READY_TIMEOUT_MS = 120_000; // first start includes initdb
const READY_POLL_MS = 200;
const STOP_TIMEOUT_MS = 20_000;

/** Servers still running, so they can be killed if the test runner exits abruptly. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (the Makefile passes it)`);
  return value;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A TCP port in the range that nothing listens on right now (it is not reserved: use it
 * soon). `exclude` skips ports already promised to something not yet listening.
 */
export async function findFreePort(exclude: readonly number[] = []): Promise<number> {
  const span = PORT_MAX - PORT_MIN + 1;
  // Random start so consecutive servers (and concurrent runs) rarely collide.
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORT_MIN + ((offset + i) % span);
    if (exclude.includes(port)) continue;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free TCP port in ${PORT_MIN}-${PORT_MAX}`);
}

/** Signal the server's whole process group (it is spawned detached), falling back to the pid. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * If the server died without stopping its embedded Postgres (e.g. after SIGKILL),
 * a postmaster may still be running on the data dir and would block the next
 * server or the cleanup. Find its postmaster.pid and shut it down.
 */
async function stopOrphanPostmaster(dataDir: string): Promise<void> {
  const pidFiles: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isFile() && e.name === 'postmaster.pid') pidFiles.push(p);
      else if (e.isDirectory() && depth > 0) walk(p, depth - 1);
    }
  };
  walk(dataDir, 3);

  for (const file of pidFiles) {
    let pid: number;
    try {
      pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    } catch {
      continue;
    }
    if (!Number.isInteger(pid) || pid <= 0) continue;
    // Only signal it if it really is a postgres process (the pid file may be stale).
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes('postgres')) continue;
    try {
      process.kill(pid, 'SIGQUIT'); // Postgres "immediate shutdown"
    } catch {
      continue;
    }
    for (let waited = 0; waited < 5_000 && fs.existsSync(`/proc/${pid}`); waited += 100) {
      await sleep(100);
    }
    if (fs.existsSync(`/proc/${pid}`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** Start a Warroom server and wait until it reports ready on /readyz. */
export async function startServer(options: StartOptions = {}): Promise<Server> {
  const bin = requireEnv('WARROOM_BIN');
  const siteRoot = requireEnv('LEPTOS_SITE_ROOT');

  const port = options.port ?? (await findFreePort());
  const baseUrl = `http://127.0.0.1:${port}`;

  const embedded = options.databaseUrl === undefined;
  // We only delete directories we created ourselves.
  const ownsDataDir = embedded && options.dataDir === undefined;
  let dataDir = options.dataDir ?? '';
  if (ownsDataDir) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warroom-e2e-'));
    // mkdtemp creates 0700; initdb/postgres need to traverse it.
    fs.chmodSync(dataDir, 0o755);
  }
  // With an embedded database the server listens on a Unix socket under <dataDir>/run.
  const databaseUrl = options.databaseUrl ?? `postgres://warroom@localhost/warroom?host=${dataDir}/run`;

  const env: NodeJS.ProcessEnv = { ...process.env };
  // Don't let the caller's environment pick the database for us.
  delete env.DATABASE_URL;
  delete env.WARROOM_DATA_DIR;
  Object.assign(env, {
    WARROOM_ADDR: `127.0.0.1:${port}`,
    WARROOM_DEV_LOGIN: '1',
    // The suite signs dozens of people in from one address within a minute.
    WARROOM_SIGN_IN_RATE: '1000',
    LEPTOS_SITE_ROOT: siteRoot,
    LEPTOS_OUTPUT_NAME: 'warroom',
    LEPTOS_SITE_PKG_DIR: 'pkg',
    RUST_LOG: 'info',
  });
  if (embedded) env.WARROOM_DATA_DIR = dataDir;
  else {
    env.DATABASE_URL = databaseUrl;
    if (dataDir) env.WARROOM_DATA_DIR = dataDir;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }

  let output = '';
  const echo = process.env.E2E_SERVER_LOGS === '1'; // mirror logs live when debugging
  const child = spawn(bin, [], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group, so a forced kill also reaches anything the server spawned.
    detached: true,
  });
  live.add(child);

  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      // e.g. ENOENT: 'exit' is not emitted when spawning fails.
      exited = `spawn error: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });
  const capture = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output += text;
    if (echo) process.stderr.write(text);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (exited === undefined) {
        // SIGTERM only the server itself: it shuts down its own Postgres cleanly.
        child.kill('SIGTERM');
        const timedOut = await Promise.race([
          exitPromise.then(() => false),
          sleep(STOP_TIMEOUT_MS).then(() => true),
        ]);
        if (timedOut) {
          killGroup(child, 'SIGKILL');
          await exitPromise;
        }
      }
      // Cheap no-op after a clean shutdown (Postgres removes its pid file).
      if (embedded) await stopOrphanPostmaster(dataDir);
      if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const fail = async (reason: string): Promise<never> => {
    await stop();
    throw new Error(`Warroom server failed to start: ${reason}\n--- server logs ---\n${output}`);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) return fail(`process ended (${exited}) before /readyz returned 200`);
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer(); // drain so the connection is released
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) return fail(`/readyz not 200 after ${READY_TIMEOUT_MS / 1000}s`);
    await sleep(READY_POLL_MS);
  }

  return { baseUrl, port, dataDir, databaseUrl, stop, logs: () => output };
}
