/** Reusable field schemas; each failure message says what is allowed. */
import { z } from "zod";
import { tryParseCpu, tryParseDuration, tryParseMemory } from "./units";
import { MANAGED_REQUEST_HEADERS } from "./defaults";

/** Shapes the gateway renderers accept verbatim (the plan re-checks plans built by hand). */
export const DOMAIN_NAME_RE =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
export const HEADER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
export const URL_PATH_RE = /^\/[A-Za-z0-9._~\-/]*$/;

export const dnsLabel = z.string().regex(/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/, {
  error:
    "must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 40 characters",
});

export const memory = z.string().refine((s) => tryParseMemory(s) !== undefined, {
  error: "must be a memory quantity such as 512Mi or 2Gi",
});

export const cpu = z
  .string()
  .refine((s) => tryParseCpu(s) !== undefined, {
    error: 'must be a CPU quantity such as "250m" or "2"',
  })
  // Below one millicore rounds to zero, which Kubernetes and the database tuners refuse.
  .refine((s) => (tryParseCpu(s) ?? 1) >= 1, { error: 'must be at least "1m"' });

/**
 * A container's requests and limits. Each key keeps its own description in the generated
 * reference: `who` starts every one ("Gateway " or ""), `limitNote` ends the limits' ones.
 */
export const resourcesFor = (who: string, limitNote = "") => {
  const say = (what: string) =>
    who ? `${who}${what}` : `${what.charAt(0).toUpperCase()}${what.slice(1)}`;
  return z.strictObject({
    requests: z.strictObject({
      cpu: cpu.meta({ description: say("CPU request.") }),
      memory: memory.meta({ description: say("memory request.") }),
    }),
    limits: z.strictObject({
      cpu: cpu.meta({ description: say(`CPU limit${limitNote}.`) }),
      memory: memory.meta({ description: say(`memory limit${limitNote}.`) }),
    }),
  });
};

/** A whole number from `min`, with its default and description. */
export const wholeFrom = (min: number, value: number, description: string) =>
  z.int().min(min).default(value).meta({ description });

export const duration = z.string().refine((s) => tryParseDuration(s) !== undefined, {
  error: 'must be a duration such as "250ms", "10s", "5m" or "15d"',
});

/**
 * A timeout the gateway writes in whole milliseconds (nginx and Traefik read no fractions),
 * at least `minMs`.
 */
export const wholeMs = (minMs: number) =>
  duration.refine(
    (s) => {
      const ms = tryParseDuration(s);
      return ms === undefined || (Number.isSafeInteger(ms) && ms >= minMs);
    },
    {
      error: `must be a whole number of milliseconds${minMs > 0 ? `, at least ${minMs}ms` : ""}, such as "250ms" or "2s"`,
    },
  );

/** A duration handed to Prometheus as written; it reads whole numbers only ("90s", not "1.5m"). */
export const wholeDuration = duration.refine((s) => /^\d+[a-z]+$/.test(s.trim()), {
  error: 'must be a whole number with a unit, such as "90s" rather than "1.5m"',
});

export const port = z
  .int({ error: "must be a whole port number" })
  .min(1, { error: "must be a port number from 1 to 65535" })
  .max(65535, { error: "must be a port number from 1 to 65535" });

export const urlPath = z
  .string()
  .regex(URL_PATH_RE, { error: "must be a URL path starting with '/'" });

/** A pinned image: an explicit tag other than `latest`, or a digest. */
export const pinnedImage = z.string().refine(
  (s) => {
    if (/@sha256:[a-f0-9]{64}$/.test(s)) return true;
    const tag = /:([\w][\w.-]{0,127})$/.exec(s.slice(s.lastIndexOf("/") + 1));
    return tag !== null && tag[1] !== "latest";
  },
  {
    error:
      'must be a pinned image with an explicit tag (not "latest") or an @sha256 digest, e.g. registry.example.no/orders:1.4.2',
  },
);

export const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, {
  error: "must be a CIDR such as 192.0.2.0/24 or 2001:db8::/32",
});

export const host = z
  .string()
  .regex(/^[A-Za-z0-9.:-]+$/, { error: "must be a hostname or an IP address" });

/** "host:port" (IPv6 in brackets), as a client dials it. */
export const hostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([1-9]\d{0,4})$/, {
    error: 'must be "host:port", such as "127.0.0.1:24224"',
  })
  .refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, {
    error: "must have a port number from 1 to 65535",
  });

/** A name the gateway serves: DNS labels of letters, digits and inner hyphens. */
export const domainName = z.string().regex(DOMAIN_NAME_RE, {
  error:
    "must be a host name such as api.example.no: labels of letters, digits and inner '-', at most 63 characters each",
});

/** A request header the gateway may remove; the ones it sets itself it must keep. */
export const strippableHeader = z
  .string()
  .regex(HEADER_NAME_RE, {
    error: "must be an HTTP header name: letters, digits and '-', not starting with '-'",
  })
  .refine((h) => !(MANAGED_REQUEST_HEADERS as readonly string[]).includes(h.toLowerCase()), {
    error: `is set by the gateway itself (${MANAGED_REQUEST_HEADERS.join(", ")}); remove it from the list`,
  });

export const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: "must be an http(s) URL" });
