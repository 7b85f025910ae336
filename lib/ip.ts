/**
 * IP literal syntax without `net` (config and plan import no network modules, by lint rule):
 * 4 or 6 for an IPv4 or IPv6 literal, 0 for anything else (a host name), as `net.isIP` answers.
 */
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

export function ipVersion(host: string): 0 | 4 | 6 {
  if (IPV4.test(host)) return 4;
  const [addr, zone, ...extra] = host.split("%");
  if (!addr.includes(":") || /[^0-9a-fA-F:.]/.test(addr) || extra.length > 0 || zone === "") {
    return 0;
  }
  try {
    // WHATWG URL parsing is a complete IPv6 grammar (compression, embedded IPv4) and pure.
    new URL(`http://[${addr}]/`);
    return 6;
  } catch {
    return 0;
  }
}
