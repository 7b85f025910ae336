/**
 * Air-gap files for hosts that cannot run k3s. The installer is a recorder: the install step runs
 * it as it would run k3s's install.sh, and it writes down how it was called (its arguments and its
 * INSTALL_K3S_* environment) next to itself, that is under the node's root, and installs nothing.
 * Tests assert on that record instead of on a running k3s.
 */
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { K3S_INSTALLER_PATH, type AirgapFiles } from "../components/nodes";

const RECORD = "k3s-install.record";

// The step places the installer at K3S_INSTALLER_PATH under the root and runs `sh <that path>`,
// so $0 locates the root without the recorder relying on the step's own variables.
const RECORDER = String.raw`#!/bin/sh
set -eu
{
  for a in "$@"; do printf 'arg %s\n' "$a"; done
  env | grep '^INSTALL_K3S_' | sort || true
} >"$(dirname "$0")/${RECORD}"
`;

/**
 * Writes a fake k3s binary, an images tarball and the recording installer into `dir`, under the
 * names the install step stages them by, so `dir` serves as the local air-gap files or, filled
 * directly, as a node's staging dir.
 */
export function writeFakeAirgap(dir: string): AirgapFiles {
  const files: AirgapFiles = {
    k3sBinary: path.join(dir, "k3s"),
    imagesTarball: path.join(dir, "k3s-airgap-images-amd64.tar.zst"),
    installScript: path.join(dir, "install.sh"),
  };
  writeFileSync(files.k3sBinary, "#!/bin/sh\necho fake k3s\n");
  writeFileSync(files.imagesTarball, "fake images");
  writeFileSync(files.installScript, RECORDER);
  return files;
}

/** Where the recorder writes under a node's root. */
export function installRecordPath(root: string): string {
  return path.join(root, path.dirname(K3S_INSTALLER_PATH), RECORD);
}

export interface InstallRecord {
  args: string[];
  /** The INSTALL_K3S_* variables the installer saw. */
  env: Record<string, string>;
}

/** What the installer last recorded under `root`; throws when it never ran there. */
export function readInstallRecord(root: string): InstallRecord {
  const record: InstallRecord = { args: [], env: {} };
  for (const line of readFileSync(installRecordPath(root), "utf8").split("\n")) {
    if (line.startsWith("arg ")) record.args.push(line.slice(4));
    else if (line.includes("=")) {
      const i = line.indexOf("=");
      record.env[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return record;
}
