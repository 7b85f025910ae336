import { describe, expect, it } from "vitest";
import { renderNftables, type FirewallOptions } from "../../../components/nodes";

const base: FirewallOptions = {
  node: "osl-1",
  role: "server",
  sshPort: 22,
  adminCidrs: ["198.51.100.0/24", "2001:db8::/32"],
  gateway: false,
  http3: false,
  peers: ["192.0.2.12", "192.0.2.11"],
  serverPeers: [],
};
const rules = (o: Partial<FirewallOptions> = {}) => renderNftables({ ...base, ...o });
const chain = (text: string) => text.slice(text.indexOf("chain input"));

describe("renderNftables", () => {
  it("denies inbound by default and replaces only its own table", () => {
    const t = rules();
    expect(t).toMatch(/^#!\/usr\/sbin\/nft -f\n/);
    expect(t).toContain("table inet fjord {}\ndelete table inet fjord\ntable inet fjord {");
    expect(t).not.toContain("flush ruleset");
    expect(t).toContain("policy drop;");
    for (const r of [
      "ct state established,related accept",
      'iifname "lo" accept',
      "meta l4proto icmp accept",
      "meta l4proto ipv6-icmp accept",
    ]) {
      expect(chain(t)).toContain(r);
    }
  });

  it("admits SSH and the API from admin CIDRs and the deployer only", () => {
    const t = rules({ sshPort: 2222 });
    expect(t).toContain(
      "set admin4 { type ipv4_addr; flags interval; elements = { 198.51.100.0/24 } }",
    );
    expect(t).toContain(
      "set admin6 { type ipv6_addr; flags interval; elements = { 2001:db8::/32 } }",
    );
    expect(chain(t)).toContain("ip saddr @admin4 tcp dport 2222 accept");
    expect(chain(t)).toContain("ip6 saddr @deployer6 tcp dport 2222 accept");
    expect(chain(t)).toContain("ip saddr @admin4 tcp dport 6443 accept");
    expect(chain(t)).not.toMatch(/^\s+tcp dport 2222 accept$/m);
  });

  it("opens SSH to anyone when no admin CIDR is configured (documented lockout trade-off)", () => {
    const t = rules({ adminCidrs: [] });
    expect(chain(t)).toMatch(/^\s+tcp dport 22 accept$/m);
    expect(chain(t)).toMatch(/^\s+tcp dport 6443 accept$/m);
    expect(rules({ adminCidrs: [], role: "agent" })).not.toMatch(/^\s+tcp dport 6443 accept$/m);
  });

  it("opens 80/443 on gateway nodes only, and UDP 443 only for a gateway serving HTTP/3", () => {
    expect(chain(rules({ gateway: true, http3: true }))).toMatch(
      /tcp dport \{ 80, 443 \} accept\n.*\n\s+udp dport 443 accept\n/,
    );
    expect(chain(rules({ gateway: true, http3: false }))).toContain("tcp dport { 80, 443 } accept");
    expect(chain(rules({ gateway: true, http3: false }))).not.toContain("udp dport 443");
    // A node without the gateway opens neither, whatever the gateway serves.
    expect(chain(rules({ http3: true }))).not.toContain("80, 443");
    expect(chain(rules({ http3: true }))).not.toContain("udp dport 443");
  });

  it("opens k3s ports to the other nodes only, etcd to servers, wireguard when asked", () => {
    const t = rules({ serverPeers: ["192.0.2.13", "192.0.2.12"], wireguard: true });
    expect(t).toContain(
      "set peers4 { type ipv4_addr; flags interval; elements = { 192.0.2.11, 192.0.2.12 } }",
    );
    expect(t).toContain(
      "set servers4 { type ipv4_addr; flags interval; elements = { 192.0.2.12, 192.0.2.13 } }",
    );
    expect(chain(t)).toContain("ip saddr @peers4 tcp dport { 6443, 9100, 10250 } accept");
    expect(chain(t)).toContain("ip saddr @peers4 udp dport 8472 accept");
    expect(chain(t)).toContain("ip saddr @servers4 tcp dport 2379-2380 accept");
    expect(chain(t)).toContain("ip saddr @peers4 udp dport { 51820, 51821 } accept");
    const agent = rules({ role: "agent" });
    expect(chain(agent)).toContain("ip saddr @peers4 tcp dport { 9100, 10250 } accept");
    expect(agent).not.toContain("2379");
    expect(agent).not.toContain("51820");
  });

  it("lets pods reach host-network endpoints", () => {
    expect(chain(rules())).toContain("ip saddr 10.42.0.0/16 accept");
    expect(chain(rules({ podCidr: "10.99.0.0/16" }))).toContain("ip saddr 10.99.0.0/16 accept");
  });

  it("rejects host names, which nft cannot admit reliably", () => {
    expect(() => rules({ peers: ["node-2.example.no"] })).toThrow(
      /peer "node-2.example.no" is not an IP address/,
    );
  });
});
