// Files in GridFS buckets, written and read in as few round trips as the format allows, and safe
// under retries and crashes. The layout is GridFS's own (`<bucket>.files`, `<bucket>.chunks`, 255 KiB
// chunks), so the driver's GridFSBucket and any GridFS tool read what this writes; but one file is
// one `insertMany` of its chunks plus one `insert` of its files document, where the driver's upload
// stream sends an insert per chunk (and, on a bucket's first upload, an index check). Reads go
// straight to the chunks (index files_id_1_n_1) and are checked against the digest the caller
// recorded, which says more than GridFS's length check.
import { Binary, MongoBulkWriteError, type Db } from 'mongodb';
import { sha256Hex } from '../lib/hash';
import { isDuplicateKey } from './insert-if-absent';

/** GridFS's default chunk size (255 KiB), as the driver writes it. */
const CHUNK_SIZE = 255 * 1024;

interface FilesDoc {
  _id: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata: Record<string, unknown> & { sha256: string };
}

interface ChunkDoc {
  files_id: string;
  n: number;
  data: Binary;
}

/** A stored file that is there but not what was recorded: a bug or tampering, never a retry. */
export class StoredFileMismatchError extends Error {
  override readonly name = 'StoredFileMismatchError';
  constructor(
    readonly bucket: string,
    readonly fileId: string,
    detail: string,
  ) {
    super(`the file ${fileId} in bucket ${bucket} does not match its record: ${detail}`);
  }
}

function isDuplicate(err: unknown): boolean {
  if (isDuplicateKey(err)) return true;
  return err instanceof MongoBulkWriteError && err.writeErrors instanceof Array && err.writeErrors.some((e) => e.code === 11000);
}

const collections = (db: Db, bucket: string) => ({
  files: db.collection<FilesDoc>(`${bucket}.files`),
  chunks: db.collection<ChunkDoc>(`${bucket}.chunks`),
});

async function write(db: Db, bucket: string, id: string, filename: string, content: Uint8Array, metadata: FilesDoc['metadata']) {
  const { files, chunks } = collections(db, bucket);
  const docs: ChunkDoc[] = [];
  // At least one chunk, so that a stored file always has one (an empty file: one empty chunk).
  for (let n = 0, at = 0; n === 0 || at < content.byteLength; n += 1, at += CHUNK_SIZE) {
    docs.push({ files_id: id, n, data: new Binary(content.subarray(at, Math.min(at + CHUNK_SIZE, content.byteLength))) });
  }
  // Ordered: the first chunk the unique (files_id, n) index refuses stops the write. The files
  // document comes last, as with GridFS, so its presence means every chunk is there.
  await chunks.insertMany(docs, { ordered: true });
  await files.insertOne({ _id: id, length: content.byteLength, chunkSize: CHUNK_SIZE, uploadDate: new Date(), filename, metadata });
}

/**
 * Writes a file under a fixed id, once: usually two round trips. When something is stored under the
 * id already (a retry, or a write that crashed midway) the unique indexes refuse the write; then a
 * complete file with the same digest is kept as it is, and anything else is cleared and written again.
 */
export async function putFileOnce(
  db: Db,
  bucket: string,
  id: string,
  filename: string,
  content: Uint8Array,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const meta = { ...metadata, sha256: sha256Hex(content) };
  try {
    await write(db, bucket, id, filename, content, meta);
    return;
  } catch (err) {
    if (!isDuplicate(err)) throw err;
  }
  const { files } = collections(db, bucket);
  const existing = await files.findOne({ _id: id });
  if (existing && existing.length === content.byteLength && existing.metadata?.sha256 === meta.sha256) return;
  await deleteFile(db, bucket, id);
  await write(db, bucket, id, filename, content, meta);
}

/**
 * The file's content, read from its chunks in one query and checked against the size and digest its
 * record holds; null when no chunk is stored (never written, or deleted). Chunks that do not add up
 * to the record are a file being deleted right now (its files document is gone first: null) or a
 * StoredFileMismatchError.
 */
export async function readFile(db: Db, bucket: string, id: string, expected: { size: number; sha256: string }): Promise<Uint8Array | null> {
  const { files, chunks } = collections(db, bucket);
  const rows = await chunks.find({ files_id: id }, { sort: { n: 1 }, projection: { _id: 0, n: 1, data: 1 } }).toArray();
  if (rows.length === 0) return null;
  const content = Buffer.concat(rows.map((r) => r.data.value()));
  const contiguous = rows.every((r, i) => r.n === i);
  if (contiguous && content.byteLength === expected.size && sha256Hex(content) === expected.sha256) return new Uint8Array(content);
  if (!(await files.findOne({ _id: id }, { projection: { _id: 1 } }))) return null;
  throw new StoredFileMismatchError(bucket, id, `${rows.length} chunk(s), ${content.byteLength} bytes, expected ${expected.size}`);
}

/** Deletes a file (its files document first, as GridFS does); true if it was stored. */
export async function deleteFile(db: Db, bucket: string, id: string): Promise<boolean> {
  const { files, chunks } = collections(db, bucket);
  const deleted = await files.deleteOne({ _id: id });
  const chunksDeleted = await chunks.deleteMany({ files_id: id });
  return deleted.deletedCount > 0 || chunksDeleted.deletedCount > 0;
}
