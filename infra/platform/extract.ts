import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * SST's platform source (its components, `global.d.ts`, `config.ts`, its `package.json`) ships
 * inside the `sst` CLI binary as Go embedded files (`//go:embed`). Go stores an embed.FS as a
 * sorted array of `{ name string; data string; hash [16]byte }`, each string a (pointer, length)
 * pair into the binary's read-only data. This finds that array from one known file name and
 * reads every entry: no Go tooling, well under a second for the 75 MB binary.
 */

export interface EmbeddedFile {
  name: string;
  data: Buffer;
}

/** The installed CLI binary of the `sst` package (its per-platform package, as bin/sst.mjs finds it). */
export function sstBinary(root: string): { path: string; version: string } {
  const require = createRequire(join(root, "package.json"));
  const name = `sst-${process.platform}-${process.arch}`;
  const manifest = require.resolve(`${name}/package.json`);
  const version = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  return { path: join(dirname(manifest), "bin", process.platform === "win32" ? "sst.exe" : "sst"), version };
}

interface Segment {
  offset: number;
  address: number;
  size: number;
}

/** The loadable segments of an ELF64 little-endian executable (Linux: what CI and Lambda builders run). */
function elfSegments(binary: Buffer): Segment[] {
  if (binary.readUInt32BE(0) !== 0x7f454c46 || binary[4] !== 2 || binary[5] !== 1) {
    throw new Error("the sst binary is not a 64-bit little-endian ELF executable (this check runs on Linux)");
  }
  const phoff = Number(binary.readBigUInt64LE(32));
  const phentsize = binary.readUInt16LE(54);
  const phnum = binary.readUInt16LE(56);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (binary.readUInt32LE(at) !== 1 /* PT_LOAD */) continue;
    segments.push({
      offset: Number(binary.readBigUInt64LE(at + 8)),
      address: Number(binary.readBigUInt64LE(at + 16)),
      size: Number(binary.readBigUInt64LE(at + 32)),
    });
  }
  return segments;
}

/** A file the platform always has: where the search starts. */
const ANCHOR = "src/components/aws/function.ts";
const ENTRY = 48; // name (ptr, len) + data (ptr, len) + 16-byte hash

export function extractPlatform(binaryPath: string): EmbeddedFile[] {
  const binary = readFileSync(binaryPath);
  const segments = elfSegments(binary);
  const toOffset = (address: number) => {
    for (const s of segments) if (address >= s.address && address < s.address + s.size) return address - s.address + s.offset;
    return -1;
  };
  const toAddress = (offset: number) => {
    for (const s of segments) if (offset >= s.offset && offset < s.offset + s.size) return offset - s.offset + s.address;
    return -1;
  };
  const entryAt = (at: number): { name: string; dataOffset: number; dataLength: number } | undefined => {
    if (at < 0 || at + ENTRY > binary.length) return undefined;
    const nameOffset = toOffset(Number(binary.readBigUInt64LE(at)));
    const nameLength = Number(binary.readBigUInt64LE(at + 8));
    const dataPointer = Number(binary.readBigUInt64LE(at + 16));
    const dataLength = Number(binary.readBigUInt64LE(at + 24));
    if (nameOffset < 0 || nameLength < 1 || nameLength > 1024) return undefined;
    const dataOffset = dataLength ? toOffset(dataPointer) : 0;
    if (dataOffset < 0 || dataLength > 64 * 1024 * 1024 || dataOffset + dataLength > binary.length) return undefined;
    const name = binary.toString("latin1", nameOffset, nameOffset + nameLength);
    if (!/^[\x21-\x7e]+$/.test(name) || name.startsWith("/") || name.split("/").includes("..")) return undefined;
    return { name, dataOffset, dataLength };
  };

  const anchor = Buffer.from(ANCHOR);
  for (let found = binary.indexOf(anchor); found >= 0; found = binary.indexOf(anchor, found + 1)) {
    const reference = Buffer.alloc(16);
    reference.writeBigUInt64LE(BigInt(toAddress(found)));
    reference.writeBigUInt64LE(BigInt(anchor.length), 8);
    for (let at = binary.indexOf(reference); at >= 0; at = binary.indexOf(reference, at + 1)) {
      let first = at;
      while (entryAt(first - ENTRY)) first -= ENTRY;
      let last = at;
      while (entryAt(last + ENTRY)) last += ENTRY;
      const files: EmbeddedFile[] = [];
      for (let e = first; e <= last; e += ENTRY) {
        const entry = entryAt(e)!;
        if (entry.name.endsWith("/")) continue; // directories
        files.push({ name: entry.name, data: binary.subarray(entry.dataOffset, entry.dataOffset + entry.dataLength) });
      }
      const names = new Set(files.map((f) => f.name));
      if (names.has("package.json") && names.has("src/config.ts") && names.has("src/global.d.ts")) return files;
    }
  }
  throw new Error(`could not find SST's embedded platform in ${binaryPath} (no embed table referencing ${ANCHOR})`);
}
