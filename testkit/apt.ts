/**
 * Makes sure the server binaries the real tests need exist. CI starts from a fresh image, so when
 * running as root we install the Debian packages ourselves; otherwise we say exactly what is missing.
 */
import { execFileSync } from "child_process";
import { accessSync, constants } from "fs";
import * as path from "path";

// sbin directories are missing from many non-root PATHs but hold mariadbd.
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** Absolute path of an executable (a bare name is searched on PATH and the sbin dirs), or undefined. */
export function findBinary(name: string): string | undefined {
  const candidates = path.isAbsolute(name)
    ? [name]
    : [...(process.env.PATH ?? "").split(":").filter(Boolean), ...EXTRA_DIRS].map((d) =>
        path.join(d, name),
      );
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

let updated = false;

function apt(args: string[]): void {
  // Another test file may be installing at the same time; wait for dpkg's lock instead of failing.
  execFileSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 15 * 60_000,
  });
}

/**
 * `binaryToPackage` maps an executable (bare name or absolute path) to the Debian package that
 * ships it. Missing ones are installed when we are root; otherwise this throws naming the packages.
 */
export function ensurePackages(binaryToPackage: Record<string, string>): void {
  const missing = Object.entries(binaryToPackage).filter(([bin]) => !findBinary(bin));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  const what = missing.map(([bin, pkg]) => `${bin} (package ${pkg})`).join(", ");
  if (process.getuid?.() !== 0)
    throw new Error(
      `missing ${what}; install with: sudo apt-get install -y --no-install-recommends ${pkgs.join(" ")}`,
    );
  try {
    if (!updated) {
      apt(["update"]);
      updated = true;
    }
    apt(["install", "-y", "--no-install-recommends", ...pkgs]);
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(
      `apt-get install ${pkgs.join(" ")} failed: ${e.stderr?.toString() ?? e.message}`,
    );
  }
  const still = missing.filter(([bin]) => !findBinary(bin));
  if (still.length)
    throw new Error(
      `installed ${pkgs.join(" ")} but ${still.map(([b]) => b).join(", ")} is still missing`,
    );
}
