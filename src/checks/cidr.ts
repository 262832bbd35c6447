import { isIPv4, isIPv6 } from "node:net";

/** An IP network, IPv4 or IPv6, as address bits plus a prefix length. */
export interface Cidr {
  v6: boolean;
  bits: bigint;
  prefix: number;
}

export function parseIp(ip: string): { v6: boolean; bits: bigint } | undefined {
  if (isIPv4(ip)) return { v6: false, bits: ip.split(".").reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n) };
  if (isIPv6(ip)) {
    let s = ip;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (v4) {
      const b = parseIp(v4[1])!.bits;
      s = `${s.slice(0, -v4[1].length)}${((b >> 16n) & 0xffffn).toString(16)}:${(b & 0xffffn).toString(16)}`;
    }
    const [head, tail] = s.split("::");
    const h = head ? head.split(":") : [];
    const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
    const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    return { v6: true, bits: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || "0", 16)), 0n) };
  }
  return undefined;
}

/** Parses `10.0.0.0/8`; throws Go's wording for a bad one. */
export function parseCidr(text: string): Cidr {
  const [ip, len, extra] = text.split("/");
  const addr = ip === undefined ? undefined : parseIp(ip);
  const prefix = Number(len);
  const max = addr?.v6 ? 128 : 32;
  if (!addr || extra !== undefined || len === undefined || !/^\d+$/.test(len) || prefix > max) throw new Error(`invalid CIDR address: ${text}`);
  const width = BigInt(max);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << (width - BigInt(prefix));
  return { v6: addr.v6, bits: addr.bits & mask, prefix };
}

export function cidrContainsIp(net: Cidr, ip: string): boolean {
  const a = parseIp(ip);
  if (!a || a.v6 !== net.v6) return false;
  const width = BigInt(net.v6 ? 128 : 32);
  const mask = net.prefix === 0 ? 0n : ((1n << BigInt(net.prefix)) - 1n) << (width - BigInt(net.prefix));
  return (a.bits & mask) === net.bits;
}

/** A network contains a pod CIDR when it contains its address and its prefix is not longer. */
export function cidrContainsCidr(net: Cidr, inner: string): boolean {
  const [ip] = inner.split("/");
  return cidrContainsIp(net, ip) && parseCidr(inner).prefix >= net.prefix;
}
