/**
 * Secrets recognised by their value, not their name: private keys, cloud and SaaS credentials
 * with a fixed shape, and long random-looking tokens. Every match says what it is and where, but
 * never repeats the secret (only its first characters and length), since findings end up in CI
 * logs, SARIF and JUnit files.
 *
 * Tuned for no false positives on configuration text: digests (`sha256:<hex>`, and bare hex of
 * 40 or 64 digits: commit ids, checksums), UUIDs, paths, words joined by punctuation and
 * Pulumi's unknown sentinels are not tokens.
 */

export interface SecretMatch {
  /** What was found, e.g. "a PEM private key (RSA)". */
  kind: string;
  /** Where in the value: 1-based line, and a redacted preview. */
  line: number;
  preview: string;
}

interface Shape {
  kind: string;
  re: RegExp;
}

// Fixed-shape credentials, each documented by its issuer. Prefixes keep them unambiguous.
const SHAPES: readonly Shape[] = [
  {
    kind: "a PEM private key",
    re: /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/,
  },
  { kind: "an OpenSSH private key", re: /-----BEGIN OPENSSH PRIVATE KEY-----/ },
  { kind: "an AWS access key id", re: /\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b/ },
  {
    kind: "an AWS secret access key",
    re: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b/i,
  },
  { kind: "a Google API key", re: /\b(AIza[0-9A-Za-z_-]{35})/ },
  { kind: "a Google service account key", re: /"private_key_id"\s*:\s*"([0-9a-f]{40})"/ },
  { kind: "an Azure storage account key", re: /AccountKey=([A-Za-z0-9+/]{86}==)/ },
  { kind: "a GitHub token", re: /\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_\w{82})\b/ },
  { kind: "a GitLab token", re: /\b(glpat-[A-Za-z0-9_-]{20})\b/ },
  { kind: "a Slack token", re: /\b(xox[baprs]-[A-Za-z0-9-]{10,})\b/ },
  { kind: "a Stripe secret key", re: /\b([sr]k_live_[A-Za-z0-9]{24,})\b/ },
  { kind: "a DigitalOcean token", re: /\b(do[opr]_v1_[a-f0-9]{64})\b/ },
  {
    kind: "a JSON Web Token",
    re: /\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})/,
  },
];

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export const MIN_TOKEN_LENGTH = 32;
/**
 * Bits per character above which a base64-alphabet token of 32-40 characters reads as random
 * (random: ~4.6 at 32, ~4.9 at 43; camelCase English identifiers: ~4.0-4.4). Longer tokens must
 * score higher, since English saturates near 4.4 while random text keeps rising with length.
 */
export const BASE64_ENTROPY = 4.5;
export const base64Threshold = (n: number): number =>
  BASE64_ENTROPY + Math.min(0.5, Math.max(0, n - 40) * 0.015);
/** Hex has at most 4 bits per character; random hex of 32+ characters scores above 3.5. */
export const HEX_ENTROPY = 3.5;

const TOKEN = /[A-Za-z0-9+/_=-]{32,}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGEST_BEFORE = /(sha1|sha224|sha256|sha384|sha512|md5)[:=]$/i;

/** Why `tok` (found right after `before`) is a random-looking secret, or undefined. */
function randomToken(tok: string, before: string): string | undefined {
  const t = tok.replace(/=+$/, "");
  if (t.length < MIN_TOKEN_LENGTH || UUID.test(t) || DIGEST_BEFORE.test(before)) return undefined;
  // Paths and dotted/hyphenated words: several separators with word-like pieces between.
  if ((t.match(/[/_-]/g) ?? []).length >= 3) return undefined;
  const h = entropy(t);
  if (/^[0-9a-f]+$/i.test(t)) {
    // 40 and 64 hex digits are git commit ids and SHA-256 digests far more often than secrets.
    if (t.length === 40 || t.length === 64) return undefined;
    if (!/[0-9]/.test(t) || !/[a-f]/i.test(t)) return undefined;
    return h >= HEX_ENTROPY ? `hex, ${h.toFixed(1)} bits/char` : undefined;
  }
  if (!/[a-z]/.test(t) || !/[A-Z]/.test(t) || !/[0-9]/.test(t)) return undefined;
  return h >= base64Threshold(t.length) ? `${h.toFixed(1)} bits/char` : undefined;
}

const redact = (s: string): string => `'${s.slice(0, 4)}…' (${s.length} characters)`;

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Secrets in a value, each once, in order of appearance. */
export function findSecrets(text: string): SecretMatch[] {
  // Nearly all configuration values are short and plain; skip the scan when nothing could match.
  if (text.length < 16) return [];
  const out: { at: number; m: SecretMatch }[] = [];
  const seen = new Set<number>();
  for (const s of SHAPES) {
    const m = s.re.exec(text);
    if (!m) continue;
    const what = m[1] ?? m[0];
    const kind = s.kind === "a PEM private key" ? `${s.kind} (${m[1]})` : s.kind;
    out.push({
      at: m.index,
      m: {
        kind,
        line: lineOf(text, m.index),
        preview: s.kind.includes("private key") ? `'${m[0]}'` : redact(what),
      },
    });
    // A key's body is base64 too; it is part of this match, not another token.
    const end = s.kind.includes("private key") ? text.indexOf("-----END", m.index) : -1;
    for (let i = m.index; i < (end > 0 ? end : m.index + m[0].length); i++) seen.add(i);
  }
  if (text.length >= MIN_TOKEN_LENGTH) {
    for (const m of text.matchAll(TOKEN)) {
      if (seen.has(m.index)) continue;
      const why = randomToken(m[0], text.slice(Math.max(0, m.index - 7), m.index));
      if (why)
        out.push({
          at: m.index,
          m: {
            kind: `a high-entropy token (${why})`,
            line: lineOf(text, m.index),
            preview: redact(m[0]),
          },
        });
    }
  }
  return out.sort((a, b) => a.at - b.at).map((x) => x.m);
}

/** "a PEM private key (RSA PRIVATE KEY) at line 3: '-----BEGIN …'" */
export const explain = (m: SecretMatch): string =>
  `${m.kind}${m.line > 1 ? ` at line ${m.line}` : ""}: ${m.preview}`;
