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
  it("GIVEN a server node WHEN its nftables rules are rendered THEN inbound is dropped by default except established, loopback and ICMP, and only its own table is replaced", () => {
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

  it("GIVEN admin CIDRs and SSH on 2222 WHEN the rules are rendered THEN SSH and the API are admitted from the admin CIDRs and the deployer only", () => {
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

  it("GIVEN no admin CIDR (documented lockout trade-off) WHEN the rules are rendered THEN SSH is open to anyone, and the API too on a server but not on an agent", () => {
    const t = rules({ adminCidrs: [] });
    expect(chain(t)).toMatch(/^\s+tcp dport 22 accept$/m);
    expect(chain(t)).toMatch(/^\s+tcp dport 6443 accept$/m);
    expect(rules({ adminCidrs: [], role: "agent" })).not.toMatch(/^\s+tcp dport 6443 accept$/m);
  });

  it("GIVEN gateway and non-gateway nodes, with and without HTTP/3 WHEN the rules are rendered THEN 80/443 open on gateway nodes only, and UDP 443 only for a gateway serving HTTP/3", () => {
    expect(chain(rules({ gateway: true, http3: true }))).toMatch(
      /tcp dport \{ 80, 443 \} accept\n.*\n\s+udp dport 443 accept\n/,
    );
    expect(chain(rules({ gateway: true, http3: false }))).toContain("tcp dport { 80, 443 } accept");
    expect(chain(rules({ gateway: true, http3: false }))).not.toContain("udp dport 443");
    // A node without the gateway opens neither, whatever the gateway serves.
    expect(chain(rules({ http3: true }))).not.toContain("80, 443");
    expect(chain(rules({ http3: true }))).not.toContain("udp dport 443");
  });

  it("GIVEN peers, server peers and wireguard WHEN a server's or an agent's rules are rendered THEN k3s ports open to the peers only, etcd to servers, wireguard when asked, and an agent gets neither etcd nor wireguard", () => {
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

  it("GIVEN the default or a configured pod CIDR WHEN the rules are rendered THEN that CIDR may reach host-network endpoints", () => {
    expect(chain(rules())).toContain("ip saddr 10.42.0.0/16 accept");
    expect(chain(rules({ podCidr: "10.99.0.0/16" }))).toContain("ip saddr 10.99.0.0/16 accept");
  });

  it("GIVEN a peer given as a host name, which nft cannot admit reliably WHEN the rules are rendered THEN it is refused as not an IP address", () => {
    expect(() => rules({ peers: ["node-2.example.no"] })).toThrow(
      /peer "node-2.example.no" is not an IP address/,
    );
  });
});
