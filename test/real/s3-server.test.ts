/**
 * The S3 server the backup tests use (testkit/s3.ts: rclone v1.76 `serve s3` over TLS on loopback)
 * against the real clients fjord's backups run: Debian's rclone 1.60 (plain and through a `crypt`
 * remote) and pgBackRest 2.45 archiving and backing up a real PostgreSQL 15, encrypted, then a
 * point-in-time restore from the bucket; and MariaDB 10.11's mariabackup streamed through zstd into
 * a crypt remote and restored. Pins down the exact client settings that work, given as environment
 * variables as a container would get them.
 */
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePackages } from "../../testkit/apt";
import { startMariadb, type MariadbServer } from "../../testkit/mariadb";
import { startPostgres, type PostgresServer } from "../../testkit/postgres";
import { chownTo, makeTempDir, removeDir, run } from "../../testkit/proc";
import { ensureRcloneS3, startS3, type S3Server } from "../../testkit/s3";

// Fails (with the command to run) instead of skipping when the server cannot be built.
ensureRcloneS3();
ensurePackages({
  rclone: "rclone",
  pgbackrest: "pgbackrest",
  mariabackup: "mariadb-backup",
  mbstream: "mariadb-backup",
  zstd: "zstd",
});

const BUCKET = "fjord-backups";
let s3: S3Server;
let work: string;

beforeAll(async () => {
  s3 = await startS3({ buckets: [BUCKET] });
  work = makeTempDir("fjord-s3-clients-");
});

afterAll(async () => {
  await s3?.stop();
  if (work) removeDir(work);
});

// The AWS SDK in rclone 1.60 fails on AWS_CA_BUNDLE ("LoadCustomCABundleError ... unsupported
// transport, *fshttp.Transport") when the environment sets it, as this machine's does: the CA
// goes in --ca-cert instead, and no AWS_* variable reaches the client.
const clientEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_"))),
  RCLONE_CONFIG: path.join(work, "no-rclone.conf"),
  ...s3.rcloneEnv("s3"),
  ...extra,
});
// One try each, so a refusal fails in a second instead of after rclone's backoff.
const ONCE = ["--retries", "1", "--low-level-retries", "1"];
const rclone = (args: string[], env = clientEnv()) =>
  run("rclone", ["--ca-cert", s3.caFile, ...ONCE, ...args], { env });

/** A file's bytes contain `text` (as UTF-8). */
const holds = (file: string, text: string) => readFileSync(file).includes(Buffer.from(text));

describe("Debian's rclone 1.60 against rclone serve s3", () => {
  it("GIVEN a remote defined only by RCLONE_CONFIG_S3_* variables WHEN it puts, lists and gets an object THEN the bytes come back and sit in the bucket's directory", async () => {
    const src = path.join(work, "hello.txt");
    writeFileSync(src, "hello from fjord\n");

    await rclone(["copyto", src, `s3:${BUCKET}/plain/hello.txt`]);

    expect((await rclone(["lsf", "-R", `s3:${BUCKET}/plain`])).split("\n")).toContain("hello.txt");
    expect(await rclone(["cat", `s3:${BUCKET}/plain/hello.txt`])).toBe("hello from fjord\n");
    const stored = s3.objects(BUCKET).find((o) => o.key === "plain/hello.txt");
    expect(stored?.size).toBe(17);
    expect(readFileSync(stored!.path, "utf8")).toBe("hello from fjord\n");
  });

  it("GIVEN a bucket made by createBucket after the server started WHEN rclone lists buckets and copies into it THEN the server serves it at once", async () => {
    await s3.createBucket("fjord-late");
    const src = path.join(work, "late.txt");
    writeFileSync(src, "late\n");

    expect((await rclone(["lsd", "s3:"])).split("\n").some((l) => / fjord-late$/.test(l))).toBe(
      true,
    );
    await rclone(["copyto", src, "s3:fjord-late/late.txt"]);
    expect(s3.objects("fjord-late").map((o) => o.key)).toEqual(["late.txt"]);
  });

  it("GIVEN a wrong secret WHEN rclone lists the bucket THEN the server refuses the signature", async () => {
    const err = await rclone(
      ["lsf", `s3:${BUCKET}`],
      clientEnv({ RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: "not-the-secret" }),
    ).catch((e: unknown) => String(e));
    expect(err).toMatch(/SignatureDoesNotMatch|403/);
  });

  it("GIVEN no CA WHEN rclone connects THEN it does not trust the server", async () => {
    const err = await run("rclone", [...ONCE, "lsf", `s3:${BUCKET}`], { env: clientEnv() }).catch(
      (e: unknown) => String(e),
    );
    expect(err).toMatch(/x509: certificate signed by unknown authority/);
  });

  it("GIVEN a crypt remote over the s3 remote WHEN a file with a known string is copied THEN only ciphertext is stored and rclone decrypts it", async () => {
    const secret = "fjord-crypt-plaintext-4711";
    const src = path.join(work, "dump.sql");
    writeFileSync(src, `INSERT INTO t VALUES ('${secret}');\n`);
    const password = (await run("rclone", ["obscure", "a long crypt pass phrase"])).trim();
    const env = clientEnv({
      RCLONE_CONFIG_VAULT_TYPE: "crypt",
      RCLONE_CONFIG_VAULT_REMOTE: `s3:${BUCKET}/crypt`,
      RCLONE_CONFIG_VAULT_PASSWORD: password,
    });

    await rclone(["copyto", src, "vault:db/dump.sql"], env);

    expect(await rclone(["cat", "vault:db/dump.sql"], env)).toBe(readFileSync(src, "utf8"));
    const stored = s3.objects(BUCKET).filter((o) => o.key.startsWith("crypt/"));
    expect(stored).toHaveLength(1);
    // Standard filename encryption: neither the name nor the content is readable.
    expect(stored[0]!.key).not.toMatch(/db|dump/);
    expect(holds(stored[0]!.path, secret)).toBe(false);
    expect(holds(src, secret)).toBe(true);
  });
});

describe("pgBackRest 2.45 with an S3 repository on rclone serve s3", () => {
  const STANZA = "fjord";
  const ROW = "fjord-pg-row-plaintext-4711";
  let pg: PostgresServer;
  let pgEnv: NodeJS.ProcessEnv;
  let restored: PostgresServer | undefined;
  /** Temp dirs owned by the postgres user: pgbackrest's own files, the restore target. */
  const dirs: string[] = [];

  beforeAll(async () => {
    const dir = makeTempDir("fjord-pgbackrest-", "postgres");
    dirs.push(dir);
    // The CA must be readable by the postgres user, which runs every pgbackrest command.
    const caFile = path.join(dir, "s3-ca.crt");
    writeFileSync(caFile, s3.caPem);
    // An empty config file, so Debian's /etc/pgbackrest.conf does not apply: every option is an
    // environment variable, as a container gets them (and a read-only rootfs needs no file).
    const config = path.join(dir, "pgbackrest.conf");
    writeFileSync(config, "");
    chownTo(caFile, "postgres");
    chownTo(config, "postgres");
    pgEnv = {
      ...process.env,
      PGBACKREST_CONFIG: config,
      PGBACKREST_STANZA: STANZA,
      PGBACKREST_REPO1_TYPE: "s3",
      PGBACKREST_REPO1_PATH: "/postgres",
      PGBACKREST_REPO1_S3_BUCKET: BUCKET,
      PGBACKREST_REPO1_S3_ENDPOINT: s3.endpoint,
      PGBACKREST_REPO1_S3_REGION: s3.region,
      PGBACKREST_REPO1_S3_URI_STYLE: "path",
      PGBACKREST_REPO1_STORAGE_CA_FILE: caFile,
      PGBACKREST_REPO1_S3_KEY: s3.accessKeyId,
      PGBACKREST_REPO1_S3_KEY_SECRET: s3.secretAccessKey,
      PGBACKREST_REPO1_CIPHER_TYPE: "aes-256-cbc",
      PGBACKREST_REPO1_CIPHER_PASS: "a long repository pass phrase",
      PGBACKREST_REPO1_RETENTION_FULL: "2",
      // Uncompressed, so the cipher alone is what keeps the row out of the bucket's bytes.
      PGBACKREST_COMPRESS_TYPE: "none",
      PGBACKREST_LOCK_PATH: path.join(dir, "lock"),
      PGBACKREST_LOG_PATH: path.join(dir, "log"),
      PGBACKREST_SPOOL_PATH: path.join(dir, "spool"),
      PGBACKREST_LOG_LEVEL_FILE: "off",
      PGBACKREST_LOG_LEVEL_CONSOLE: "info",
    };
    pg = await startPostgres({
      env: pgEnv,
      args: [
        ...["-c", "wal_level=replica", "-c", "archive_mode=on"],
        // archive-push runs in the data directory; pg1-path is the stanza's, given here so the
        // server's environment needs nothing that exists only after initdb.
        ...["-c", `archive_command=pgbackrest --pg1-path="$(pwd)" archive-push %p`],
      ],
    });
    pgEnv = {
      ...pgEnv,
      PGBACKREST_PG1_PATH: pg.dataDir,
      PGBACKREST_PG1_PORT: String(pg.port),
      PGBACKREST_PG1_SOCKET_PATH: pg.socketDir,
    };
  });

  afterAll(async () => {
    await restored?.stop();
    await pg?.stop();
    for (const d of dirs) removeDir(d);
  });

  const pgbackrest = (args: string[], env = pgEnv) =>
    run("pgbackrest", args, { user: "postgres", env, timeoutMs: 120_000 });

  it("GIVEN a running PostgreSQL with archive_mode on WHEN stanza-create, check and a full encrypted backup run THEN pgbackrest info shows the backup and no bucket file holds the row in plaintext", async () => {
    await pg.query(`CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('${ROW}');`);
    await pg.query("CHECKPOINT");

    await pgbackrest(["stanza-create"]);
    // check forces a WAL switch and waits until archive_command pushed it to the bucket.
    await pgbackrest(["check"]);
    await pgbackrest(["backup", "--type=full", "--start-fast"]);

    const info = JSON.parse(await pgbackrest(["info", "--output=json"])) as Array<{
      name: string;
      status: { code: number; message: string };
      cipher: string;
      backup: Array<{ type: string; label: string }>;
    }>;
    expect(info[0]).toMatchObject({ name: STANZA, cipher: "aes-256-cbc" });
    expect(info[0]!.status).toMatchObject({ code: 0, message: "ok" });
    expect(info[0]!.backup.map((b) => b.type)).toEqual(["full"]);

    const objects = s3.objects(BUCKET).filter((o) => o.key.startsWith("postgres/"));
    expect(objects.some((o) => o.key.startsWith(`postgres/archive/${STANZA}/`))).toBe(true);
    expect(objects.some((o) => o.key.startsWith(`postgres/backup/${STANZA}/`))).toBe(true);
    expect(objects.filter((o) => holds(o.path, ROW)).map((o) => o.key)).toEqual([]);
    // The control: the same bytes are in the clear in the server's own data files.
    const heap = (await pg.query("SELECT pg_relation_filepath('secrets')")).trim();
    expect(holds(path.join(pg.dataDir, heap), ROW)).toBe(true);
  });

  it("GIVEN the backup and archived WAL WHEN restored to a time between two inserts THEN the restored server has the first row and not the second", async () => {
    // GIVEN a target a whole second past the backup's stop: pgBackRest keeps stop times in whole
    // seconds and picks a backup whose stop is strictly before the target's second.
    const info = JSON.parse(await pgbackrest(["info", "--output=json"])) as Array<{
      backup: Array<{ timestamp: { stop: number } }>;
    }>;
    const stop = info[0]!.backup.at(-1)!.timestamp.stop;
    await pg.query(
      `SELECT pg_sleep(greatest(0, ${stop + 1} - extract(epoch FROM clock_timestamp())))`,
    );
    await pg.query("INSERT INTO secrets VALUES ('before-target')");
    const target = await pg.query("SELECT clock_timestamp()");
    await new Promise((r) => setTimeout(r, 1200));
    await pg.query("INSERT INTO secrets VALUES ('after-target')");
    await pgbackrest(["check"]);

    const dir = makeTempDir("fjord-pgrestore-", "postgres");
    dirs.push(dir);
    const dataDir = path.join(dir, "data");
    await run("install", ["-d", "-m", "0700", "-o", "postgres", "-g", "postgres", dataDir]);
    // The restore_command pgbackrest writes names this --pg1-path, and archive-get insists that
    // the server runs there; the copy startPostgres makes runs elsewhere, so it reads its own
    // directory as archive_command does. (A restore in place needs no override.)
    await pgbackrest([
      "restore",
      `--pg1-path=${dataDir}`,
      "--type=time",
      `--target=${target}`,
      "--target-action=promote",
      `--recovery-option=restore_command=pgbackrest --pg1-path="$(pwd)" archive-get %f "%p"`,
    ]);
    const auto = readFileSync(path.join(dataDir, "postgresql.auto.conf"), "utf8");
    expect(auto).toContain(`recovery_target_time = '${target}'`);
    expect(auto).toContain("recovery_target_action = 'promote'");

    // The restore_command reads the repository through the same PGBACKREST_* environment.
    restored = await startPostgres({ templateDataDir: dataDir, env: pgEnv });
    const deadline = Date.now() + 60_000;
    while ((await restored.query("SELECT pg_is_in_recovery()")) === "t") {
      if (Date.now() > deadline) throw new Error("restored server did not promote");
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await restored.query("SELECT v FROM secrets ORDER BY v")).split("\n")).toEqual([
      "before-target",
      ROW,
    ]);
  });
});

describe("mariabackup streamed through zstd and an rclone crypt remote", () => {
  const ROW = "fjord-maria-row-plaintext-4711";
  let db: MariadbServer;
  let restored: MariadbServer | undefined;
  let dir: string;

  beforeAll(async () => {
    db = await startMariadb();
    dir = makeTempDir("fjord-mariabackup-");
  });

  afterAll(async () => {
    await restored?.stop();
    await db?.stop();
    if (dir) removeDir(dir);
  });

  it("GIVEN a running MariaDB WHEN mariabackup --stream=xbstream | zstd | rclone rcat goes to a crypt remote and comes back through mbstream and --prepare THEN a server started on it has the row and the bucket holds only ciphertext", async () => {
    await db.query(
      `CREATE DATABASE app; CREATE TABLE app.secrets (v text) ENGINE=InnoDB; INSERT INTO app.secrets VALUES ('${ROW}');`,
    );
    const password = (await run("rclone", ["obscure", "another crypt pass phrase"])).trim();
    const env = clientEnv({
      RCLONE_CONFIG_VAULT_TYPE: "crypt",
      RCLONE_CONFIG_VAULT_REMOTE: `s3:${BUCKET}/mariadb`,
      RCLONE_CONFIG_VAULT_PASSWORD: password,
      RCLONE_CA_CERT: s3.caFile,
    });
    const sh = (script: string) =>
      run("bash", ["-o", "pipefail", "-c", script], { env, timeoutMs: 300_000 });
    const socket = db.clientArgs.find((a) => a.startsWith("--socket="))!;

    // --target-dir is only scratch space when streaming; the backup is stdout.
    await sh(
      `mariabackup --no-defaults --backup --stream=xbstream ${socket} --user=root ` +
        `--target-dir=${dir}/scratch | zstd -q -T0 | ` +
        `rclone --retries 1 rcat vault:full/backup.xbstream.zst`,
    );
    const stored = s3.objects(BUCKET).filter((o) => o.key.startsWith("mariadb/"));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.size).toBeGreaterThan(100_000);
    expect(holds(stored[0]!.path, ROW)).toBe(false);

    const data = path.join(dir, "data");
    await sh(
      `mkdir -p ${data} && rclone cat vault:full/backup.xbstream.zst | zstd -q -d | ` +
        `mbstream -x -C ${data}`,
    );
    await sh(`mariabackup --no-defaults --prepare --target-dir=${data}`);
    // The control: the restored table file has the row in the clear.
    expect(holds(path.join(data, "app", "secrets.ibd"), ROW)).toBe(true);
    await run("chown", ["-R", "mysql:mysql", data]);
    restored = await startMariadb({ templateDataDir: data });
    expect(await restored.query("SELECT v FROM app.secrets")).toBe(ROW);
  });
});
