// Hostile `/document/download` answers, for tests of the client's download limits (src/evrotrust/limits.ts):
// what a compromised or buggy provider could send. Served once each by the `nextDownload` control.
//
// - `zip-bomb`: a ZIP whose `<tx>_OUT.enc` entry is ~300 KB of deflate that inflates to 300 MiB of zeros;
//   built by streaming one 1 MiB chunk of zeros through the deflater, so building it never holds the 300 MiB.
// - `many-entries`: a ZIP of 1000 tiny entries.
// - `lying-header`: an entry whose headers record 1000 bytes but whose deflate stream inflates to 4 MiB.
// - `oversized`: a valid-looking ZIP of `bytes` bytes (stored random filler), larger than a download should be.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Deflate } from 'fflate';
import { entryName, zipEntries } from '../src/evrotrust/zip';

export const HOSTILE_DOWNLOADS = ['zip-bomb', 'many-entries', 'lying-header', 'oversized'] as const;
export type HostileDownload = (typeof HOSTILE_DOWNLOADS)[number];

const MiB = 1024 * 1024;

/** Raw deflate of `chunks` × `chunk`, and the CRC-32 of the whole, without holding the whole. */
function deflateRepeated(chunk: Uint8Array, chunks: number): { data: Uint8Array; crc: number; size: number } {
  const parts: Uint8Array[] = [];
  const deflate = new Deflate({ level: 9 }, (data) => void parts.push(data));
  let crc = 0;
  for (let i = 0; i < chunks; i++) {
    deflate.push(chunk, i === chunks - 1);
    crc = crc32(chunk, crc);
  }
  return { data: Buffer.concat(parts), crc, size: chunk.length * chunks };
}

/** A one-entry deflated ZIP from a ready deflate stream; `recordedSize` is what the headers say. */
function singleEntryZip(name: string, entry: { data: Uint8Array; crc: number }, recordedSize: number): Uint8Array {
  const nameBytes = Buffer.from(name, 'utf8');
  const local = Buffer.alloc(30 + nameBytes.length);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflated
  local.writeUInt32LE(entry.crc >>> 0, 14);
  local.writeUInt32LE(entry.data.length, 18);
  local.writeUInt32LE(recordedSize, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  nameBytes.copy(local, 30);
  const central = Buffer.alloc(46 + nameBytes.length);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(entry.crc >>> 0, 16);
  central.writeUInt32LE(entry.data.length, 20);
  central.writeUInt32LE(recordedSize, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  nameBytes.copy(central, 46);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(central.length, 12);
  eocd.writeUInt32LE(local.length + entry.data.length, 16);
  return Buffer.concat([local, entry.data, central, eocd]);
}

let bomb: { data: Uint8Array; crc: number; size: number } | undefined;

/** 300 MiB of zeros in ~300 KB (built once per process, about a second). */
export function zipBomb(transactionId: string, inflatedMiB = 300): Uint8Array {
  if (!bomb || bomb.size !== inflatedMiB * MiB) bomb = deflateRepeated(new Uint8Array(MiB), inflatedMiB);
  return singleEntryZip(entryName(transactionId, 'enc'), bomb, bomb.size);
}

export function manyEntriesZip(transactionId: string, entries = 1000): Uint8Array {
  return zipEntries(
    Array.from({ length: entries }, (_, i) => [`${transactionId}_${i}.txt`, Buffer.from(`entry ${i}\n`)] as const),
    0,
  );
}

/** Headers say 1000 bytes (well within every limit); the stream holds 4 MiB of zeros. */
export function lyingHeaderZip(transactionId: string): Uint8Array {
  return singleEntryZip(entryName(transactionId, 'enc'), deflateRepeated(new Uint8Array(MiB), 4), 1000);
}

export function oversizedZip(transactionId: string, bytes: number): Uint8Array {
  const filler = randomBytes(Math.max(0, bytes - 200));
  return zipEntries([[entryName(transactionId, 'enc'), filler]], 0);
}

export function hostileDownload(kind: HostileDownload, transactionId: string, oversizedBytes = 80 * MiB): Uint8Array {
  switch (kind) {
    case 'zip-bomb':
      return zipBomb(transactionId);
    case 'many-entries':
      return manyEntriesZip(transactionId);
    case 'lying-header':
      return lyingHeaderZip(transactionId);
    case 'oversized':
      return oversizedZip(transactionId, oversizedBytes);
  }
}
