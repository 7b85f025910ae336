/**
 * Pulumi mocks for component tests: records every resource, throws on unmocked calls, and loads
 * a real `Pulumi.<stack>.yaml` into the mocked config so tests run the stacks users run.
 *
 * Use: `const rec = await setupMocks({ stack: "prod" })` FIRST, then `await import()` the module
 * under test, then `await rec.settle()`.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import * as pulumi from "@pulumi/pulumi";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  custom: boolean;
  provider?: string;
}

export interface MockOptions {
  /** Load `Pulumi.<stack>.yaml` from the repo root into the config. */
  stack?: string;
  /** Extra or overriding config, keyed `fjord:<key>` (objects are JSON-encoded). */
  config?: Record<string, unknown>;
  /** Config keys (full, e.g. `fjord:sshPrivateKey`) marked secret. */
  secretKeys?: string[];
  /** Run as a preview (unknowns stay unknown). @default false */
  preview?: boolean;
  /** Extra outputs for a resource type, merged over its inputs. */
  outputs?: Record<string, (r: Recorded) => Record<string, unknown>>;
}

const ROOT = path.resolve(__dirname, "..");

/** Stack file config as the engine hands it to the program: every value a string. */
export function stackConfig(stack: string): Record<string, string> {
  const doc = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(doc.config ?? {}).map(([k, v]) => [
      k,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

const MOCK_PEM =
  "-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMOCKKEY\n-----END PRIVATE KEY-----\n";

/** Outputs the real providers compute; everything else echoes the inputs. */
const DEFAULT_OUTPUTS: Record<string, (r: Recorded) => Record<string, unknown>> = {
  "random:index/randomPassword:RandomPassword": (r) => ({ result: `mock-password-${r.name}` }),
  // Same keepers, same bytes: what the provider does, since a value changes only on replacement.
  "random:index/randomBytes:RandomBytes": (r) => {
    const seed = `mock-bytes-${JSON.stringify(r.inputs.keepers ?? {})}`;
    const bytes = Buffer.alloc(Number(r.inputs.length), seed);
    return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
  },
  "command:local:Command": () => ({ stdout: MOCK_PEM, stderr: "" }),
  "command:remote:Command": () => ({ stdout: "", stderr: "" }),
};

export async function setupMocks(opts: MockOptions = {}) {
  const resources: Recorded[] = [];
  const config: Record<string, string> = opts.stack ? stackConfig(opts.stack) : {};
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  pulumi.runtime.setAllConfig(config, opts.secretKeys ?? []);
  const outputs = { ...DEFAULT_OUTPUTS, ...opts.outputs };

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const rec: Recorded = {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          custom: args.custom ?? true,
          ...(args.provider ? { provider: args.provider } : {}),
        };
        resources.push(rec);
        const extra = outputs[args.type]?.(rec) ?? {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call(args) {
        throw new Error(`unmocked call ${args.token}: add a mock for it in the test`);
      },
    },
    "fjord",
    opts.stack ?? "test",
    opts.preview ?? false,
  );

  return {
    resources,
    /** Waits until no new resource registers for a few turns of the event loop. */
    async settle(): Promise<Recorded[]> {
      let last = -1;
      let stable = 0;
      while (stable < 5) {
        await new Promise((r) => setTimeout(r, 10));
        stable = resources.length === last ? stable + 1 : 0;
        last = resources.length;
      }
      return resources;
    },
    ofType(type: string): Recorded[] {
      return resources.filter((r) => r.type === type);
    },
    /** The one resource with this type and name; throws with the candidates if absent. */
    get(type: string, name: string): Recorded {
      const found = resources.find((r) => r.type === type && r.name === name);
      if (!found) {
        const names = resources.filter((r) => r.type === type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ") || "none"}`);
      }
      return found;
    },
  };
}

/** Resolves an Output in a test (mocks resolve everything). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Whether an Output is marked secret. */
export function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
  return (o as unknown as { isSecret: Promise<boolean> }).isSecret;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VAL = "1b47061264138c4ac30d75fd1eb44270";

/** The plain value of a recorded input that the engine would store encrypted; throws if it is not secret. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON
export function secretInput(v: unknown): any {
  const o = v as Record<string, unknown> | undefined;
  if (o && o[SECRET_SIG] === SECRET_VAL) return o.value;
  throw new Error(`expected a secret input, got plain ${JSON.stringify(v)}`);
}

/** Object store keys for a prod Platform built under mocks (the stack reads them from config). */
export const TEST_BACKUP_KEYS = {
  accessKeyId: "test-backup-access-key-id",
  secretAccessKey: "test-backup-secret-access-key",
};
