/**
 * The restore drill on Docker, in an ephemeral stack, against a real S3 server (rclone serve s3,
 * in a container on a network the test makes): write known rows, back up, write more, destroy
 * each database and its volume, restore into a fresh instance, and check every row; PostgreSQL
 * also restores to a point between the two writes. The bucket must hold only ciphertext, and a
 * failed backup must leave the last good one in place.
 *
 * Needs what the dev e2e needs (root for a private dockerd, the engine, local images), plus
 * rclone-s3 (testkit/tools/s3.sh builds it).
 */
import { existsSync } from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDockerd, type DockerDaemon } from "../../testkit/dockerd";
import { buildLocalImages, devStackConfig, type LocalImages } from "../../testkit/images";
import { backupMetrics, RUNNER_METRICS_COMMAND, timer } from "../../testkit/backups";
import { startS3Container, type S3Container } from "../../testkit/s3-container";
import { ROOT, withEphemeralStack, type Ephemeral } from "../../testkit/stack";
import { publishPort } from "../../testkit/ports";

const ENGINE = path.join(ROOT, ".tools/bin/pulumi");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timings: Record<string, number> = {};
/** A value no backup may show in plain text. */
const MARKER = "fjord-drill-personal-data-7f3a";

let daemon: DockerDaemon;
let images: LocalImages;
let s3: S3Container;

const timed = timer(timings);

/** SQL in the server's own container, over its socket; returns the rows as text. */
async function sql(db: string, engine: "postgres" | "mysql", name: string, q: string) {
  const cmd =
    engine === "postgres"
      ? ["psql", "-h", "/var/run/postgresql", "-U", name, "-d", name, "-Atq", "-c", q]
      : ["sh", "-c", `mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" -D ${name} -N -s -e "${q}"`];
  return (await daemon.docker(["exec", db, ...cmd])).trim();
}

/** Waits for a log line of a container (the runner says when it is ready). */
async function waitForLog(container: string, text: string, timeoutMs = 240_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await daemon.tryDocker(["logs", container]);
    if ((r.stdout + r.stderr).includes(text)) return;
    if (Date.now() > until) {
      throw new Error(
        `${container} never logged "${text}":\n${(r.stdout + r.stderr).slice(-3000)}`,
      );
    }
    await sleep(2000);
  }
}

const backupNow = (runner: string, env: string[] = []) =>
  daemon.tryDocker(
    ["exec", ...env.flatMap((e) => ["-e", e]), runner, "sh", "/etc/fjord/backup/run.sh", "now"],
    900_000,
  );

async function setRestore(
  e: Ephemeral,
  base: Record<string, unknown>,
  from: Record<string, string>,
) {
  const services = (base.services as Array<Record<string, Record<string, unknown>>>).map((s) => ({
    ...s,
    database: {
      ...s.database,
      ...(from[s.name as unknown as string]
        ? { restore: { from: from[s.name as unknown as string] } }
        : {}),
    },
  }));
  await e.stack.setConfig("fjord:services", { value: JSON.stringify(services) });
}

describe("backups on Docker: the restore drill", () => {
  beforeAll(async () => {
    if (!existsSync(ENGINE))
      throw new Error(`[backup-docker] no engine at ${ENGINE}; run npm run setup`);
    daemon = await timed("dockerdStart", () => startDockerd());
    images = (await timed("images", () => buildLocalImages(daemon.host))).images;
    s3 = await startS3Container(daemon, { name: "fjord-drill", image: images.postgres });
  });

  afterAll(async () => {
    await s3?.stop();
    await daemon?.stop();
    console.log(`[backup-docker] timings (s): ${JSON.stringify(timings)}`);
  });

  it("GIVEN a dev stack backing up PostgreSQL and MariaDB to S3 WHEN each database is destroyed and restored THEN PostgreSQL has every row, also to a point in time, and MariaDB the rows of its backup", async () => {
    const ports = {
      http: await publishPort(),
      https: await publishPort(),
      prom: await publishPort(),
    };
    const base = devStackConfig(images, daemon.host, ports, "nginx");
    const config = {
      ...base,
      docker: { ...(base.docker as object), backupNetwork: s3.network },
      observability: { enabled: false },
      backups: {
        target: { endpoint: s3.endpoint, bucket: s3.bucket, region: "no-osl1", caCert: s3.caPem },
        // Never due during the test: the drill takes its backups on demand.
        schedule: "0 0 1 1 *",
        retention: { count: 2, age: "1d" },
      },
    };
    await withEphemeralStack(
      {
        name: "backup-docker",
        baseStack: "dev",
        config,
        secrets: { backupAccessKeyId: s3.accessKeyId, backupSecretAccessKey: s3.secretAccessKey },
      },
      async (e) => {
        const stack = e.stack.name;
        const pg = `${stack}-orders-db`;
        const my = `${stack}-inventory-db`;
        await timed("up", () => e.up());
        await waitForLog(`${pg}-backup`, "backup runner ready");
        await waitForLog(`${my}-backup`, "backup runner ready");

        // GIVEN rows A in each database, backed up
        await sql(
          pg,
          "postgres",
          "orders",
          `create table drill (id int primary key, v text); insert into drill select g, '${MARKER}-' || g from generate_series(1, 500) g`,
        );
        await sql(
          my,
          "mysql",
          "inventory",
          `create table drill (id int primary key, v text); insert into drill values ${Array.from({ length: 200 }, (_, i) => `(${i + 1}, '${MARKER}-${i + 1}')`).join(",")}`,
        );
        for (const runner of [`${pg}-backup`, `${my}-backup`]) {
          const r = await timed(`backup:${runner.slice(stack.length + 1)}`, () =>
            backupNow(runner),
          );
          expect(r.code, `${runner}: ${r.stdout}${r.stderr}`).toBe(0);
        }
        const metrics = backupMetrics(
          await daemon.docker(["exec", `${pg}-backup`, ...RUNNER_METRICS_COMMAND]),
        );
        expect(metrics.lastSuccess).toBeGreaterThan(Date.now() / 1000 - 900);
        expect(metrics.sizeBytes).toBeGreaterThan(0);

        // WHEN a backup fails half-way (the store refuses the key) THEN the last good one stays
        // The backups, not the WAL archive: PostgreSQL keeps archiving meanwhile, as it should.
        const backupKeys = () =>
          s3
            .objects()
            .map((o) => o.key)
            .filter((k) => !/\/archive\//.test(k))
            .sort();
        const beforeFail = backupKeys();
        const bad = await backupNow(`${my}-backup`, [
          "RCLONE_CONFIG_FJORDS3_SECRET_ACCESS_KEY=wrong",
        ]);
        // One message, naming the config to fix, whatever the tool underneath said.
        const namesTheKeys =
          /fjord:backups\.target \(s3\.fjord\.test:9000, bucket fjord-backups\).*fjord:backupSecretAccessKey/;
        expect(bad.code).not.toBe(0);
        expect(bad.stderr).toMatch(/SignatureDoesNotMatch|403/);
        expect(bad.stderr).toMatch(namesTheKeys);
        const badPg = await backupNow(`${pg}-backup`, ["PGBACKREST_REPO1_S3_KEY_SECRET=wrong"]);
        expect(badPg.code).not.toBe(0);
        expect(badPg.stderr).toMatch(namesTheKeys);
        // AND a store nobody answers at (a closed port on the test's own S3 host)
        const gone = await backupNow(`${my}-backup`, [
          `RCLONE_CONFIG_FJORDS3_ENDPOINT=https://${s3.endpoint.split(":")[0]}:1`,
        ]);
        expect(gone.code).not.toBe(0);
        expect(gone.stderr).toMatch(/connection refused/i);
        expect(gone.stderr).toMatch(namesTheKeys);
        expect(backupKeys()).toEqual(beforeFail);

        // AND rows B after the backup; PostgreSQL's point in time lies between A and B
        await sleep(2000);
        const pointInTime = await sql(
          pg,
          "postgres",
          "orders",
          "select to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        );
        await sleep(2000);
        await sql(
          pg,
          "postgres",
          "orders",
          "insert into drill select g, 'b-' || g from generate_series(501, 600) g",
        );
        await sql(my, "mysql", "inventory", "insert into drill values (201, 'b-201')");
        const archived = Number(
          await sql(pg, "postgres", "orders", "select archived_count from pg_stat_archiver"),
        );
        await sql(pg, "postgres", "orders", "select pg_switch_wal()");
        for (
          let i = 0;
          Number(
            await sql(pg, "postgres", "orders", "select archived_count from pg_stat_archiver"),
          ) <= archived;
          i++
        ) {
          if (i > 60) throw new Error("the WAL segment holding rows B was never archived");
          await sleep(1000);
        }

        // THEN the bucket holds only ciphertext
        const objects = s3.objects();
        expect(objects.length).toBeGreaterThan(3);
        const plain = objects.filter((o) => o.bytes.includes(MARKER) || o.bytes.includes("drill"));
        expect(plain.map((o) => o.key)).toEqual([]);
        timings.bucketBytes = objects.reduce((n, o) => n + o.bytes.length, 0);

        // WHEN each database and its volume are destroyed, and restored into a fresh instance
        for (const c of [pg, `${pg}-backup`, my, `${my}-backup`])
          await daemon.docker(["rm", "-f", c]);
        await daemon.docker(["volume", "rm", `${pg}-data`, `${my}-data`]);
        await setRestore(e, config, { orders: "latest", inventory: "latest" });
        await e.stack.refresh({ onOutput: (s) => process.stdout.write(s) });
        await timed("restoreLatest", () => e.up());

        // THEN PostgreSQL has A and B (WAL replayed to the end); MariaDB its full backup, A
        expect(await sql(pg, "postgres", "orders", "select count(*), sum(id) from drill")).toBe(
          `600|${(600 * 601) / 2}`,
        );
        expect(
          await sql(
            pg,
            "postgres",
            "orders",
            `select count(*) from drill where v = '${MARKER}-250'`,
          ),
        ).toBe("1");
        expect(await sql(my, "mysql", "inventory", "select count(*), sum(id) from drill")).toBe(
          `200\t${(200 * 201) / 2}`,
        );

        // WHEN PostgreSQL is restored to the point between the writes THEN only A is there
        await setRestore(e, config, { orders: pointInTime, inventory: "latest" });
        await timed("restorePointInTime", () => e.up());
        expect(await sql(pg, "postgres", "orders", "select count(*), max(id) from drill")).toBe(
          "500|500",
        );
        // AND the restored database still archives and backs up
        const again = await backupNow(`${pg}-backup`);
        expect(again.code, again.stdout + again.stderr).toBe(0);
      },
    );
  });
});
