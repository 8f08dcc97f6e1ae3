import { BlockList, isIPv6 } from "node:net";

/** A BlockList of these subnets (`[address, prefix length]`, IPv4 or IPv6, told apart by the address). */
export function subnets(list: ReadonlyArray<readonly [string, number]>): BlockList {
  const block = new BlockList();
  for (const [address, prefix] of list) block.addSubnet(address, prefix, isIPv6(address) ? "ipv6" : "ipv4");
  return block;
}
