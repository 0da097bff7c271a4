// What the simulator remembers: threads (one per vendor request), transactions (one per signer),
// user profiles set by tests, and the uploaded and signed files. In memory, and, with a stateDir,
// also on disk so that a restart keeps pending signings (the README: state survives a restart of `npm start`).

import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { signerIdentitySchema, type SignerIdentity } from '../src/lib/signer';
import type { UserFlags } from './users';

/** `group`: one transaction per signer covering several documents (`/document/group/online`). */
export type TransactionKind = 'online' | 'offline' | 'group';

/** One document of a group thread, in the order of the request's `documents[]`. */
export interface GroupDocument {
  filename: string;
  description: string;
  optional: boolean;
  fileSha256: string;
  fileSize: number;
}

/** One vendor request (`/document/doc/online` or `/document/doc/offline`). */
export interface Thread {
  threadID: string;
  kind: TransactionKind;
  createdAt: number;
  /** Base64 of the vendor's public key PEM, as sent: downloads are encrypted to it. */
  publicKey: string;
  urlCallback: string;
  description: string;
  coverage: number;
  /** Unix seconds (online only). */
  dateExpire?: number;
  filename: string;
  fileSha256: string;
  fileSize: number;
  transactionIDs: string[];
  /** Group threads only: the documents (`filename` and the file fields above are the first one's). */
  documents?: GroupDocument[];
  /** The transaction whose signed copy is the latest one of this thread: the next signer signs that. */
  latestSignedTransactionID?: string;
}

export interface OtpCode {
  code: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** One signer's part of a thread. */
export interface Transaction {
  transactionID: string;
  threadID: string;
  kind: TransactionKind;
  signer: SignerIdentity;
  status: number;
  rejectReason?: string;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms until which a signed document is still `isProcessing`. */
  processingUntil?: number;
  /** A final status was reached and its callback has not finished (delivered or given up) yet. */
  callbackDue: boolean;
  otp?: OtpCode;
  signed?: { filename: string; sha256: string; size: number };
  /** Group transactions: one signed copy per document, in document order (`signed` is the first one's). */
  signedDocuments?: ({ filename: string; sha256: string; size: number } | null)[];
}

const threadSchema = z.object({
  threadID: z.string(),
  kind: z.enum(['online', 'offline', 'group']),
  createdAt: z.number(),
  publicKey: z.string(),
  urlCallback: z.string(),
  description: z.string(),
  coverage: z.number(),
  dateExpire: z.number().optional(),
  filename: z.string(),
  fileSha256: z.string(),
  fileSize: z.number(),
  transactionIDs: z.array(z.string()),
  documents: z
    .array(z.object({ filename: z.string(), description: z.string(), optional: z.boolean(), fileSha256: z.string(), fileSize: z.number() }))
    .optional(),
  latestSignedTransactionID: z.string().optional(),
});

const transactionSchema = z.object({
  transactionID: z.string(),
  threadID: z.string(),
  kind: z.enum(['online', 'offline', 'group']),
  signer: signerIdentitySchema,
  status: z.number(),
  rejectReason: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  processingUntil: z.number().optional(),
  callbackDue: z.boolean(),
  otp: z.object({ code: z.string(), expiresAt: z.number() }).optional(),
  signed: z.object({ filename: z.string(), sha256: z.string(), size: z.number() }).optional(),
  signedDocuments: z.array(z.object({ filename: z.string(), sha256: z.string(), size: z.number() }).nullable()).optional(),
});

/** A user's profile flags, as persisted and as the controls accept them (partially). */
export const userFlagsSchema = z.object({
  isRegistered: z.boolean(),
  isIdentified: z.boolean(),
  isRejected: z.boolean(),
  isSupervised: z.boolean(),
  isReadyToSign: z.boolean(),
  hasConfirmedPhone: z.boolean(),
  hasConfirmedEmail: z.boolean(),
  hasCertificate: z.boolean(),
});

const snapshotSchema = z.object({
  version: z.literal(1),
  threads: z.array(threadSchema),
  transactions: z.array(transactionSchema),
  users: z.record(z.string(), userFlagsSchema),
});

type Snapshot = z.infer<typeof snapshotSchema>;

/** Thrown when a stateDir holds a state file this version cannot read. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

/** File contents by key: uploaded originals (`<threadID>.original`) and signed copies (`<transactionID>.signed`). */
interface BlobStore {
  put(key: string, content: Uint8Array): void;
  get(key: string): Uint8Array | undefined;
}

class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();
  put(key: string, content: Uint8Array): void {
    this.blobs.set(key, content);
  }
  get(key: string): Uint8Array | undefined {
    return this.blobs.get(key);
  }
}

class DiskBlobStore implements BlobStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  put(key: string, content: Uint8Array): void {
    const path = join(this.dir, key);
    writeFileSync(`${path}.tmp`, content);
    renameSync(`${path}.tmp`, path);
  }
  get(key: string): Uint8Array | undefined {
    const path = join(this.dir, key);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
  }
}

export class SimulatorState {
  readonly threads = new Map<string, Thread>();
  readonly transactions = new Map<string, Transaction>();
  users: Record<string, UserFlags> = {};
  private readonly blobs: BlobStore;
  private readonly stateFile: string | undefined;

  constructor(stateDir?: string) {
    if (stateDir === undefined) {
      this.blobs = new MemoryBlobStore();
      return;
    }
    mkdirSync(stateDir, { recursive: true });
    this.blobs = new DiskBlobStore(join(stateDir, 'files'));
    this.stateFile = join(stateDir, 'state.json');
    this.load();
  }

  private load(): void {
    if (this.stateFile === undefined || !existsSync(this.stateFile)) return;
    let parsed: Snapshot;
    try {
      parsed = snapshotSchema.parse(JSON.parse(readFileSync(this.stateFile, 'utf8')));
    } catch (err) {
      throw new StateFileError(`cannot read simulator state ${this.stateFile}: ${(err as Error).message}`);
    }
    for (const t of parsed.threads) this.threads.set(t.threadID, t);
    for (const t of parsed.transactions) this.transactions.set(t.transactionID, t);
    this.users = parsed.users;
  }

  /** Writes the whole state (small: metadata only) atomically; call after every change. */
  save(): void {
    if (this.stateFile === undefined) return;
    const snapshot: Snapshot = {
      version: 1,
      threads: [...this.threads.values()],
      transactions: [...this.transactions.values()],
      users: this.users,
    };
    writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(snapshot));
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
  }

  // `index` is a group document's position; document 0 keeps the single-document key.
  putOriginal(threadID: string, content: Uint8Array, index = 0): void {
    this.blobs.put(`${threadID}.original${index === 0 ? '' : `.${index}`}`, content);
  }

  original(threadID: string, index = 0): Uint8Array | undefined {
    return this.blobs.get(`${threadID}.original${index === 0 ? '' : `.${index}`}`);
  }

  putSigned(transactionID: string, content: Uint8Array, index = 0): void {
    this.blobs.put(`${transactionID}.signed${index === 0 ? '' : `.${index}`}`, content);
  }

  signedCopy(transactionID: string, index = 0): Uint8Array | undefined {
    return this.blobs.get(`${transactionID}.signed${index === 0 ? '' : `.${index}`}`);
  }

  /** An id no thread or transaction has: 12 random digits (no leading zero), numeric like Evrotrust's. */
  newId(): string {
    for (;;) {
      const id = String(randomInt(100_000_000_000, 1_000_000_000_000));
      if (!this.threads.has(id) && !this.transactions.has(id)) return id;
    }
  }
}
