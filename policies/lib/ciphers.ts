/**
 * Weak-cipher detection for OpenSSL cipher strings (nginx `ssl_ciphers`, ingress-nginx
 * `ssl-ciphers`) and Go/IANA suite names (Traefik `cipherSuites`).
 *
 * Weak means: CBC mode with a SHA-1 MAC, RC4, 3DES/DES, MD5, NULL encryption, EXPORT grade or
 * anonymous key exchange. An OpenSSL group keyword (HIGH, ALL, AES256, ...) is judged by whether
 * the string also excludes every weak class it would otherwise pull in; expanding groups exactly
 * would need the OpenSSL build that nginx links against.
 */

const WEAK_TOKENS: Readonly<Record<string, string>> = {
  RC4: "RC4",
  DES: "DES",
  "3DES": "3DES",
  CBC3: "3DES",
  DES40: "DES",
  MD5: "MD5",
  NULL: "NULL encryption",
  ENULL: "NULL encryption",
  ANULL: "anonymous key exchange",
  EXP: "EXPORT grade",
  EXPORT: "EXPORT grade",
  EXPORT40: "EXPORT grade",
  EXPORT56: "EXPORT grade",
  ADH: "anonymous key exchange",
  AECDH: "anonymous key exchange",
  ANON: "anonymous key exchange",
};

/** OpenSSL keywords that restrict a `+` combination to AEAD suites. */
const AEAD_KEYWORDS = ["AESGCM", "CHACHA20", "AESCCM", "AESCCM8", "ARIAGCM"];

/** Weak classes and the exclusions (`!X` or `-X`) that remove them. */
const CLASSES: ReadonlyArray<{ label: string; excludedBy: string[] }> = [
  { label: "aNULL", excludedBy: ["ANULL", "ADH"] },
  { label: "eNULL", excludedBy: ["ENULL", "NULL"] },
  { label: "SHA1", excludedBy: ["SHA1", "SHA"] },
  { label: "3DES", excludedBy: ["3DES", "DES"] },
  { label: "RC4", excludedBy: ["RC4"] },
  { label: "MD5", excludedBy: ["MD5"] },
  { label: "EXPORT", excludedBy: ["EXPORT", "EXP"] },
];
/** HIGH never contains RC4, MD5, eNULL or EXPORT suites, so only these need excluding. */
const HIGH_CLASSES = ["aNULL", "SHA1", "3DES"];

/** Why one concrete suite name is weak, or undefined when it is acceptable. */
export function weakSuite(name: string): string | undefined {
  const up = name.toUpperCase();
  const tokens = up.split(/[-_]/);
  for (const t of tokens) {
    const hit = WEAK_TOKENS[t];
    if (hit) return hit;
  }
  if (tokens.includes("WITH")) {
    // IANA / Go names: TLS_<kx>_WITH_<cipher>_<mac>
    if (/_CBC_SHA$/.test(up)) return "CBC mode with SHA-1";
    return undefined;
  }
  if (tokens[tokens.length - 1] === "SHA" && !AEAD_KEYWORDS.some((k) => up.includes(k)))
    return "CBC mode with SHA-1";
  return undefined;
}

const isConcrete = (item: string): boolean =>
  /^TLS_/i.test(item) || (item.includes("-") && !/^[A-Za-z0-9]+$/.test(item));

/** Problems in an OpenSSL cipher string; empty when only strong suites can be negotiated. */
export function opensslCipherProblems(spec: string): string[] {
  const items = spec.split(/[:, ]+/).filter(Boolean);
  const excluded = new Set(
    items
      .filter((i) => i.startsWith("!") || i.startsWith("-"))
      .map((i) => i.slice(1).toUpperCase()),
  );
  const problems: string[] = [];
  for (const item of items) {
    if (/^[!\-+@]/.test(item)) continue;
    if (item.includes("+")) {
      const parts = item.split("+").map((p) => p.toUpperCase());
      const weak = parts
        .map(
          (p) =>
            WEAK_TOKENS[p] ?? (p === "SHA1" || p === "SHA" ? "CBC mode with SHA-1" : undefined),
        )
        .find(Boolean);
      if (weak) problems.push(`'${item}' selects ${weak} suites`);
      else if (!parts.some((p) => AEAD_KEYWORDS.includes(p)))
        problems.push(
          ...groupProblem(
            item,
            excluded,
            CLASSES.map((c) => c.label),
          ),
        );
      continue;
    }
    if (isConcrete(item)) {
      const weak = weakSuite(item);
      if (weak) problems.push(`'${item}' is a weak suite (${weak})`);
      continue;
    }
    const up = item.toUpperCase();
    const weak =
      WEAK_TOKENS[up] ?? (up === "SHA1" || up === "SHA" ? "CBC mode with SHA-1" : undefined);
    if (weak) problems.push(`'${item}' selects ${weak} suites`);
    else if (!AEAD_KEYWORDS.includes(up)) {
      problems.push(
        ...groupProblem(item, excluded, up === "HIGH" ? HIGH_CLASSES : CLASSES.map((c) => c.label)),
      );
    }
  }
  return problems;
}

function groupProblem(item: string, excluded: Set<string>, classes: string[]): string[] {
  const missing = CLASSES.filter(
    (c) => classes.includes(c.label) && !c.excludedBy.some((e) => excluded.has(e)),
  );
  if (missing.length === 0) return [];
  const list = missing.map((c) => `!${c.label}`).join(" ");
  return [`'${item}' also enables weak suites unless the string excludes them (${list})`];
}

/** Problems in Traefik/Go cipherSuites. */
export function goCipherProblems(suites: string[]): string[] {
  return suites.flatMap((s) => {
    const weak = weakSuite(s);
    return weak ? [`'${s}' is a weak suite (${weak})`] : [];
  });
}

/** nginx/OpenSSL protocol names below TLS 1.2. */
export const WEAK_PROTOCOLS = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"];

/** Go/Traefik minVersion values below TLS 1.2. */
export const WEAK_GO_VERSIONS = ["VersionSSL30", "VersionTLS10", "VersionTLS11"];
