// POST /v1/signings as multipart/form-data (README "Business HTTP API"):
//
//   curl -H "Authorization: Bearer $API_TOKEN" \
//        -F file=@contract.pdf -F 'signers=[{"identificationNumber":"7501010010","country":"BG"}]' \
//        -F method=app -F expiresIn=3d http://127.0.0.1:3000/v1/signings
//
// Parts: `file` (the document; required, exactly one; its filename is the document's unless a
// `filename` field says otherwise), `signers` (a JSON array, as in the JSON body; required), and the
// optional text fields `filename`, `description`, `method`, `expiresIn`, `reference`, `signatureType`, `notifyUrl`.
// Any other part is refused, so a typo is not silently ignored. The file is read from its stream
// chunk by chunk (at most UPLOAD_BODY_LIMIT bytes): never Base64, never a string.
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { InvalidSigningRequestError } from './errors';
import type { StartSigningBytesRequest } from './schemas';
import { HttpError, isFastifyError } from '../http/errors';
import { parseSafeJson } from '../http/json';

export const TEXT_FIELDS = ['filename', 'description', 'method', 'expiresIn', 'reference', 'signatureType', 'notifyUrl'] as const;
type TextField = (typeof TEXT_FIELDS)[number];

/** Busboy's limits besides the file size: a handful of small fields and one file. */
export const MULTIPART_LIMITS = {
  fields: TEXT_FIELDS.length + 1,
  fieldSize: 64 * 1024,
  fieldNameSize: 100,
  files: 1,
  parts: TEXT_FIELDS.length + 2,
  headerPairs: 100,
} as const;

const tooLarge = (what: string): HttpError => new HttpError(413, 'too-large', what);

/** The multipart start request as the service's bytes request (validated by SigningService.start). */
export async function readMultipartStart(request: FastifyRequest, uploadLimit: number): Promise<StartSigningBytesRequest> {
  let file: { filename: string; content: Buffer } | undefined;
  let signers: unknown;
  const text: Partial<Record<TextField, string>> = {};
  const seen = new Set<string>();
  try {
    for await (const part of request.parts() as AsyncIterableIterator<Multipart>) {
      if (seen.has(part.fieldname)) throw new InvalidSigningRequestError(`the part ${part.fieldname} is given twice`);
      seen.add(part.fieldname);
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw new InvalidSigningRequestError(`the file must be the part named file, not ${part.fieldname}`);
        const chunks: Buffer[] = [];
        for await (const chunk of part.file) chunks.push(chunk as Buffer);
        if (part.file.truncated) throw tooLarge(`the file must be at most ${uploadLimit} bytes`);
        file = { filename: part.filename, content: Buffer.concat(chunks) };
        continue;
      }
      if (part.valueTruncated) throw tooLarge(`the part ${part.fieldname} must be at most ${MULTIPART_LIMITS.fieldSize} bytes`);
      if (part.fieldname === 'signers') {
        signers = typeof part.value === 'string' ? parseSafeJson(part.value) : part.value;
      } else if ((TEXT_FIELDS as readonly string[]).includes(part.fieldname)) {
        text[part.fieldname as TextField] = String(part.value);
      } else {
        throw new InvalidSigningRequestError(`unknown part ${part.fieldname}; the parts are file, signers, ${TEXT_FIELDS.join(', ')}`);
      }
    }
  } catch (err) {
    throw multipartError(err, uploadLimit);
  }
  if (!file) throw new InvalidSigningRequestError('the part file (the document) is required: curl -F file=@contract.pdf');
  if (file.content.byteLength === 0) throw new InvalidSigningRequestError('the part file is empty');
  if (signers === undefined) throw new InvalidSigningRequestError('the part signers (a JSON array of signers) is required');
  const { filename, description, ...rest } = text;
  return {
    ...rest,
    signers,
    document: {
      filename: filename ?? file.filename,
      content: file.content,
      ...(description !== undefined ? { description } : {}),
    },
  } as unknown as StartSigningBytesRequest; // SigningService.start validates it
}

/** @fastify/multipart's and busboy's refusals in the API's words (theirs may quote the request). */
function multipartError(err: unknown, uploadLimit: number): unknown {
  if (err instanceof HttpError) return err;
  if (!isFastifyError(err)) {
    // busboy: malformed multipart (no boundary, truncated data).
    return new HttpError(400, 'bad-request', 'the multipart/form-data body could not be read');
  }
  switch (err.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(`the file must be at most ${uploadLimit} bytes`);
    case 'FST_FILES_LIMIT':
      return new InvalidSigningRequestError('send exactly one file, in the part named file');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new InvalidSigningRequestError(`too many parts; the parts are file, signers, ${TEXT_FIELDS.join(', ')}`);
    case 'FST_PROTO_VIOLATION':
      return new InvalidSigningRequestError('a part name must not be a property of Object.prototype');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new InvalidSigningRequestError('the part signers is not valid JSON');
    default:
      return new HttpError(400, 'bad-request', 'the multipart/form-data body could not be read');
  }
}
