/**
 * OCI image archives from a root filesystem tarball, for containerd without a registry or Docker:
 * the tarball becomes the image's single (uncompressed) layer and the Dockerfile-style changes that
 * images/build.sh passes to `docker import` become the image config. The archive is
 * streamed straight into `ctr images import -`, so the layer is read once per node, never copied.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "fs";
import { tmpdir } from "os";
import * as path from "path";

export interface ImageConfig {
  User?: string;
  WorkingDir?: string;
  Env: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string>;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A JSON array (exec form) or a plain string (shell form, as `docker import` takes it). */
function words(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith("[")) return JSON.parse(t) as string[];
  return ["/bin/sh", "-c", t];
}

/**
 * The config for `docker import -c` changes: USER, WORKDIR, ENV, ENTRYPOINT, CMD, EXPOSE, VOLUME
 * and LABEL. Anything else is an error, so a new change in build.sh cannot be dropped silently.
 */
export function parseChanges(changes: string[]): ImageConfig {
  const config: ImageConfig = { Env: [DEFAULT_PATH] };
  for (const change of changes) {
    const m = /^(\w+)\s+([\s\S]+)$/.exec(change.trim());
    if (!m) throw new Error(`image change ${JSON.stringify(change)} has no argument`);
    const [, op, rest] = m as unknown as [string, string, string];
    switch (op.toUpperCase()) {
      case "USER":
        config.User = rest.trim();
        break;
      case "WORKDIR":
        config.WorkingDir = rest.trim();
        break;
      case "ENV": {
        const eq = rest.indexOf("=");
        const [k, v] = eq > 0 ? [rest.slice(0, eq), rest.slice(eq + 1)] : rest.split(/\s+(.*)/s);
        config.Env = [
          ...config.Env.filter((e) => !e.startsWith(`${k}=`)),
          `${k!.trim()}=${v ?? ""}`,
        ];
        break;
      }
      case "ENTRYPOINT":
        config.Entrypoint = words(rest);
        // As in a Dockerfile: a new ENTRYPOINT resets a CMD set before it.
        delete config.Cmd;
        break;
      case "CMD":
        config.Cmd = words(rest);
        break;
      case "EXPOSE":
        for (const p of rest.trim().split(/\s+/))
          config.ExposedPorts = { ...config.ExposedPorts, [p.includes("/") ? p : `${p}/tcp`]: {} };
        break;
      case "VOLUME":
        for (const v of rest.trim().startsWith("[") ? words(rest) : rest.trim().split(/\s+/))
          config.Volumes = { ...config.Volumes, [v]: {} };
        break;
      case "LABEL": {
        const [k, ...v] = rest.trim().split("=");
        config.Labels = { ...config.Labels, [k!]: v.join("=").replace(/^"|"$/g, "") };
        break;
      }
      default:
        throw new Error(`image change ${JSON.stringify(change)}: ${op} is not supported`);
    }
  }
  return config;
}

/** sha256 of a file, streamed (layers are hundreds of MB). */
export function fileDigest(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("error", reject)
      .on("end", () => resolve(`sha256:${h.digest("hex")}`));
  });
}

/** The name containerd's CRI looks an image up by: `nginx:1` → `docker.io/library/nginx:1`. */
export function normalizeRef(ref: string): string {
  const first = ref.split("/")[0]!;
  const hasRegistry =
    ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return ref;
  return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export interface OciLayout {
  dir: string;
  ref: string;
  /** What containerd lists as the image's digest once imported. */
  manifestDigest: string;
  remove(): void;
}

/**
 * Writes an OCI image layout whose layer blob is a symlink to `rootfsTar`; `tar -h` follows it when
 * the layout is streamed. `layerDigest` may be passed in when already known (it is cached per tar).
 */
export function ociLayout(
  rootfsTar: string,
  ref: string,
  config: ImageConfig,
  layerDigest: string,
): OciLayout {
  const dir = mkdtempSync(path.join(tmpdir(), "fjord-oci-"));
  const blobs = path.join(dir, "blobs/sha256");
  mkdirSync(blobs, { recursive: true });
  const put = (body: string): { digest: string; size: number } => {
    const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    writeFileSync(path.join(blobs, digest.slice(7)), body);
    return { digest, size: Buffer.byteLength(body) };
  };
  symlinkSync(path.resolve(rootfsTar), path.join(blobs, layerDigest.slice(7)));
  const layer = {
    mediaType: "application/vnd.oci.image.layer.v1.tar",
    digest: layerDigest,
    size: statSync(rootfsTar).size,
  };
  const cfg = put(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config,
      rootfs: { type: "layers", diff_ids: [layerDigest] },
      history: [{ created_by: "fjord: images/build.sh root filesystem" }],
    }),
  );
  const manifest = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...cfg },
      layers: [layer],
    }),
  );
  const full = normalizeRef(ref);
  writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    path.join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          platform: { architecture: "amd64", os: "linux" },
          annotations: {
            "io.containerd.image.name": full,
            "org.opencontainers.image.ref.name": full.slice(full.lastIndexOf(":") + 1),
          },
        },
      ],
    }),
  );
  return {
    dir,
    ref: full,
    manifestDigest: manifest.digest,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Streams an OCI layout into containerd at `address` (namespace k8s.io, unpacked for `snapshotter`). */
export function importLayout(
  layout: OciLayout,
  address: string,
  snapshotter: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn("tar", ["-ch", "-C", layout.dir, "oci-layout", "index.json", "blobs"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const ctr = spawn(
      "ctr",
      ["-a", address, "-n", "k8s.io", "images", "import", "--snapshotter", snapshotter, "-"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    tar.stdout.pipe(ctr.stdin);
    let err = "";
    tar.stderr.on("data", (d: Buffer) => (err += d.toString()));
    ctr.stderr.on("data", (d: Buffer) => (err += d.toString()));
    ctr.once("error", reject);
    ctr.once("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`ctr import of ${layout.ref} failed (${code}): ${err}`)),
    );
  });
}
