/**
 * Ephemeral stacks on the real engine (Automation API). Each run gets its own project directory
 * (symlinks to the real program), a unique stack name, and is always destroyed and removed.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import {
  LocalWorkspace,
  PulumiCommand,
  type ConfigMap,
  type OutputMap,
  type PulumiFn,
  Stack,
  type UpResult,
} from "@pulumi/pulumi/automation";
import { stackConfig } from "./mocks";

export const ROOT = path.resolve(__dirname, "..");

let cachedEnv: Record<string, string> | undefined;
/** The engine environment exactly as scripts/env.sh sets it for users. */
export function engineEnv(): Record<string, string> {
  if (!cachedEnv) {
    const out = execFileSync(
      "bash",
      ["-c", `source "${ROOT}/scripts/env.sh" >/dev/null && env -0`],
      {
        encoding: "utf8",
      },
    );
    cachedEnv = Object.fromEntries(
      out
        .split("\0")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  }
  return cachedEnv;
}

export interface EphemeralOptions {
  /** Prefix of the unique stack name. */
  name: string;
  /** Start from the config of `Pulumi.<baseStack>.yaml`. */
  baseStack?: string;
  /** `fjord:<key>` values to set or override (objects are JSON). */
  config?: Record<string, unknown>;
  /** `fjord:<key>` values to set as secrets. */
  secrets?: Record<string, string>;
  /** An inline program instead of the repo's `stacks/` program. */
  program?: PulumiFn;
  /** Extra environment for the engine and the program. */
  env?: Record<string, string>;
}

export interface Ephemeral {
  stack: Stack;
  workDir: string;
  up(): Promise<UpResult>;
  /**
   * The state as the backend stores it, secrets encrypted. (Automation's `exportStack` runs
   * `stack export --show-secrets`, so its answer always holds every secret in plain text.)
   */
  exportState(): string;
  /** Fails unless a fresh preview proposes no change at all. */
  expectNoChanges(): Promise<void>;
}

function projectDir(program?: PulumiFn): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fjord-stack-"));
  if (!program) {
    for (const f of ["stacks", "components", "node_modules", "package.json", "tsconfig.json"]) {
      symlinkSync(path.join(ROOT, f), path.join(dir, f));
    }
    copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  }
  mkdirSync(path.join(dir, "out"), { recursive: true });
  return dir;
}

function toConfigMap(values: Record<string, unknown>, secret: boolean): ConfigMap {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k.includes(":") ? k : `fjord:${k}`,
      { value: typeof v === "string" ? v : JSON.stringify(v), secret },
    ]),
  );
}

/**
 * The secret values found in `state`: each whole, and each long line of a multi-line one (a
 * kubeconfig, a PEM key), as written in JSON, where newlines and quotes are escaped.
 */
export function plaintextLeaks(state: string, secrets: string[]): string[] {
  const forms = (s: string) => [s, ...s.split("\n").filter((l) => l.trim().length >= 16)];
  return secrets.filter((s) =>
    forms(s).some((f) => state.includes(f) || state.includes(JSON.stringify(f).slice(1, -1))),
  );
}

/** Every plaintext value of a secret output, to look for in the exported state. */
function secretValues(outputs: OutputMap): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string" && v.length >= 8) found.push(v);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const o of Object.values(outputs)) if (o.secret) walk(o.value);
  return found;
}

/**
 * Runs `fn` against a fresh stack, then always destroys it, checks that the state is empty and
 * holds no plaintext secret, and removes the stack and its directory.
 */
export async function withEphemeralStack<T>(
  opts: EphemeralOptions,
  fn: (e: Ephemeral) => Promise<T>,
): Promise<T> {
  const workDir = projectDir(opts.program);
  const stackName = `${opts.name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const envVars = { ...engineEnv(), ...opts.env };
  // The CLI that `npm run setup` provides (or the user's, when env.sh found one on PATH).
  const pulumiBin = execFileSync("bash", ["-c", "command -v pulumi"], {
    env: envVars,
    encoding: "utf8",
  }).trim();
  const ws = await LocalWorkspace.create({
    workDir,
    envVars,
    pulumiCommand: await PulumiCommand.get({ root: path.dirname(path.dirname(pulumiBin)) }),
    ...(opts.program
      ? { program: opts.program, projectSettings: { name: "fjord-test", runtime: "nodejs" } }
      : {}),
  });
  const stack = await Stack.create(stackName, ws);
  const secrets: string[] = Object.values(opts.secrets ?? {});
  try {
    const base = opts.baseStack ? stackConfig(opts.baseStack) : {};
    await stack.setAllConfig({
      ...toConfigMap(base, false),
      ...toConfigMap(opts.config ?? {}, false),
      ...toConfigMap(opts.secrets ?? {}, true),
    });
    const exportState = () =>
      execFileSync(pulumiBin, ["stack", "export", "--stack", stackName], {
        cwd: workDir,
        env: envVars,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
      });
    const result = await fn({
      stack,
      workDir,
      async up() {
        const r = await stack.up({ onOutput: (s) => process.stdout.write(s) });
        secrets.push(...secretValues(r.outputs));
        const leaked = plaintextLeaks(exportState(), secrets);
        if (leaked.length > 0)
          throw new Error(`state holds ${leaked.length} secret value(s) in plain text`);
        return r;
      },
      exportState,
      async expectNoChanges() {
        const p = await stack.preview({ diff: true });
        const changed = Object.entries(p.changeSummary).filter(
          ([op, n]) => op !== "same" && Number(n) > 0,
        );
        if (changed.length > 0) {
          throw new Error(
            `preview after up is not empty: ${JSON.stringify(p.changeSummary)}\n${p.stdout}`,
          );
        }
      },
    });
    return result;
  } finally {
    await cleanUp(stack, ws, stackName, workDir);
  }
}

/** Destroys and removes the stack; throws (after removing the directory) if anything is left. */
async function cleanUp(
  stack: Stack,
  ws: LocalWorkspace,
  stackName: string,
  workDir: string,
): Promise<void> {
  try {
    await stack.destroy({ onOutput: (s) => process.stdout.write(s) });
    const left = (await stack.exportStack()).deployment?.resources ?? [];
    if (left.length > 0) throw new Error(`destroy left ${left.length} resource(s) in the state`);
    await ws.removeStack(stackName);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Writes a file under the ephemeral project (e.g. a fixture). */
export function writeProjectFile(e: Ephemeral, rel: string, content: string): string {
  const p = path.join(e.workDir, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}
